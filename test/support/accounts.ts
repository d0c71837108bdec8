import { insertAccessToken, insertAccount } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/knex.js';
import type { StaffRole } from '../../domain/accounts.js';
import { ACCESS_TOKEN_PREFIX, newToken } from '../../services/tokens.js';

/**
 * A staff account with a personal access token, written straight to the database: for tests that need a real
 * account's bearer token where development tokens are refused (production mode) and the sign-in itself is not
 * what they test (test/e2e/accounts.test.ts goes through the pages).
 */
export async function staffAccessToken(
  db: Db,
  { email, staffRole = 'officer' }: { email: string; staffRole?: StaffRole },
): Promise<{ accountId: string; token: string }> {
  const account = await insertAccount(db, { kind: 'staff', staffRole, email, name: '测试工作人员', createdBy: 'test' });
  if (!account) throw new Error(`${email} has an account already`);
  const { token, hash } = newToken(ACCESS_TOKEN_PREFIX);
  const now = new Date();
  await insertAccessToken(db, {
    accountId: account.id,
    name: 'test',
    tokenHash: hash,
    credentialsEpoch: account.credentialsEpoch,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 86_400_000),
  });
  return { accountId: account.id, token };
}
