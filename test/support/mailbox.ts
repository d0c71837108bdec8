import { setTimeout as delay } from 'node:timers/promises';

export interface ReceivedEmail {
  to: string;
  subject: string;
  text: string;
  purpose: string | undefined;
  idempotencyKey: string | undefined;
  messageId: string | undefined;
}

interface MaildevEmail {
  subject: string;
  text?: string;
  to: { address: string }[];
  headers: Record<string, string | undefined>;
}

/** Reads what the real SMTP sink (maildev) received, through its REST API. */
export class Mailbox {
  constructor(private readonly apiUrl: string) {}

  async list(): Promise<ReceivedEmail[]> {
    const res = await fetch(`${this.apiUrl}/email`);
    if (!res.ok) throw new Error(`maildev answered ${res.status}`);
    const emails = (await res.json()) as MaildevEmail[];
    return emails.flatMap((e) =>
      e.to.map((to) => ({
        to: to.address,
        subject: e.subject,
        text: e.text ?? '',
        purpose: e.headers['x-ronghe-purpose'],
        idempotencyKey: e.headers['x-idempotency-key'],
        messageId: e.headers['message-id'],
      })),
    );
  }

  async clear(): Promise<void> {
    await fetch(`${this.apiUrl}/email/all`, { method: 'DELETE' });
  }

  /** Waits until at least `count` emails arrived and no more arrive for `settleMs`. */
  async waitForCount(count: number, { timeoutMs = 30_000, settleMs = 500 } = {}): Promise<ReceivedEmail[]> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    for (;;) {
      const emails = await this.list();
      if (emails.length >= count && emails.length === last) return emails;
      if (Date.now() > deadline) {
        throw new Error(`expected at least ${count} emails, the sink holds ${emails.length} after ${timeoutMs} ms`);
      }
      last = emails.length >= count ? emails.length : -1;
      await delay(emails.length >= count ? settleMs : 100);
    }
  }
}

/** "recipient purpose" pairs, sorted: the shape the end-to-end tests compare exactly. */
export function recipientPurposePairs(emails: { to: string; purpose: string | undefined }[]): string[] {
  return emails.map((e) => `${e.to} ${e.purpose ?? '(none)'}`).sort();
}
