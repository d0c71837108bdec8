import { createHash } from 'node:crypto';
import { Context, log as activityLog } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import type { Logger } from '../platform/logger.js';
import type { MailTransport } from './transport.js';

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

/** `sent`: handed to SMTP now; `already_sent`: the outbox had it as sent, nothing was sent again. */
export type DeliveryResult = 'sent' | 'already_sent';

interface StoredEmail {
  id: number;
  purpose: string;
  workflow_id: string | null;
  message_id: string;
  recipient: string;
  subject: string;
  body_text: string;
  attempts: number;
}

/** Test hooks that simulate a crash at the two moments that matter. Never set in production code paths. */
export interface OutboxFaults {
  /** After the SMTP server accepted the message, before the outbox records it as sent. */
  afterSmtpAccepted?: (email: EmailRef) => void;
  /** After the outbox recorded the message as sent (the activity has not returned yet). */
  afterOutboxCommit?: (email: EmailRef) => void;
}

/**
 * Every email goes through an outbox row keyed by its idempotency key:
 *
 *  1. the row is created once (its subject and text are frozen then; a resend repeats them exactly);
 *  2. a row already marked sent is not sent again — a retried activity skips it;
 *  3. otherwise the message goes to SMTP with `X-Idempotency-Key` and a Message-ID derived from the key;
 *  4. the row is marked sent.
 *
 * The one window SMTP cannot close: a crash after the server accepted the message (3) and before the row
 * is marked sent (4). The retry sends it again — with the same Message-ID, so mail clients fold the two
 * copies into one. Closing that window would need the SMTP server to deduplicate on the key.
 */
export class Outbox {
  private readonly messageIdDomain: string;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly from: string,
    private readonly logger: Logger,
    private readonly faults: OutboxFaults = {},
  ) {
    this.messageIdDomain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'ronghe.example';
  }

  /** `<40 hex digits of sha256(key)@domain of the sender>`: the same key always yields the same Message-ID. */
  messageIdFor(idempotencyKey: string): string {
    const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
    return `<${digest}@${this.messageIdDomain}>`;
  }

  /**
   * Records the email as owed, inside the caller's transaction when there is one: a decision and the
   * email that announces it commit together. Recording it again is a no-op.
   */
  async enqueue(email: OutgoingEmail, db: Db = this.db): Promise<void> {
    await db('email_outbox')
      .insert({
        idempotency_key: email.idempotencyKey,
        message_id: this.messageIdFor(email.idempotencyKey),
        workflow_id: email.workflowId ?? null,
        purpose: email.purpose,
        recipient: email.recipient,
        subject: email.subject,
        body_text: email.text,
        status: 'pending',
        due_at: email.dueAt ?? null,
      })
      .onConflict('idempotency_key')
      .ignore();
  }

  /** Records (if new) and sends an email, unless the outbox has it as sent already. */
  async deliver(email: OutgoingEmail): Promise<DeliveryResult> {
    await this.enqueue(email);
    return this.sendPending(email.idempotencyKey);
  }

  /**
   * Tries once to send these emails (a decision's, after its commit). One that fails stays pending for the
   * outbox sweeper: a decision never fails, nor is repeated, because SMTP is down. Never throws.
   */
  async sendSoon(idempotencyKeys: readonly string[]): Promise<void> {
    for (const key of idempotencyKeys) {
      try {
        await this.sendPending(key);
      } catch {
        // logged by sendPending; the row stays pending for the sweeper
      }
    }
  }

  /** Sends every email of a workflow and purpose still owed (e.g. after a retried activity). */
  async deliverOwed(filter: { workflowId: string; purpose: string }): Promise<number> {
    const keys = (await this.db('email_outbox')
      .where({ workflow_id: filter.workflowId, purpose: filter.purpose, status: 'pending' })
      .orderBy('id')
      .pluck('idempotency_key')) as string[];
    let sent = 0;
    for (const key of keys) if ((await this.sendPending(key)) === 'sent') sent += 1;
    return sent;
  }

  private async sendPending(idempotencyKey: string): Promise<DeliveryResult> {
    // Only a row still pending is (re)sent; `attempts` counts the hand-overs to SMTP.
    const [stored] = await this.db('email_outbox')
      .where({ idempotency_key: idempotencyKey, status: 'pending' })
      .update({ attempts: this.db.raw('attempts + 1'), last_attempt_at: this.db.fn.now() })
      .returning<StoredEmail[]>([
        'id',
        'message_id',
        'recipient',
        'subject',
        'body_text',
        'attempts',
        'purpose',
        'workflow_id',
      ]);
    if (!stored) return 'already_sent';
    if (stored.attempts > 1) {
      this.log('warn', 'resending an email whose earlier attempt did not record success (same Message-ID)', {
        outboxId: stored.id,
        purpose: stored.purpose,
        attempts: stored.attempts,
      });
    }
    const email = {
      idempotencyKey,
      purpose: stored.purpose,
      recipient: stored.recipient,
      workflowId: stored.workflow_id,
    };
    try {
      await this.transport.send({
        from: this.from,
        to: stored.recipient,
        subject: stored.subject,
        text: stored.body_text,
        messageId: stored.message_id,
        headers: { 'X-Idempotency-Key': idempotencyKey, 'X-Ronghe-Purpose': stored.purpose },
      });
    } catch (err) {
      await this.db('email_outbox')
        .where({ id: stored.id })
        .update({ last_error: err instanceof Error ? err.message : String(err) });
      this.log('warn', 'email failed', {
        outboxId: stored.id,
        purpose: stored.purpose,
        attempts: stored.attempts,
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
    this.faults.afterSmtpAccepted?.(email);
    await this.db('email_outbox')
      .where({ id: stored.id })
      .update({ status: 'sent', sent_at: this.db.fn.now(), last_error: null });
    this.log('info', 'email sent', { outboxId: stored.id, purpose: stored.purpose, messageId: stored.message_id });
    this.faults.afterOutboxCommit?.(email);
    return 'sent';
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
