import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { EmailBackingOffError, EmailBeingSentError, type Outbox } from '../mail/outbox.js';
import type { RenderedEmail } from '../mail/templates.js';

/** Progress of a recipient list worked through a batch at a time, resumable from `last`. */
export interface BatchResult {
  sent: number;
  alreadySent: number;
  last: string | undefined;
  done: boolean;
}

export interface BatchCursor {
  after?: string | undefined;
  batchSize: number;
}

/** Restricts a query ordered by `column` to the page after the cursor. */
export function page<Q extends Knex.QueryBuilder>(query: Q, column: string, cursor: BatchCursor): Q {
  if (cursor.after) void query.where(column, '>', cursor.after);
  return query.orderBy(column).limit(cursor.batchSize) as Q;
}

export type Letter =
  | { key: string; recipient: string; email: RenderedEmail; dueAt?: Date | undefined }
  /** An email the letter function recorded in the outbox itself (with what it must commit with): sent by key. */
  | { key: string; queued: true };

/**
 * Mails one page of recipients through the outbox (so a retried activity never sends a key twice) and
 * reports where the list stands. A recipient whose email cannot go right now — backing off after a failed
 * attempt, or held by another sender — does not hold back the rest of the page: every other recipient is
 * mailed first, then the first such error is thrown, and the retried activity finds them sent (`alreadySent`)
 * and asks only for what is left.
 *
 * @throws EmailBackingOffError, EmailBeingSentError (retryable) once the rest of the page has been mailed.
 */
export async function mailPage<Row extends { id: string }>(
  outbox: Outbox,
  meta: { workflowId: string; purpose: string },
  cursor: BatchCursor,
  rows: Row[],
  letter: (row: Row) => Letter | Promise<Letter>,
): Promise<BatchResult> {
  let sent = 0;
  let alreadySent = 0;
  let waiting: Error | undefined;
  for (const row of rows) {
    const l = await letter(row);
    try {
      const result =
        'queued' in l
          ? await outbox.deliverQueued(l.key)
          : await outbox.deliver({
              idempotencyKey: l.key,
              workflowId: meta.workflowId,
              purpose: meta.purpose,
              recipient: l.recipient,
              dueAt: l.dueAt,
              ...l.email,
            });
      if (result === 'sent') sent += 1;
      else alreadySent += 1;
    } catch (err) {
      if (!(err instanceof EmailBackingOffError || err instanceof EmailBeingSentError)) throw err;
      waiting ??= err;
    }
    Context.current().heartbeat({ last: row.id });
  }
  if (waiting) throw waiting;
  return { sent, alreadySent, last: rows.at(-1)?.id ?? cursor.after, done: rows.length < cursor.batchSize };
}
