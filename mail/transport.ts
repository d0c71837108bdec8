import nodemailer from 'nodemailer';
import { assertSingleMailbox } from './address.js';

/** A message ready for SMTP; `messageId` and `headers` come from the outbox row. */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

/** The one thing the outbox needs from SMTP: hand over a message, resolve once the server accepted it. */
export interface MailTransport {
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/**
 * nodemailer over SMTP with a connection pool (connect and greeting within 10 s, a socket idle for 20 s fails). `smtp://host:port` without credentials talks plain SMTP
 * (as the local sink expects); `smtps://` or `?secure=true` uses TLS; user:pass in the URL authenticates.
 *
 * `send` throws `InvalidRecipientError` (nothing sent) for a `to` that is not a single plain mailbox:
 * nodemailer would read `a@x.example,b@y.example` or `a@x.example;b` as two recipients and a display name as
 * a header; the outbox refuses such a row before it gets here, this is the last guard.
 */
export function createSmtpTransport(smtpUrl: string): MailTransport {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:' || url.searchParams.get('secure') === 'true';
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    // A server that hangs instead of refusing must not hold an activity for nodemailer's default 2 minutes:
    // the attempt fails within seconds and the outbox tries again later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    host: url.hostname,
    port: Number(url.port || (secure ? 465 : 25)),
    secure,
    ignoreTLS: !secure && url.searchParams.get('starttls') !== 'true',
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
  });
  return {
    async send(message) {
      assertSingleMailbox(message.to);
      await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        messageId: message.messageId,
        headers: message.headers,
      });
    },
    close() {
      transporter.close();
    },
  };
}
