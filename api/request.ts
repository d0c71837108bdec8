import type { Request } from 'express';

/** The request id pino-http assigned (from X-Request-Id or a new UUID), for audit rows and problems. */
export function requestIdOf(req: Request): string | undefined {
  const id: unknown = req.id;
  return typeof id === 'string' ? id : undefined;
}
