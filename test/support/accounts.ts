import { insertAccessToken, insertAccount, type NewAccount } from '../../db/repositories/accounts.js';
import { Secret, TOTP } from 'otpauth';
import type { Db } from '../../db/knex.js';
import type { StaffRole } from '../../domain/accounts.js';
import { ACCESS_TOKEN_PREFIX, newToken } from '../../services/tokens.js';
import type { Mailbox } from './mailbox.js';
import { eventually } from './wait.js';

/**
 * A new personal access token of `accountId` (credentials epoch `epoch`), valid for a day, written straight to
 * the database.
 */
export async function addAccessToken(
  db: Db,
  accountId: string,
  epoch: number,
  name = 'test',
): Promise<{ token: string; tokenId: string }> {
  const { token, hash } = newToken(ACCESS_TOKEN_PREFIX);
  const now = new Date();
  const stored = await insertAccessToken(db, {
    accountId,
    name,
    tokenHash: hash,
    credentialsEpoch: epoch,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 86_400_000),
  });
  return { token, tokenId: stored.id };
}

/**
 * An account of any kind with a personal access token, written straight to the database: for tests that need a
 * real account's bearer token (development tokens are refused in production, and act for no account) where the
 * sign-in itself is not what they test (test/e2e/accounts.test.ts goes through the pages).
 */
export async function accountAccessToken(
  db: Db,
  account: Omit<NewAccount, 'createdBy'>,
): Promise<{ accountId: string; epoch: number; token: string; tokenId: string }> {
  const created = await insertAccount(db, { ...account, createdBy: 'test' });
  if (!created) throw new Error(`${account.email} has an account already`);
  const epoch = created.credentialsEpoch;
  return { accountId: created.id, epoch, ...(await addAccessToken(db, created.id, epoch)) };
}

/** A staff account (an officer unless `staffRole` says otherwise) with a personal access token. */
export async function staffAccessToken(
  db: Db,
  { email, staffRole = 'officer' }: { email: string; staffRole?: StaffRole },
): Promise<{ accountId: string; token: string }> {
  const { accountId, token } = await accountAccessToken(db, { kind: 'staff', staffRole, email, name: '测试工作人员' });
  return { accountId, token };
}

/** The one-time account link (invitation or reset) in the `n`th (from 0) email of `purpose` to `to`, once it arrived. */
export function accountLinkIn(mailbox: Mailbox, to: string, purpose: string, n = 0): Promise<string> {
  return eventually(
    async () => {
      const email = (await mailbox.list()).filter((e) => e.to === to && e.purpose === purpose)[n];
      return email ? /(http\S+\/account\/(?:invitation|reset)\/[A-Za-z0-9_-]+)/.exec(email.text)?.[1] : undefined;
    },
    { what: `email ${purpose} #${n + 1} to ${to}` },
  );
}

/**
 * The TOTP of a staff account as a person's authenticator app sets it up from the enrolment (RFC 6238: SHA-1, 6
 * digits, 30 s), written here rather than taken from services/accounts.ts, so the tests check the enrolment a
 * real app would read.
 */
export function authenticator(secret: string, email: string): TOTP {
  return new TOTP({
    issuer: 'ronghe',
    label: email,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(secret),
  });
}
