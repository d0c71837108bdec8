/**
 * The one rule for an email address the product accepts or writes to: a single plain mailbox
 * (`local@domain`), never a list, a display name (`张三 <a@x.example>`), a group, a comment, or anything
 * with a control character (CR/LF would let a value add mail headers). Every intake (objections from the
 * API and the public page, seeded institution contacts and experts) and the sending side (the outbox and
 * the SMTP transport) use it.
 *
 * The check is zod 4's `z.email()` (its default pattern, `z.regexes.email`, Gmail's rules: ASCII letters,
 * digits and `_'+-.` before the `@`, dot-separated labels and a TLD of 2+ letters after it; no quoted local
 * parts, IP literals or internationalised addresses), at most 254 characters (RFC 5321's path limit).
 */
import { z } from 'zod';

/** RFC 5321: a path is at most 256 octets including the angle brackets, so an address at most 254. */
export const MAILBOX_MAX_LENGTH = 254;

/** What a person is told when an address is refused (zh-CN), e.g. after the field's label `电子邮箱`. */
export const MAILBOX_RULE_ZH = '应为单个邮箱地址（如 name@example.com），不能含姓名、多个地址、分隔符、空格或换行';

/** The zod schema of a single plain mailbox (unchanged value; no trimming). */
export const MailboxSchema = z.email({ error: `电子邮箱${MAILBOX_RULE_ZH}` }).max(MAILBOX_MAX_LENGTH, {
  error: `电子邮箱至多 ${MAILBOX_MAX_LENGTH} 个字符`,
});

/** The pattern `MailboxSchema` checks, for documents (OpenAPI `pattern`, HTML `pattern`). */
export const MAILBOX_PATTERN: RegExp = z.regexes.email;

/** True when `value` is exactly one plain mailbox, as it stands (no trimming). */
export function isSingleMailbox(value: unknown): value is string {
  return MailboxSchema.safeParse(value).success;
}

/**
 * A typed address as a person sends it from a form: surrounding spaces (also full-width ones) are dropped;
 * a control character anywhere (CR, LF, tab, NUL…) refuses it, even at the ends.
 *
 * @returns the mailbox, or `undefined` when the value is not a single plain mailbox.
 */
export function parseTypedMailbox(value: unknown): string | undefined {
  if (typeof value !== 'string' || /\p{Cc}/u.test(value)) return undefined;
  const trimmed = value.trim();
  return isSingleMailbox(trimmed) ? trimmed : undefined;
}

/**
 * An address as accounts and contacts keep it: a typed address (`parseTypedMailbox`) lower-cased, so one mailbox
 * is one value whatever case it was typed in.
 *
 * @returns the address, or `undefined` when the value is not a single plain mailbox.
 */
export function normaliseMailbox(value: unknown): string | undefined {
  return parseTypedMailbox(value)?.toLowerCase();
}

/**
 * Thrown by the sending side for a recipient that is not a single plain mailbox: nothing is sent, to no one.
 * The recipient itself is not in the message (personal data; the outbox row leads to it).
 */
export class InvalidRecipientError extends Error {
  override name = 'InvalidRecipientError';
  constructor() {
    super('recipient refused: not a single plain mailbox (local@domain); nothing was sent');
  }
}

/** @throws InvalidRecipientError unless `recipient` is a single plain mailbox. */
export function assertSingleMailbox(recipient: unknown): asserts recipient is string {
  if (!isSingleMailbox(recipient)) throw new InvalidRecipientError();
}
