import pino from 'pino';
import pretty from 'pino-pretty';

/** The small logging surface the rest of the code depends on (pino satisfies it). */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level: string;
  /** Human-readable lines for a terminal; JSON lines otherwise (production, CI, log shippers). */
  pretty?: boolean;
  name?: string;
}

/** A pino logger at `level`; credentials in request headers and password fields are redacted. */
export function createLogger(options: LoggerOptions): pino.Logger {
  const base = {
    level: options.level,
    redact: ['req.headers.authorization', '*.authorization', 'password', '*.password'],
    ...(options.name ? { name: options.name } : {}),
  };
  if (options.pretty) {
    return pino(
      base,
      pretty({ sync: true, colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }),
    );
  }
  return pino(base);
}
