import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { Context, log as activityLog } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import type { Logger } from '../platform/logger.js';
import { InvalidRecipientError, isSingleMailbox } from './address.js';
import { DEFAULT_LETTERHEAD, signNotice, type Letterhead } from './templates/common.js';
import type { MailTransport } from './transport.js';

/** How long a decision's activity spends handing its emails to SMTP before it leaves the rest to the sweeper. */
export const SEND_SOON_BUDGET_MS = 10_000;

/** One email as an activity hands it to the outbox: a rendered template, its recipient and its identity. */
export interface OutgoingEmail {
  /**
   * Unique per occasion: workflow id + purpose + recipient + whatever else makes it one email (deadline,
   * year, attempt). The same key is never delivered twice once the outbox has recorded it as sent.
   */
  idempotencyKey: string;
  workflowId?: string | undefined;
  purpose: string;
  recipient: string;
  subject: string;
  text: string;
  /** The workflow time at which the email was due (a reminder's 09:00), for the record. */
  dueAt?: Date | undefined;
}

/** What the fault hooks see of an email. */
export interface EmailRef {
  idempotencyKey: string;
  purpose: string;
  recipient: string;
  workflowId: string | null;
}

/**
 * `sent`: handed to SMTP now; `already_sent`: the outbox had it as sent, nothing was sent again; `failed`:
 * the outbox gave up on it after its last allowed attempt (it waits for staff to resend it), or refused its
 * recipient (not a single plain mailbox: failed at once, never retried); nothing was sent.
 */
export type DeliveryResult = 'sent' | 'already_sent' | 'failed';

/** A row's life: `pending` → (claimed) `sending` → `sent`, or back to `pending`, or after the last attempt `failed`. */
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

interface ClaimedEmail {
  id: number;
  idempotency_key: string;
  purpose: string;
  workflow_id: string | null;
  message_id: string;
  recipient: string;
  subject: string;
  body_text: string;
  attempts: number;
  claim_token: string;
}

const CLAIMED_COLUMNS = [
  'id',
  'idempotency_key',
  'message_id',
  'recipient',
  'subject',
  'body_text',
  'attempts',
  'purpose',
  'workflow_id',
  'claim_token',
] as const;

/** Test hooks that simulate a failure or a crash at the moments that matter. Never set in production code paths. */
export interface OutboxFaults {
  /** Just before the message is handed to SMTP: throwing here is an SMTP failure (refused, unreachable). */
  beforeSmtp?: (email: EmailRef) => void;
  /** After the SMTP server accepted the message, before the outbox records it as sent. */
  afterSmtpAccepted?: (email: EmailRef) => void;
  /** After the outbox recorded the message as sent (the activity has not returned yet). */
  afterOutboxCommit?: (email: EmailRef) => void;
}

/** How the outbox retries and claims. Every field has a default (see `DEFAULT_OUTBOX_POLICY`). */
export interface OutboxPolicy {
  /** Hand-overs to SMTP before a row is `failed` (OUTBOX_MAX_ATTEMPTS, default 8). */
  maxAttempts: number;
  /**
   * Seconds before the attempt after the first failure; each further failure doubles it, up to an hour
   * (OUTBOX_RETRY_SECONDS, default 30: 30 s, 1 min, 2 min … so 8 attempts span about an hour).
   */
  retrySeconds: number;
  /**
   * How long a claim holds, in seconds; a claim is renewed before each message of a batch (default 60: longer
   * than one SMTP hand-over may take, 10 + 10 + 20 s, and short enough that a killed sender's rows are not
   * held back for long — a mailing job waits on them).
   */
  leaseSeconds: number;
  /**
   * Seconds a freshly enqueued row is left to the activity that enqueued it before the sweeper may take it
   * (default 30): the sweeper is for rows their sender left behind, not a race with it.
   */
  graceSeconds: number;
  /** Who claims: recorded in `claimed_by` (default `<pid>@<host>`, as Temporal names a worker). */
  identity: string;
}

/** The outbox's defaults; see `OutboxPolicy`. */
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = {
  maxAttempts: 8,
  retrySeconds: 30,
  leaseSeconds: 60,
  graceSeconds: 30,
  identity: `${process.pid}@${os.hostname()}`,
};

/** The longest back-off between two attempts, in seconds. */
const MAX_BACKOFF_SECONDS = 3600;

/** What one sweep did: rows claimed, sent, returned to pending after a failure, and given up on (`failed`). */
export interface SweepResult {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
}

/**
 * A row is owed but its last attempt failed and its next one is not due yet (`next_attempt_at`): the caller
 * should ask again later (an activity's retry does). Retryable.
 */
export class EmailBackingOffError extends Error {
  override name = 'EmailBackingOffError';
}

/** Another sender holds a live claim on the row; asking again later finds it sent (or its claim expired). */
export class EmailBeingSentError extends Error {
  override name = 'EmailBeingSentError';
}

/** `<40 hex digits of sha256(key)@domain of the sender>`: the same key always yields the same Message-ID. */
export function outboxMessageId(idempotencyKey: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'ronghe.example';
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `<${digest}@${domain}>`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Every email goes through an outbox row keyed by its idempotency key:
 *
 *  1. the row is created once (its subject and text are frozen then; a resend repeats them exactly);
 *  2. a sender claims the row before sending (`pending` → `sending` with a lease): of two senders — two
 *     worker processes, an activity and the sweeper — only one gets it; a row already sent is not sent again;
 *  3. the message goes to SMTP with `X-Idempotency-Key` and a Message-ID derived from the key;
 *  4. the row is marked sent. A failed hand-over returns it to `pending` with the error and a backed-off
 *     next attempt; after `maxAttempts` it is `failed` with the SMTP error, for staff to resend.
 *
 * Rows nobody sends (a crash between a decision's commit and its send, SMTP down) are sent by the sweeper
 * (`sweep`, run by the `outboxSweeperWorkflow`), as are claims whose lease ran out.
 *
 * The one window SMTP cannot close: a crash after the server accepted the message (3) and before the row
 * is marked sent (4). The row is sent again — with the same Message-ID, so mail clients fold the two
 * copies into one. Closing that window would need the SMTP server to deduplicate on the key.
 */
export class Outbox {
  private readonly policy: OutboxPolicy;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly from: string,
    private readonly logger: Logger,
    private readonly faults: OutboxFaults = {},
    policy: Partial<OutboxPolicy> = {},
    private readonly letterhead: Letterhead = DEFAULT_LETTERHEAD,
  ) {
    this.policy = { ...DEFAULT_OUTBOX_POLICY, ...policy };
  }

  /**
   * Records the email as owed, inside the caller's transaction when there is one: a decision and the
   * email that announces it commit together. Recording it again is a no-op. The body is stored signed
   * (`signNotice`: issuer, date of issue — the email's `dueAt`, else now — and contact of the letterhead).
   */
  async enqueue(email: OutgoingEmail, db: Db = this.db): Promise<void> {
    await db('email_outbox')
      .insert({
        idempotency_key: email.idempotencyKey,
        message_id: outboxMessageId(email.idempotencyKey, this.from),
        workflow_id: email.workflowId ?? null,
        purpose: email.purpose,
        recipient: email.recipient,
        subject: email.subject,
        body_text: signNotice(email.text, this.letterhead, email.dueAt ?? new Date()),
        status: 'pending',
        due_at: email.dueAt ?? null,
        next_attempt_at: db.raw('now() + make_interval(secs => ?)', [this.policy.graceSeconds]),
      })
      .onConflict('idempotency_key')
      .ignore();
  }

  /**
   * Records (if new) and sends an email, unless the outbox has it as sent already (`already_sent`) or gave up
   * on it (`failed`). Throws the SMTP error when the hand-over fails (the row is pending again, backing off),
   * `EmailBackingOffError` when an earlier attempt failed and the next is not due yet, `EmailBeingSentError`
   * when another sender holds it: a retried activity asks again later.
   */
  async deliver(email: OutgoingEmail): Promise<DeliveryResult> {
    await this.enqueue(email);
    return this.sendKey(email.idempotencyKey);
  }

  /**
   * Sends an email already recorded with `enqueue` (inside the caller's transaction), as `deliver` does: unless
   * the outbox has it as sent or failed. Throws as `deliver` does.
   */
  async deliverQueued(idempotencyKey: string): Promise<DeliveryResult> {
    return this.sendKey(idempotencyKey);
  }

  /**
   * Tries once to send these emails (a decision's, after its commit), for at most `budgetMs` wall-clock
   * milliseconds. One that fails, or is not reached in time, stays pending for the outbox sweeper: a decision
   * never fails, nor is repeated, nor outlives its activity timeout because SMTP is down or slow. Never throws.
   */
  async sendSoon(idempotencyKeys: readonly string[], budgetMs = SEND_SOON_BUDGET_MS): Promise<void> {
    const stopAt = Date.now() + budgetMs;
    for (const key of idempotencyKeys) {
      // What is left once the budget is spent stays owed: the sweeper sends it, the decision returns now.
      if (Date.now() >= stopAt) return;
      try {
        await this.sendKey(key);
      } catch {
        // logged where it failed; the row stays owed and the sweeper sends it
      }
    }
  }

  /**
   * Sends every email of a workflow and purpose still owed (e.g. after a retried activity); returns how
   * many were sent now. Throws as `deliver` does, on the first that cannot be sent now.
   */
  async deliverOwed(filter: { workflowId: string; purpose: string }): Promise<number> {
    const keys = (await this.db('email_outbox')
      .where({ workflow_id: filter.workflowId, purpose: filter.purpose })
      .whereIn('status', ['pending', 'sending'])
      .orderBy('id')
      .pluck('idempotency_key')) as string[];
    let sent = 0;
    for (const key of keys) if ((await this.sendKey(key)) === 'sent') sent += 1;
    return sent;
  }

  /**
   * Claims up to `batchSize` rows nobody is sending — pending rows whose next attempt is due, and claims
   * whose lease ran out — in one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so concurrent
   * sweeps (in any number of processes) take disjoint rows, and sends them. `progress` is called after each
   * row (an activity heartbeats there). A row that fails is recorded and counted, never thrown: the batch
   * goes on. Throws only when the database does.
   */
  async sweep(batchSize: number, progress: () => void = () => undefined): Promise<SweepResult> {
    const token = randomUUID();
    const { rows } = await this.db.raw<{ rows: ClaimedEmail[] }>(
      `update email_outbox
          set status = 'sending', claimed_by = ?, claim_token = ?,
              claimed_until = now() + make_interval(secs => ?),
              attempts = attempts + 1, last_attempt_at = now()
        where id in (
                select id from email_outbox
                 where (status = 'pending' and next_attempt_at <= now())
                    or (status = 'sending' and claimed_until < now())
                 order by id
                 limit ?
                   for update skip locked)
       returning ${CLAIMED_COLUMNS.join(', ')}`,
      [this.policy.identity, token, this.policy.leaseSeconds, batchSize],
    );
    const result: SweepResult = { claimed: rows.length, sent: 0, retrying: 0, failed: 0 };
    for (const row of rows.sort((a, b) => a.id - b.id)) {
      // The claim covers the batch; it is renewed before each message, so a long batch never outlives it.
      const renewed = await this.db('email_outbox')
        .where({ id: row.id, claim_token: token, status: 'sending' })
        .update({ claimed_until: this.db.raw('now() + make_interval(secs => ?)', [this.policy.leaseSeconds]) });
      if (renewed === 1 && (await this.refusedRecipient(row))) {
        result.failed += 1;
      } else if (renewed === 1) {
        try {
          await this.send(row);
          result.sent += 1;
        } catch {
          const status = await this.statusOf(row.idempotency_key);
          if (status === 'failed') result.failed += 1;
          else result.retrying += 1;
        }
      }
      progress();
    }
    return result;
  }

  private async statusOf(idempotencyKey: string): Promise<OutboxStatus | undefined> {
    const row = await this.db('email_outbox')
      .where({ idempotency_key: idempotencyKey })
      .first<{ status: OutboxStatus } | undefined>('status');
    return row?.status;
  }

  /**
   * Claims the row of this key and sends it. The sender that enqueued a row may claim it at once; after a
   * failure it waits for the row's back-off like everyone else.
   */
  private async sendKey(idempotencyKey: string): Promise<DeliveryResult> {
    const [claimed] = await this.db('email_outbox')
      .where({ idempotency_key: idempotencyKey })
      .where((q) =>
        q
          .where((p) =>
            p
              .where({ status: 'pending' })
              .where((d) => d.where({ attempts: 0 }).orWhere('next_attempt_at', '<=', this.db.fn.now())),
          )
          .orWhere((s) => s.where({ status: 'sending' }).where('claimed_until', '<', this.db.fn.now())),
      )
      .update({
        status: 'sending',
        claimed_by: this.policy.identity,
        claim_token: randomUUID(),
        claimed_until: this.db.raw('now() + make_interval(secs => ?)', [this.policy.leaseSeconds]),
        attempts: this.db.raw('attempts + 1'),
        last_attempt_at: this.db.fn.now(),
      })
      .returning<ClaimedEmail[]>([...CLAIMED_COLUMNS]);
    if (claimed) {
      if (await this.refusedRecipient(claimed)) return 'failed';
      await this.send(claimed);
      return 'sent';
    }
    const row = await this.db('email_outbox')
      .where({ idempotency_key: idempotencyKey })
      .first<{ status: OutboxStatus; next_attempt_at: Date; last_error: string | null } | undefined>(
        'status',
        'next_attempt_at',
        'last_error',
      );
    if (!row) throw new Error(`no outbox row for ${idempotencyKey}`);
    if (row.status === 'sent') return 'already_sent';
    if (row.status === 'failed') return 'failed';
    if (row.status === 'sending') throw new EmailBeingSentError(`another sender is sending ${idempotencyKey}`);
    throw new EmailBackingOffError(
      `${idempotencyKey}: next attempt at ${row.next_attempt_at.toISOString()} (last error: ${row.last_error ?? '-'})`,
    );
  }

  /**
   * A claimed row whose recipient is not a single plain mailbox (`a@x.example;b`, `A <a@x.example>`, a list,
   * CR/LF: header injection) is `failed` at once, with the reason in `last_error`, and never handed to SMTP:
   * no attempt would succeed, and sending might reach more than one person. Returns whether it was refused.
   */
  private async refusedRecipient(row: ClaimedEmail): Promise<boolean> {
    if (isSingleMailbox(row.recipient)) return false;
    await this.db('email_outbox').where({ id: row.id, claim_token: row.claim_token }).update({
      status: 'failed',
      last_error: new InvalidRecipientError().message,
      claimed_until: null,
      claim_token: null,
      failed_at: this.db.fn.now(),
    });
    this.log('warn', 'email refused: its recipient is not a single plain mailbox (nothing sent)', {
      outboxId: row.id,
      purpose: row.purpose,
    });
    return true;
  }

  /** Hands a claimed row to SMTP and records the outcome under its claim. Throws what failed. */
  private async send(row: ClaimedEmail): Promise<void> {
    if (row.attempts > 1) {
      this.log('warn', 'resending an email whose earlier attempt did not record success (same Message-ID)', {
        outboxId: row.id,
        purpose: row.purpose,
        attempts: row.attempts,
      });
    }
    const email: EmailRef = {
      idempotencyKey: row.idempotency_key,
      purpose: row.purpose,
      recipient: row.recipient,
      workflowId: row.workflow_id,
    };
    try {
      this.faults.beforeSmtp?.(email);
      await this.transport.send({
        from: this.from,
        to: row.recipient,
        subject: row.subject,
        text: row.body_text,
        messageId: row.message_id,
        headers: { 'X-Idempotency-Key': row.idempotency_key, 'X-Ronghe-Purpose': row.purpose },
      });
    } catch (err) {
      await this.recordFailure(row, err);
      throw err;
    }
    try {
      this.faults.afterSmtpAccepted?.(email);
      const marked = await this.db('email_outbox').where({ id: row.id, claim_token: row.claim_token }).update({
        status: 'sent',
        sent_at: this.db.fn.now(),
        last_error: null,
        claimed_until: null,
        claim_token: null,
      });
      if (marked === 0) {
        this.log('warn', 'an email was sent after its claim had lapsed: it may go out twice (same Message-ID)', {
          outboxId: row.id,
          purpose: row.purpose,
        });
      }
    } catch (err) {
      // Between SMTP's acceptance and the record: the claim is released so that a retry resends at once, with
      // the same Message-ID. (A crash here runs nothing: the claim then lapses after its lease.)
      await this.db('email_outbox')
        .where({ id: row.id, claim_token: row.claim_token })
        .update({ status: 'pending', claimed_until: null, claim_token: null, next_attempt_at: this.db.fn.now() })
        .catch(() => undefined);
      throw err;
    }
    this.log('info', 'email sent', { outboxId: row.id, purpose: row.purpose, messageId: row.message_id });
    this.faults.afterOutboxCommit?.(email);
  }

  /**
   * A failed hand-over: the row is pending again with the error and a back-off of `retrySeconds` doubled per
   * earlier attempt (at most an hour), or `failed` once it has had `maxAttempts`.
   */
  private async recordFailure(row: ClaimedEmail, err: unknown): Promise<void> {
    const error = messageOf(err);
    const giveUp = row.attempts >= this.policy.maxAttempts;
    const backoff = Math.min(this.policy.retrySeconds * 2 ** (row.attempts - 1), MAX_BACKOFF_SECONDS);
    await this.db('email_outbox')
      .where({ id: row.id, claim_token: row.claim_token })
      .update({
        status: giveUp ? 'failed' : 'pending',
        last_error: error,
        claimed_until: null,
        claim_token: null,
        next_attempt_at: this.db.raw('now() + make_interval(secs => ?)', [backoff]),
        failed_at: giveUp ? this.db.fn.now() : null,
      });
    this.log('warn', giveUp ? 'email failed for the last time: staff may resend it' : 'email failed', {
      outboxId: row.id,
      purpose: row.purpose,
      attempts: row.attempts,
      error,
    });
  }

  /**
   * Inside an activity, through Temporal's activity logger (it adds workflow id, run id and activity type);
   * elsewhere through the process logger. Recipients are personal data and are not logged: the outbox id
   * leads to the row.
   */
  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    let inActivity = false;
    try {
      Context.current();
      inActivity = true;
    } catch {
      // not inside an activity
    }
    if (inActivity) activityLog[level](message, fields);
    else this.logger[level](fields, message);
  }
}
