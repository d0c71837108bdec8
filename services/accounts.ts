import { createHmac, randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import type { Db } from '../db/knex.js';
import {
  insertAccount,
  insertLink,
  type Account,
  type LinkPurpose,
  type NewAccount,
} from '../db/repositories/accounts.js';
import { recordAudit, type AuditRole } from '../db/repositories/audit.js';
import {
  ACCOUNT_KIND_ZH,
  LINK_VALID_HOURS,
  STAFF_ROLE_ZH,
  type AccountKind,
  type StaffRole,
} from '../domain/accounts.js';
import { normaliseMailbox } from '../mail/address.js';
import type { Outbox } from '../mail/outbox.js';
import { accountInvitation, passwordReset } from '../mail/templates.js';
import { newToken } from './tokens.js';

/**
 * Accounts as the API and the bootstrap script use them: passwords (argon2id), one-time links (random, stored
 * hashed, single use, 72 h) and the emails that carry them (through the outbox, in the same transaction as the
 * link), TOTP for staff (`otpauth`), personal access tokens.
 */

/** An email as accounts store it: a single plain mailbox, trimmed and lower-cased; undefined when it is not one. */
export function normaliseEmail(value: unknown): string | undefined {
  return normaliseMailbox(value);
}

/**
 * argon2id (`@node-rs/argon2`'s default algorithm; its defaults: 19 MiB memory, 2 passes, parallelism 1 — OWASP's
 * minimum recommendation). Returns the PHC string (`$argon2id$v=19$…`).
 */
export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password);
}

/** Whether `password` matches the PHC string; false for a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when there is no account, so a wrong email costs as long as a wrong password. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= argon2Hash(randomBytes(16).toString('hex'));
  return decoyHash;
}

/**
 * What the audit trail keeps of an email that names no account (a failed sign-in, a reset asked for an unknown
 * address): `hmac:` and the first 16 hex digits of HMAC-SHA256(`key`, the text as typed, trimmed and lower-cased
 * when it is an email). The typed text is personal data, and may be a password typed in the wrong box: it is
 * never stored in clear, while the same text typed again gives the same digest (repeated attempts can be told
 * apart from scattered ones). `key` is a server secret (SESSION_SECRET), so the digest cannot be reversed by
 * hashing guesses without it.
 */
export function typedEmailDigest(typed: unknown, key: string): string {
  const text = normaliseEmail(typed) ?? (typeof typed === 'string' ? typed : '');
  return `hmac:${createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

/** A new base32 TOTP secret (20 random bytes, RFC 4226's recommended length). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The TOTP of an account (SHA-1, 6 digits, 30 s: what every authenticator app reads), labelled with the email. */
export function totpOf(secret: string, email: string): TOTP {
  return new TOTP({
    issuer: 'ronghe',
    label: email,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(secret),
  });
}

/**
 * The time step (`floor(t / 30 s)`) a 6-digit code is valid for at `at`, one step of drift either way; undefined
 * when the code is wrong.
 */
export function totpStep(secret: string, email: string, code: string, at: Date): number | undefined {
  const trimmed = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(trimmed)) return undefined;
  const delta = totpOf(secret, email).validate({ token: trimmed, timestamp: at.getTime(), window: 1 });
  if (delta === null) return undefined;
  return Math.floor(at.getTime() / 30_000) + delta;
}

/** What an account acts as, in zh-CN (系统管理员, 申报单位用户…). */
export function accountRoleZh(a: { kind: AccountKind; staffRole: StaffRole | null }): string {
  return a.kind === 'staff' && a.staffRole ? STAFF_ROLE_ZH[a.staffRole] : ACCOUNT_KIND_ZH[a.kind];
}

/** What the account services need: the database, the outbox, the clock, and where links point. */
export interface AccountServiceDeps {
  db: Db;
  outbox: Pick<Outbox, 'enqueue' | 'sendSoon'>;
  clock: () => Date;
}

/** Who acts on an account (an audit actor and role), and the request id when there is one. */
export interface AccountActor {
  actor: string;
  role: AuditRole;
  requestId?: string | undefined;
}

/** A one-time link issued and its email recorded in the outbox, not yet handed to SMTP. */
export interface IssuedLink {
  url: string;
  expiresAt: Date;
  /** The outbox key of the email carrying it (for `outbox.sendSoon` once the transaction commits). */
  idempotencyKey: string;
}

/**
 * Issues a one-time link for `purpose` (an earlier unused one of the same purpose is revoked) and records the
 * email carrying it in the outbox, both through `trx` (the caller's transaction): nothing is sent here. `baseUrl`
 * is PUBLIC_BASE_URL (no trailing slash).
 */
export async function issueAccountLink(
  deps: Pick<AccountServiceDeps, 'outbox' | 'clock'>,
  trx: Db,
  account: Account,
  purpose: LinkPurpose,
  baseUrl: string,
): Promise<IssuedLink> {
  const { token, hash } = newToken();
  const createdAt = deps.clock();
  const expiresAt = new Date(createdAt.getTime() + LINK_VALID_HOURS * 3600_000);
  const url = `${baseUrl}/account/${purpose === 'invitation' ? 'invitation' : 'reset'}/${token}`;
  const email =
    purpose === 'invitation'
      ? accountInvitation({
          name: account.name,
          roleZh: accountRoleZh(account),
          email: account.email,
          link: url,
          expiresAt,
          totp: account.kind === 'staff',
          signInUrl: `${baseUrl}/account/sign-in`,
        })
      : passwordReset({ name: account.name, email: account.email, link: url, expiresAt });
  // The key names the link (by a prefix of its hash), never the token itself.
  const idempotencyKey = `account/${account.id}/${purpose}/${hash.slice(0, 16)}`;
  await insertLink(trx, { accountId: account.id, purpose, tokenHash: hash, createdAt, expiresAt });
  await deps.outbox.enqueue({ idempotencyKey, purpose: `account.${purpose}`, recipient: account.email, ...email }, trx);
  return { url, expiresAt, idempotencyKey };
}

/**
 * Issues a one-time link for `purpose` (an earlier unused one of the same purpose is revoked) and records the
 * email carrying it in the outbox, in one transaction; then hands the email to SMTP (never throws: a failure
 * stays pending for the sweeper). `baseUrl` is PUBLIC_BASE_URL (no trailing slash). Returns the link.
 */
export async function sendAccountLink(
  deps: AccountServiceDeps,
  account: Account,
  purpose: LinkPurpose,
  baseUrl: string,
): Promise<{ url: string; expiresAt: Date }> {
  const link = await deps.db.transaction((trx) => issueAccountLink(deps, trx, account, purpose, baseUrl));
  await deps.outbox.sendSoon([link.idempotencyKey]);
  return { url: link.url, expiresAt: link.expiresAt };
}

/**
 * Writes a new account in `trx` — staff with a fresh TOTP secret — and audits `account.create` by `by`, with
 * `details` added to the audit row's (kind, staff role, email). Returns `undefined`, writing nothing, when the
 * email has an account already; a second account for an expert is refused by the database (unique violation,
 * migration 019). The caller sends the invitation.
 */
export async function insertAuditedAccount(
  trx: Db,
  input: Omit<NewAccount, 'createdBy' | 'totpSecret'>,
  by: AccountActor,
  details: Record<string, unknown> = {},
): Promise<Account | undefined> {
  const created = await insertAccount(trx, {
    ...input,
    ...(input.kind === 'staff' ? { totpSecret: newTotpSecret() } : {}),
    createdBy: by.actor,
  });
  if (!created) return undefined;
  await recordAudit(trx, {
    actor: by.actor,
    role: by.role,
    action: 'account.create',
    subjectKind: 'account',
    subjectId: created.id,
    details: { kind: created.kind, staffRole: created.staffRole, email: created.email, ...details },
    requestId: by.requestId,
  });
  return created;
}

/**
 * Creates an account (staff get a TOTP secret to enrol), audits `account.create`, and sends the invitation.
 * Returns the account and the invitation link, or `undefined` when the email is already taken.
 *
 * @throws PostgreSQL's foreign-key error (23503) when the institution, enterprise or expert does not exist.
 */
export async function createAccount(
  deps: AccountServiceDeps,
  input: Omit<NewAccount, 'createdBy' | 'totpSecret'>,
  by: AccountActor,
  baseUrl: string,
): Promise<{ account: Account; invitation: { url: string; expiresAt: Date } } | undefined> {
  const account = await deps.db.transaction((trx) => insertAuditedAccount(trx, input, by));
  if (!account) return undefined;
  const invitation = await sendAccountLink(deps, account, 'invitation', baseUrl);
  return { account, invitation };
}
