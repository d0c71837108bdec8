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
 * - `run`: new, or tried before without a final answer — run it with the first receipt time and this attempt;
 * - `replay`: answered finally before — send that answer again;
 * - `mismatch`: the key was used for a different request (another body, path or method).
 */
export type KeyClaim =
  | { kind: 'run'; receivedAt: Date; attempt: number }
  | { kind: 'replay'; status: number; body: unknown }
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
}

/** Records the receipt (once: a retry keeps the first receipt time) and tells how to answer this try. */
export async function claimKey(db: Db, request: KeyedRequest, receivedAt: Date): Promise<KeyClaim> {
  await db('idempotency_keys')
    .insert({ ...request, received_at: receivedAt, status: 'in_flight' })
    .onConflict(['caller', 'key'])
    .ignore();
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
    );
  if (row.fingerprint !== request.fingerprint) return { kind: 'mismatch', method: row.method, path: row.path };
  if (row.status === 'final') return { kind: 'replay', status: row.response_status!, body: row.response_body };
  return { kind: 'run', receivedAt: row.received_at, attempt: row.attempt };
}

/** Keeps the first final answer (an acceptance, or a refusal of the person's request). */
export async function recordFinalAnswer(
  db: Db,
  request: Pick<KeyedRequest, 'caller' | 'key'>,
  answer: { status: number; body: unknown },
): Promise<void> {
  await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key, status: 'in_flight' })
    .update({
      status: 'final',
      response_status: answer.status,
      response_body: JSON.stringify(answer.body ?? null),
      answered_at: db.fn.now(),
    });
}

/** A try failed in a way Temporal keeps under its Update id: the next try sends its Update under a new one. */
export async function nextAttempt(db: Db, request: Pick<KeyedRequest, 'caller' | 'key'>): Promise<void> {
  await db('idempotency_keys')
    .where({ caller: request.caller, key: request.key, status: 'in_flight' })
    .increment('attempt', 1);
}
