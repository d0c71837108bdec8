import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { KeyedRequest } from '../db/repositories/idempotency.js';
import { AppError } from './errors.js';

/** The header, as in the IETF draft "The Idempotency-Key HTTP Header Field". */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Printable ASCII without spaces, 1–200 characters (a UUID fits; so does any client's own scheme). */
const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The key of a mutating request, scoped to its caller (the principal's actor, or `public`), and the
 * fingerprint of what it asks: method, path and JSON body (sha256). `undefined` when the request carries no
 * key or is not mutating.
 *
 * @throws AppError `VALIDATION_FAILED` for a malformed key.
 */
export function keyedRequest(req: Request, actor: string | undefined): KeyedRequest | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const key = req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return undefined;
  if (!KEY.test(key)) {
    throw new AppError('VALIDATION_FAILED', `${IDEMPOTENCY_HEADER} 须为 1–200 个可见 ASCII 字符（不含空格）`);
  }
  const fingerprint = createHash('sha256')
    .update(`${req.method} ${req.path}\n${JSON.stringify(req.body ?? null)}`)
    .digest('hex');
  return { caller: actor ?? 'public', key, method: req.method, path: req.path, fingerprint };
}

/**
 * Whether an answer is final and kept under its key: an acceptance, or a refusal of the person's request.
 * Ours — 5xx, and 408/429 (try again later) — is not kept: the retry runs again.
 */
export function isFinalAnswer(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}

/**
 * The Update id for one try of a keyed request: caller, key and attempt. Temporal deduplicates Updates by id,
 * so a retry while the first Update still runs attaches to it; the attempt moves on only after a try whose
 * failure Temporal would otherwise keep.
 */
export function updateIdFor(request: KeyedRequest, attempt: number): string {
  return `${request.caller}/${request.key}#${attempt}`;
}
