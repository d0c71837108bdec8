import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidRecipientError,
  isSingleMailbox,
  MAILBOX_MAX_LENGTH,
  MailboxSchema,
  parseTypedMailbox,
} from '../../mail/address.js';
import { createSmtpTransport } from '../../mail/transport.js';
import { collegeEmail, experts, universities, universityEmail } from '../../db/seeds/reference-data.js';

/** Issue 14, point 8: an email address is a single mailbox, at every intake and at the sending side. */
const notOneMailbox = [
  'a@x.example;b',
  'A <a@x.example>',
  '张三 <a@x.example>',
  '<a@x.example>',
  'a@x.example,b@y.example',
  'a@x.example, b@y.example',
  'a@x.example b@y.example',
  'a@x.example\r\nBcc: b@y.example',
  'a@x.example\n',
  'a@x.example\u0000',
  'a@x.example\t',
  'group: a@x.example;',
  '"a b"@x.example',
  'a(comment)@x.example',
  'a@x.example (张三)',
  'a@@x.example',
  'a@x',
  '',
  '@x.example',
  `${'a'.repeat(MAILBOX_MAX_LENGTH)}@x.example`,
];

describe('a single plain mailbox', () => {
  it('accepts ordinary addresses, the seeded ones included', () => {
    for (const ok of ['zhang@example.com', 'a.b+c@x-y.example', "o'neil@x.example", 'jwc@zzu.edu.example']) {
      expect(isSingleMailbox(ok), ok).toBe(true);
    }
    const seeded = [
      ...universities.flatMap((u) => [universityEmail(u.id), ...u.colleges.map(([s]) => collegeEmail(u.id, s))]),
      ...experts.map((e) => e.email),
    ];
    expect(seeded.filter((a) => !isSingleMailbox(a))).toEqual([]);
  });

  it('refuses lists, display names, groups, comments, control characters and overlong values', () => {
    for (const bad of notOneMailbox) expect(isSingleMailbox(bad), JSON.stringify(bad)).toBe(false);
    expect(isSingleMailbox(undefined)).toBe(false);
    expect(MailboxSchema.safeParse('a@x.example;b').error?.issues[0]?.message).toMatch(/^电子邮箱应为单个邮箱地址/);
  });

  it('takes a typed address with surrounding spaces, but never one with a control character anywhere', () => {
    expect(parseTypedMailbox('  zhang@example.com\u3000')).toBe('zhang@example.com');
    expect(parseTypedMailbox('zhang@example.com\r\n')).toBeUndefined();
    expect(parseTypedMailbox('\nzhang@example.com')).toBeUndefined();
    expect(parseTypedMailbox(42)).toBeUndefined();
    for (const bad of notOneMailbox) expect(parseTypedMailbox(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe('the SMTP transport', () => {
  let server: net.Server;
  let connections = 0;
  let port = 0;

  beforeAll(async () => {
    // Counts connections and closes them: any hand-over attempt would show here.
    server = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses a recipient that is not a single plain mailbox without reaching the server', async () => {
    const transport = createSmtpTransport(`smtp://127.0.0.1:${port}`);
    try {
      for (const to of notOneMailbox) {
        await expect(
          transport.send({
            from: '河南省产教融合管理服务中心 <noreply@ronghe.example>',
            to,
            subject: '测试',
            text: '测试',
            messageId: '<test@ronghe.example>',
            headers: {},
          }),
          JSON.stringify(to),
        ).rejects.toBeInstanceOf(InvalidRecipientError);
      }
      expect(connections).toBe(0);
      // A single mailbox does go to the server (which hangs up here).
      await expect(
        transport.send({
          from: 'noreply@ronghe.example',
          to: 'zhang@example.com',
          subject: '测试',
          text: '测试',
          messageId: '<test2@ronghe.example>',
          headers: {},
        }),
      ).rejects.not.toBeInstanceOf(InvalidRecipientError);
      expect(connections).toBeGreaterThan(0);
    } finally {
      transport.close();
    }
  });
});
