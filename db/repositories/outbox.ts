import type { Db } from '../knex.js';

/** Emails of one workflow by purpose: sent, and still owed. */
export async function emailCountsByPurpose(
  db: Db,
  workflowId: string,
): Promise<Record<string, { sent: number; pending: number }>> {
  const rows = await db('email_outbox')
    .where({ workflow_id: workflowId })
    .groupBy('purpose', 'status')
    .select<{ purpose: string; status: string; n: number }[]>('purpose', 'status', db.raw('count(*)::int as n'));
  const counts: Record<string, { sent: number; pending: number }> = {};
  for (const r of rows) {
    counts[r.purpose] ??= { sent: 0, pending: 0 };
    counts[r.purpose]![r.status === 'sent' ? 'sent' : 'pending'] += r.n;
  }
  return counts;
}

/** One outbox row as staff see it (no body text). Times are instants; `id` orders the rows. */
export interface OutboxEntry {
  id: number;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  recipient: string;
  purpose: string;
  subject: string;
  workflowId: string | null;
  messageId: string;
  attempts: number;
  lastError: string | null;
  claimedBy: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  sentAt: Date | null;
  failedAt: Date | null;
}

interface OutboxRow {
  id: number;
  status: OutboxEntry['status'];
  recipient: string;
  purpose: string;
  subject: string;
  workflow_id: string | null;
  message_id: string;
  attempts: number;
  last_error: string | null;
  claimed_by: string | null;
  created_at: Date;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  failed_at: Date | null;
}

const ENTRY_COLUMNS = [
  'id',
  'status',
  'recipient',
  'purpose',
  'subject',
  'workflow_id',
  'message_id',
  'attempts',
  'last_error',
  'claimed_by',
  'created_at',
  'last_attempt_at',
  'next_attempt_at',
  'sent_at',
  'failed_at',
] as const;

function entryOf(r: OutboxRow): OutboxEntry {
  return {
    id: r.id,
    status: r.status,
    recipient: r.recipient,
    purpose: r.purpose,
    subject: r.subject,
    workflowId: r.workflow_id,
    messageId: r.message_id,
    attempts: r.attempts,
    lastError: r.last_error,
    claimedBy: r.claimed_by,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    // Only a pending row has a next attempt.
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
    sentAt: r.sent_at,
    failedAt: r.failed_at,
  };
}

/** A page of outbox rows, optionally of one status, ordered by id, after the id `after`; at most `limit`. */
export async function listOutbox(
  db: Db,
  filter: { status?: OutboxEntry['status'] | undefined; after?: number | undefined; limit: number },
): Promise<OutboxEntry[]> {
  const q = db('email_outbox').select<OutboxRow[]>(...ENTRY_COLUMNS);
  if (filter.status) void q.where({ status: filter.status });
  if (filter.after !== undefined) void q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit)).map(entryOf);
}

/** One outbox row, or undefined. */
export async function findOutboxEntry(db: Db, id: number): Promise<OutboxEntry | undefined> {
  const row = await db('email_outbox')
    .where({ id })
    .first<OutboxRow | undefined>(...ENTRY_COLUMNS);
  return row ? entryOf(row) : undefined;
}

/**
 * Puts a `failed` or `sent` row back to `pending`, due now, its attempts reset; its idempotency key, Message-ID,
 * subject and text are kept, so the resend is the same message. Returns the row as it is now, or undefined
 * when the row is not failed or sent (still owed, or being sent) — or does not exist.
 */
export async function requeueOutboxEntry(db: Db, id: number): Promise<OutboxEntry | undefined> {
  const [row] = await db('email_outbox')
    .where({ id })
    .whereIn('status', ['failed', 'sent'])
    .update({
      status: 'pending',
      attempts: 0,
      next_attempt_at: db.fn.now(),
      claimed_until: null,
      claim_token: null,
      failed_at: null,
      sent_at: null,
    })
    .returning<OutboxRow[]>([...ENTRY_COLUMNS]);
  return row ? entryOf(row) : undefined;
}
