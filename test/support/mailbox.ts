import { currentProgress, eventually, IDLE_BOUND_MS } from './wait.js';

export interface ReceivedEmail {
  to: string;
  /** The sender's display name (empty when there is none). */
  fromName: string;
  subject: string;
  text: string;
  purpose: string | undefined;
  idempotencyKey: string | undefined;
  messageId: string | undefined;
}

interface MaildevEmail {
  subject: string;
  from?: { address: string; name?: string }[];
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
        fromName: e.from?.[0]?.name ?? '',
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

  /**
   * Waits until at least `count` emails arrived and no more arrive for `settleMs`. Gives up only after
   * `timeoutMs` in which neither the sink's count nor the stack (its progress probe) changed.
   */
  async waitForCount(count: number, { timeoutMs = IDLE_BOUND_MS, settleMs = 500 } = {}): Promise<ReceivedEmail[]> {
    let last = -1;
    let since = Date.now();
    const stack = currentProgress();
    return eventually(
      async () => {
        const emails = await this.list();
        if (emails.length !== last) {
          last = emails.length;
          since = Date.now();
        }
        if (emails.length < count) throw new Error(`the sink holds ${emails.length}`);
        // Settled: as many as `settleMs` ago.
        return Date.now() - since >= settleMs ? emails : undefined;
      },
      {
        timeoutMs,
        what: `at least ${count} emails`,
        progress: async () => [last, stack ? await stack() : null],
      },
    );
  }
}

/** "recipient purpose" pairs, sorted: the shape the end-to-end tests compare exactly. */
export function recipientPurposePairs(emails: { to: string; purpose: string | undefined }[]): string[] {
  return emails.map((e) => `${e.to} ${e.purpose ?? '(none)'}`).sort();
}
