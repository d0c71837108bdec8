import { createHash } from 'node:crypto';
import type { Db } from '../db/knex.js';
import type { Logger } from '../platform/logger.js';
import type { MailTransport } from './transport.js';

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
}

export type DeliveryResult = 'sent' | 'already_sent';

interface StoredEmail {
  id: number;
  message_id: string;
  recipient: string;
  subject: string;
  body_text: string;
  attempts: number;
}

/** Test hooks that simulate a crash at the two moments that matter. Never set in production code paths. */
export interface OutboxFaults {
  /** After the SMTP server accepted the message, before the outbox records it as sent. */
  afterSmtpAccepted?: (email: OutgoingEmail) => void;
  /** After the outbox recorded the message as sent (the activity has not returned yet). */
  afterOutboxCommit?: (email: OutgoingEmail) => void;
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

  messageIdFor(idempotencyKey: string): string {
    const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
    return `<${digest}@${this.messageIdDomain}>`;
  }

  async deliver(email: OutgoingEmail): Promise<DeliveryResult> {
    await this.db('email_outbox')
      .insert({
        idempotency_key: email.idempotencyKey,
        message_id: this.messageIdFor(email.idempotencyKey),
        workflow_id: email.workflowId ?? null,
        purpose: email.purpose,
        recipient: email.recipient,
        subject: email.subject,
        body_text: email.text,
        status: 'pending',
      })
      .onConflict('idempotency_key')
      .ignore();
    // Only a row still pending is (re)sent; `attempts` counts the hand-overs to SMTP.
    const [stored] = await this.db('email_outbox')
      .where({ idempotency_key: email.idempotencyKey, status: 'pending' })
      .update({ attempts: this.db.raw('attempts + 1'), last_attempt_at: this.db.fn.now() })
      .returning<StoredEmail[]>(['id', 'message_id', 'recipient', 'subject', 'body_text', 'attempts']);
    if (!stored) return 'already_sent';
    if (stored.attempts > 1) {
      this.logger.warn(
        { key: email.idempotencyKey, attempts: stored.attempts },
        'resending an email whose earlier attempt did not record success (same Message-ID)',
      );
    }
    try {
      await this.transport.send({
        from: this.from,
        to: stored.recipient,
        subject: stored.subject,
        text: stored.body_text,
        messageId: stored.message_id,
        headers: { 'X-Idempotency-Key': email.idempotencyKey, 'X-Ronghe-Purpose': email.purpose },
      });
    } catch (err) {
      await this.db('email_outbox')
        .where({ id: stored.id })
        .update({ last_error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.faults.afterSmtpAccepted?.(email);
    await this.db('email_outbox')
      .where({ id: stored.id })
      .update({ status: 'sent', sent_at: this.db.fn.now(), last_error: null });
    this.faults.afterOutboxCommit?.(email);
    return 'sent';
  }
}
