import type { AccountKind, StaffRole } from '../../domain/accounts.js';
import type { Db } from '../knex.js';
import { revokeAssignmentLinks } from './assignment-links.js';

/**
 * Accounts, their one-time links and personal access tokens (migration 015). Secrets never reach this module in
 * clear: passwords come as argon2id hashes, link and access tokens as SHA-256 hashes (`services/tokens.ts`).
 */

/** One account as the application reads it. `email` is normalised (trimmed, lower-case). */
export interface Account {
  id: string;
  kind: AccountKind;
  /** Set for staff only. */
  staffRole: StaffRole | null;
  institutionId: string | null;
  enterpriseId: string | null;
  expertId: string | null;
  email: string;
  name: string;
  passwordHash: string | null;
  totpSecret: string | null;
  totpConfirmedAt: Date | null;
  totpLastStep: number | null;
  /** Bumped on disable and password reset; sessions and tokens made under another epoch are refused. */
  credentialsEpoch: number;
  disabledAt: Date | null;
  disabledBy: string | null;
  disabledReason: string | null;
  createdAt: Date;
  createdBy: string;
  lastSignInAt: Date | null;
}

interface AccountRow {
  id: string;
  kind: AccountKind;
  staff_role: StaffRole | null;
  institution_id: string | null;
  enterprise_id: string | null;
  expert_id: string | null;
  email: string;
  name: string;
  password_hash: string | null;
  totp_secret: string | null;
  totp_confirmed_at: Date | null;
  totp_last_step: number | null;
  credentials_epoch: number;
  disabled_at: Date | null;
  disabled_by: string | null;
  disabled_reason: string | null;
  created_at: Date;
  created_by: string;
  last_sign_in_at: Date | null;
}

function fromRow(r: AccountRow): Account {
  return {
    id: r.id,
    kind: r.kind,
    staffRole: r.staff_role,
    institutionId: r.institution_id,
    enterpriseId: r.enterprise_id,
    expertId: r.expert_id,
    email: r.email,
    name: r.name,
    passwordHash: r.password_hash,
    totpSecret: r.totp_secret,
    totpConfirmedAt: r.totp_confirmed_at,
    totpLastStep: r.totp_last_step,
    credentialsEpoch: r.credentials_epoch,
    disabledAt: r.disabled_at,
    disabledBy: r.disabled_by,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastSignInAt: r.last_sign_in_at,
  };
}

/** What creating an account takes: the kind and what it acts for, the person, and who created it (an actor). */
export interface NewAccount {
  kind: AccountKind;
  staffRole?: StaffRole | undefined;
  institutionId?: string | undefined;
  enterpriseId?: string | undefined;
  expertId?: string | undefined;
  /** Already normalised (`normaliseEmail`). */
  email: string;
  name: string;
  /** Base32 TOTP secret, for staff (generated at creation, confirmed at enrolment). */
  totpSecret?: string | undefined;
  createdBy: string;
}

/**
 * Inserts an account (no password yet). Returns it, or `undefined` when the email is already taken (unique).
 * Foreign keys (institution, enterprise, expert) raise PostgreSQL's 23503 when they name nothing.
 */
export async function insertAccount(db: Db, a: NewAccount): Promise<Account | undefined> {
  const [row] = await db('accounts')
    .insert({
      kind: a.kind,
      staff_role: a.kind === 'staff' ? a.staffRole : null,
      institution_id: a.kind === 'institution' ? a.institutionId : null,
      enterprise_id: a.kind === 'enterprise' ? a.enterpriseId : null,
      expert_id: a.kind === 'expert' ? a.expertId : null,
      email: a.email,
      name: a.name,
      totp_secret: a.totpSecret ?? null,
      created_by: a.createdBy,
    })
    .onConflict('email')
    .ignore()
    .returning<AccountRow[]>('*');
  return row ? fromRow(row) : undefined;
}

/** The account with this id, or undefined. */
export async function findAccount(db: Db, id: string): Promise<Account | undefined> {
  const row = await db('accounts').where({ id }).first<AccountRow | undefined>();
  return row ? fromRow(row) : undefined;
}

/** The account with this (normalised) email, or undefined. */
export async function findAccountByEmail(db: Db, email: string): Promise<Account | undefined> {
  const row = await db('accounts').where({ email }).first<AccountRow | undefined>();
  return row ? fromRow(row) : undefined;
}

/** A page of accounts, oldest first: `offset`, `limit` rows, and the total. */
export async function listAccounts(
  db: Db,
  page: { offset: number; limit: number; kind?: AccountKind | undefined },
): Promise<{ items: Account[]; total: number }> {
  const base = db('accounts').modify((q) => {
    if (page.kind) void q.where({ kind: page.kind });
  });
  const rows: AccountRow[] = await base
    .clone()
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .offset(page.offset)
    .limit(page.limit)
    .select<AccountRow[]>('*');
  const count = await base.clone().count<{ n: number }[]>({ n: '*' });
  return { items: rows.map(fromRow), total: Number(count[0]?.n ?? 0) };
}

/**
 * Disables the account (by an actor, with a reason) and bumps its credentials epoch: every session and token
 * ends at its next request (the API compares epochs; the session is then destroyed and the request answered 401
 * SESSION_ENDED, so the person is told why). Returns the account disabled; `'last-administrator'` (nothing
 * changed) when it is the only enabled staff administrator, since nobody could then administer accounts but
 * the server's `npm run account`; `undefined` when there is no such account or it is already disabled.
 *
 * Race-free: one transaction locks the enabled administrators' rows (`for update`) before counting them, so two
 * administrators disabling each other at once are taken one after the other, and the second finds itself the
 * last (PostgreSQL re-reads a locked row once its lock is released, and a disabled one no longer matches).
 */
export async function disableAccount(
  db: Db,
  id: string,
  by: { actor: string; reason: string; at: Date },
): Promise<Account | 'last-administrator' | undefined> {
  return db.transaction(async (trx) => {
    const administrators = await trx('accounts')
      .where({ kind: 'staff', staff_role: 'administrator' })
      .whereNull('disabled_at')
      .orderBy('id')
      .forUpdate()
      .pluck<string[]>('id');
    if (administrators.length === 1 && administrators[0] === id) return 'last-administrator';
    const [row] = await trx('accounts')
      .where({ id })
      .whereNull('disabled_at')
      .update({
        disabled_at: by.at,
        disabled_by: by.actor,
        disabled_reason: by.reason,
        credentials_epoch: trx.raw('credentials_epoch + 1'),
      })
      .returning<AccountRow[]>('*');
    // An expert's emailed assignment links end with the account, for good: enabling it again revives no link
    // (as it revives no session or token); later emails carry new links.
    if (row?.expert_id) await revokeAssignmentLinks(trx, row.expert_id, by.at);
    return row ? fromRow(row) : undefined;
  });
}

/**
 * Enables a disabled account again (old sessions and tokens stay ended: the epoch moved on). Returns the account
 * enabled, or `undefined` when there is no such account or it is not disabled.
 */
export async function enableAccount(db: Db, id: string): Promise<Account | undefined> {
  const [row] = await db('accounts')
    .where({ id })
    .whereNotNull('disabled_at')
    .update({ disabled_at: null, disabled_by: null, disabled_reason: null })
    .returning<AccountRow[]>('*');
  return row ? fromRow(row) : undefined;
}

/**
 * Stores a new password hash; with `endCredentials` (a reset, at `at`), bumps the epoch, so every session and token
 * of the account ends (see `disableAccount`), and revokes an expert's emailed assignment links.
 */
export async function setPasswordHash(
  db: Db,
  id: string,
  passwordHash: string,
  ends: { endCredentials: false } | { endCredentials: true; at: Date },
): Promise<void> {
  const [row] = await db('accounts')
    .where({ id })
    .update({
      password_hash: passwordHash,
      ...(ends.endCredentials ? { credentials_epoch: db.raw('credentials_epoch + 1') } : {}),
    })
    .returning<{ expert_id: string | null }[]>('expert_id');
  // A reset ends everything that signed in as the account, an expert's emailed assignment links included.
  if (ends.endCredentials && row?.expert_id) await revokeAssignmentLinks(db, row.expert_id, ends.at);
}

/** Records that the staff member's TOTP secret was confirmed by a code. */
export async function confirmTotp(db: Db, id: string, at: Date): Promise<void> {
  await db('accounts').where({ id }).update({ totp_confirmed_at: at });
}

/**
 * Accepts the TOTP time step `step` at sign-in if it is later than the last one accepted (a code is used once).
 * Returns false when it is not (the code was already used).
 */
export async function acceptTotpStep(db: Db, id: string, step: number): Promise<boolean> {
  const n = await db('accounts')
    .where({ id })
    .where((q) => void q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
    .update({ totp_last_step: step });
  return n > 0;
}

/** Notes a successful sign-in. */
export async function recordSignIn(db: Db, id: string, at: Date): Promise<void> {
  await db('accounts').where({ id }).update({ last_sign_in_at: at });
}

export type LinkPurpose = 'invitation' | 'password_reset';

/** A one-time link's row. */
export interface AccountLink {
  id: number;
  accountId: string;
  purpose: LinkPurpose;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

interface LinkRow {
  id: number;
  account_id: string;
  purpose: LinkPurpose;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

const linkOf = (r: LinkRow): AccountLink => ({
  id: r.id,
  accountId: r.account_id,
  purpose: r.purpose,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  revokedAt: r.revoked_at,
});

/** Stores a new link (by the hash of its token), revoking the account's earlier unused links of the same purpose. */
export async function insertLink(
  db: Db,
  link: { accountId: string; purpose: LinkPurpose; tokenHash: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('account_links')
      .where({ account_id: link.accountId, purpose: link.purpose })
      .whereNull('used_at')
      .whereNull('revoked_at')
      .update({ revoked_at: link.createdAt });
    await trx('account_links').insert({
      account_id: link.accountId,
      purpose: link.purpose,
      token_hash: link.tokenHash,
      created_at: link.createdAt,
      expires_at: link.expiresAt,
    });
  });
}

/** The link whose token hashes to `tokenHash`, whatever its state, or undefined. */
export async function findLink(db: Db, tokenHash: string): Promise<AccountLink | undefined> {
  const row = await db('account_links').where({ token_hash: tokenHash }).first<LinkRow | undefined>();
  return row ? linkOf(row) : undefined;
}

/**
 * Marks the link used at `at`, only if it is still unused, unrevoked and not expired then (one statement: two
 * concurrent uses cannot both succeed). Returns false otherwise.
 */
export async function useLink(db: Db, id: number, at: Date): Promise<boolean> {
  const n = await db('account_links')
    .where({ id })
    .whereNull('used_at')
    .whereNull('revoked_at')
    .where('expires_at', '>', at)
    .update({ used_at: at });
  return n > 0;
}

/** A personal access token as its owner lists it (never the token itself). */
export interface AccessToken {
  id: string;
  accountId: string;
  name: string;
  credentialsEpoch: number;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface TokenRow {
  id: string;
  account_id: string;
  name: string;
  credentials_epoch: number;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const tokenOf = (r: TokenRow): AccessToken => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  credentialsEpoch: r.credentials_epoch,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

/** Stores a personal access token (its hash), made under the account's current epoch. */
export async function insertAccessToken(
  db: Db,
  t: { accountId: string; name: string; tokenHash: string; credentialsEpoch: number; createdAt: Date; expiresAt: Date },
): Promise<AccessToken> {
  const [row] = await db('access_tokens')
    .insert({
      account_id: t.accountId,
      name: t.name,
      token_hash: t.tokenHash,
      credentials_epoch: t.credentialsEpoch,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
    })
    .returning<TokenRow[]>('*');
  return tokenOf(row!);
}

/** The account's tokens, newest first (revoked and expired ones included, for the record). */
export async function listAccessTokens(db: Db, accountId: string): Promise<AccessToken[]> {
  const rows = await db('access_tokens')
    .where({ account_id: accountId })
    .orderBy('created_at', 'desc')
    .select<TokenRow[]>('*');
  return rows.map(tokenOf);
}

/** Revokes one of the account's tokens; false when it has no such unrevoked token. */
export async function revokeAccessToken(db: Db, accountId: string, id: string, at: Date): Promise<boolean> {
  const n = await db('access_tokens')
    .where({ id, account_id: accountId })
    .whereNull('revoked_at')
    .update({ revoked_at: at });
  return n > 0;
}

/** The token whose hash is `tokenHash` (any state), for the bearer check; undefined when none. */
export async function findAccessToken(db: Db, tokenHash: string): Promise<AccessToken | undefined> {
  const row = await db('access_tokens').where({ token_hash: tokenHash }).first<TokenRow | undefined>();
  return row ? tokenOf(row) : undefined;
}

/** Notes a token's use (at most once a minute per token, to spare writes). */
export async function touchAccessToken(db: Db, id: string, at: Date): Promise<void> {
  await db('access_tokens')
    .where({ id })
    .where((q) => void q.whereNull('last_used_at').orWhere('last_used_at', '<', new Date(at.getTime() - 60_000)))
    .update({ last_used_at: at });
}
