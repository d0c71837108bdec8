import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox, type OutgoingEmail } from '../../mail/outbox.js';
import type { MailTransport, OutgoingMessage } from '../../mail/transport.js';
import type { Logger } from '../../platform/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Issue 14, point 8, at the sending side: the outbox never hands SMTP a recipient that is not a single plain
 * mailbox. Such a row is `failed` at once with the reason (no retries, nothing sent, to no one), whether its
 * sender or the sweeper claims it; a plain mailbox beside it goes out as usual.
 */
let database: TestDatabase;
const handed: OutgoingMessage[] = [];
const transport: MailTransport = {
  send: (message) => {
    handed.push(message);
    return Promise.resolve();
  },
  close: () => undefined,
};
const warnings: string[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (_fields, message) => void warnings.push(String(message)),
  error: () => undefined,
  child: () => logger,
};

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const email = (key: string, recipient: string): OutgoingEmail => ({
  idempotencyKey: `recipients-test/${key}`,
  purpose: 'recipients_test',
  recipient,
  subject: '测试邮件',
  text: '测试',
});

const injected = [
  'a@x.example;b',
  'A <a@x.example>',
  'a@x.example,b@y.example',
  'a@x.example\r\nBcc: c@z.example',
  'a@x.example\n',
];

describe('the outbox refuses recipients that are not a single mailbox', () => {
  it('fails such a row at once, with the reason, and sends nothing; a plain mailbox is sent', async () => {
    const outbox = new Outbox(database.db, transport, '河南省产教融合管理服务中心 <noreply@ronghe.example>', logger);
    for (const [i, recipient] of injected.entries()) {
      expect(await outbox.deliver(email(`deliver-${i}`, recipient)), JSON.stringify(recipient)).toBe('failed');
    }
    expect(await outbox.deliver(email('plain', 'zhang@example.com'))).toBe('sent');
    expect(handed.map((m) => m.to)).toEqual(['zhang@example.com']);

    const rows = await database
      .db('email_outbox')
      .where('idempotency_key', 'like', 'recipients-test/deliver-%')
      .select<{ status: string; attempts: number; last_error: string; failed_at: Date | null }[]>(
        'status',
        'attempts',
        'last_error',
        'failed_at',
      );
    expect(rows).toHaveLength(injected.length);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'failed',
        attempts: 1,
        last_error: expect.stringContaining('not a single plain mailbox'),
      });
      expect(row.failed_at).not.toBeNull();
    }
    // Asked again (a retried activity), it stays failed and is not sent.
    expect(await outbox.deliver(email('deliver-0', injected[0]!))).toBe('failed');
    expect(warnings.filter((w) => w.includes('not a single plain mailbox'))).toHaveLength(injected.length);
  });

  it('the sweeper fails a left-over row with such a recipient instead of retrying it', async () => {
    const outbox = new Outbox(database.db, transport, 'noreply@ronghe.example', logger, {}, { graceSeconds: 0 });
    await outbox.enqueue(email('swept-bad', 'a@x.example,b@y.example'));
    await outbox.enqueue(email('swept-good', 'li@example.com'));
    handed.length = 0;
    expect(await outbox.sweep(10)).toEqual({ claimed: 2, sent: 1, retrying: 0, failed: 1 });
    expect(handed.map((m) => m.to)).toEqual(['li@example.com']);
    expect(
      await database
        .db('email_outbox')
        .where({ idempotency_key: 'recipients-test/swept-bad' })
        .first('status', 'attempts'),
    ).toEqual({ status: 'failed', attempts: 1 });
    expect(await outbox.sweep(10)).toEqual({ claimed: 0, sent: 0, retrying: 0, failed: 0 });
  });
});
