import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import stableStringify from 'safe-stable-stringify';
import type { Db } from '../db/knex.js';
import { WAIT_CODES, type ErrorCode } from '../domain/errors.js';
import { claimKey, recordFinalAnswer, releaseKey, type KeyedRequest } from '../db/repositories/idempotency.js';
import type { Clock } from './clock.js';
import { AppError, isUpdateFailedWithoutRefusal, problemFor, sendProblem, type Problem } from './errors.js';

/** The header, as in the IETF draft "The Idempotency-Key HTTP Header Field". */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Printable ASCII without spaces, 1–200 characters (a UUID fits; so does any client's own scheme). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * The key of a mutating request, scoped to its caller (the principal's actor, or `public`), and the
 * fingerprint of what it asks: method, the route it reached (its pattern and path parameters, so
 * `/api/x/1/` and `/API/x/1`, which Express serves alike, are one request) and the JSON body, canonical
 * (sha256). `undefined` when the request carries no key or is not mutating.
 *
 * @throws AppError `VALIDATION_FAILED` for a malformed key.
 */
export function keyedRequest(
  req: Request,
  actor: string | undefined,
  route: { path: string; params: unknown },
): KeyedRequest | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const key = req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new AppError('VALIDATION_FAILED', `${IDEMPOTENCY_HEADER} 须为 1–200 个可见 ASCII 字符（不含空格）`);
  }
  // Canonical JSON (keys sorted): the same fields in another order are the same request.
  const fingerprint = createHash('sha256')
    .update(
      `${req.method} ${route.path} ${stableStringify(route.params ?? null)}\n${stableStringify(req.body ?? null)}`,
    )
    .digest('hex');
  return { caller: actor ?? 'public', key, method: req.method, path: req.path, fingerprint };
}

/**
 * Whether an answer is final and kept under its key: an acceptance, or a refusal of the person's request.
 * Ours — 5xx, and 408/429 (try again later) — is not kept, nor a refusal that means "not now" (`WAIT_CODES`,
 * e.g. 409 SUBMISSION_IN_PROGRESS): the retry runs again.
 */
export function isFinalAnswer(status: number, code?: string): boolean {
  return status < 500 && status !== 408 && status !== 429 && !(code && WAIT_CODES.has(code as ErrorCode));
}

/**
 * The Update id for one try of a keyed request: caller, key and attempt. Temporal deduplicates Updates by id,
 * so a retry while the first Update still runs attaches to it; the attempt moves on only after a try whose
 * failure Temporal would otherwise keep.
 */
export function updateIdFor(request: KeyedRequest, attempt: number): string {
  return `${request.caller}/${request.key}#${attempt}`;
}

/** How long a try holds its key (wall-clock milliseconds): longer than any request may take. */
const KEY_LEASE_MS = 60_000;

/** A handler's answer, as far as the key's record needs it. */
interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string> | undefined;
  stream?: unknown;
}

/**
 * Runs a mutating request at most once per key and keeps its first final answer. Without a key it just runs
 * (receipt time: now). With one: a replay is answered here (the stored status, body and headers, with
 * `Idempotent-Replayed: true`) and `undefined` returned; a try while another holds the key is 409
 * `IDEMPOTENCY_KEY_IN_USE` (with Retry-After); otherwise `run` gets the first receipt time and the Update id of
 * this attempt, and its answer — or its refusal — is kept when final (`isFinalAnswer`). A try that ends in a 503
 * frees the key; one whose Update failed without a refusal also moves the attempt on.
 *
 * @throws AppError `IDEMPOTENCY_KEY_REUSED`, `IDEMPOTENCY_KEY_IN_USE`; whatever `run` throws.
 */
export async function answerOnce<A extends Answer>(
  deps: { db: Db; clock: Clock },
  request: { req: Request; res: Response; keyed: KeyedRequest | undefined },
  run: (receipt: { receivedAt: Date; updateId: string | undefined }) => Promise<A>,
): Promise<A | undefined> {
  const { req, res, keyed } = request;
  if (!keyed) return run({ receivedAt: deps.clock(), updateId: undefined });
  const claim = await claimKey(deps.db, keyed, deps.clock(), KEY_LEASE_MS);
  if (claim.kind === 'mismatch') {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      `该 ${IDEMPOTENCY_HEADER} 已用于另一项请求（${claim.method} ${claim.path}），请为新的请求使用新的键`,
    );
  }
  if (claim.kind === 'busy') {
    throw new AppError('IDEMPOTENCY_KEY_IN_USE', `使用同一 ${IDEMPOTENCY_HEADER} 的请求正在处理中，请稍后重试`);
  }
  if (claim.kind === 'replay') {
    res.setHeader('Idempotent-Replayed', 'true');
    for (const [name, value] of Object.entries(claim.headers)) res.setHeader(name, value);
    if (claim.status >= 400) sendProblem(res, claim.body as Problem);
    else if (claim.body === null) res.status(claim.status).end();
    else res.status(claim.status).json(claim.body);
    return undefined;
  }
  let answer: A;
  try {
    answer = await run({ receivedAt: claim.receivedAt, updateId: updateIdFor(keyed, claim.attempt) });
  } catch (err) {
    const { problem } = problemFor(err, req);
    if (isFinalAnswer(problem.status, problem.code))
      await recordFinalAnswer(deps.db, keyed, { status: problem.status, body: problem });
    else await releaseKey(deps.db, keyed, { nextAttempt: isUpdateFailedWithoutRefusal(err) });
    throw err;
  }
  if (answer.stream) await releaseKey(deps.db, keyed, { nextAttempt: false });
  else
    await recordFinalAnswer(deps.db, keyed, {
      status: answer.status,
      body: answer.body ?? null,
      headers: answer.headers,
    });
  return answer;
}
