import type { Db } from '../knex.js';

/** A request as its `Idempotency-Key` row identifies it. */
export interface KeyedRequest {
  caller: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

/**
 * What the first receipt under a key says about this one:
 * - `run`: new, or tried before without a final answer — this try holds the key (a lease) and runs, with the
 *   first receipt time and this attempt;
 * - `busy`: another try of the same request holds the key right now;
 * - `replay`: answered finally before — send that answer again;
 * - `mismatch`: the key was used for a different request (another body, path or method).
 */
export type KeyClaim =
  | { kind: 'run'; receivedAt: Date; attempt: number }
  | { kind: 'busy' }
  | { kind: 'replay'; status: number; body: unknown; headers: Record<string, string> }
  | { kind: 'mismatch'; method: string; path: string };

interface KeyRow {
  fingerprint: string;
  method: string;
  path: string;
  received_at: Date;
  status: 'in_flight' | 'final';
  attempt: number;
  response_status: number | null;
  response_body: unknown;
  response_headers: Record<string, string> | null;
}

/**
 * Records the receipt (once: a retry keeps the first receipt time) and tells how to answer this try. A try that
 * runs holds the key for `leaseMs` (wall-clock milliseconds) or until `recordFinalAnswer` / `releaseKey`; a
 * try whose holder died gets the key once the lease has run out.
 */
export async function claimKey(db: Db, request: KeyedRequest, receivedAt: Date, leaseMs: number): Promise<KeyClaim> {
  const lockedUntil = db.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]);
  const inserted = await db('idempotency_keys')
    .insert({ ...request, received_at: receivedAt, status: 'in_flight', locked_until: lockedUntil })
    .onConflict(['caller', 'key'])
    .ignore()
    .returning<{ attempt: number }[]>(['attempt']);
  if (inserted.length > 0) return { kind: 'run', receivedAt, attempt: inserted[0]!.attempt };
  const row = await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key })
    .first<KeyRow>(
      'fingerprint',
      'method',
      'path',
      'received_at',
      'status',
      'attempt',
      'response_status',
      'response_body',
      'response_headers',
    );
  if (row.fingerprint !== request.fingerprint) return { kind: 'mismatch', method: row.method, path: row.path };
  if (row.status === 'final') {
    return {
      kind: 'replay',
      status: row.response_status!,
      body: row.response_body,
      headers: row.response_headers ?? {},
    };
  }
  const [taken] = await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key, status: 'in_flight' })
    .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<', db.fn.now()))
    .update({ locked_until: lockedUntil })
    .returning<{ received_at: Date; attempt: number }[]>(['received_at', 'attempt']);
  return taken ? { kind: 'run', receivedAt: taken.received_at, attempt: taken.attempt } : { kind: 'busy' };
}

/** Keeps the first final answer (an acceptance, or a refusal of the person's request), with its headers. */
export async function recordFinalAnswer(
  db: Db,
  request: Pick<KeyedRequest, 'caller' | 'key'>,
  answer: { status: number; body: unknown; headers?: Record<string, string> | undefined },
): Promise<void> {
  await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key, status: 'in_flight' })
    .update({
      status: 'final',
      response_status: answer.status,
      response_body: JSON.stringify(answer.body ?? null),
      response_headers: JSON.stringify(answer.headers ?? {}),
      answered_at: db.fn.now(),
      locked_until: null,
    });
}

/**
 * A try ended without a final answer (ours: 503, a timeout): the key is free for the next try; with
 * `nextAttempt`, that try sends its Update under a new id (Temporal keeps a failed Update's outcome under its id).
 */
export async function releaseKey(
  db: Db,
  request: Pick<KeyedRequest, 'caller' | 'key'>,
  options: { nextAttempt: boolean },
): Promise<void> {
  await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key, status: 'in_flight' })
    .update({
      locked_until: null,
      ...(options.nextAttempt ? { attempt: db.raw('attempt + 1') } : {}),
    });
}
