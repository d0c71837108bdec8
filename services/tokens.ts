import { createHash, randomBytes } from 'node:crypto';

/**
 * Random secrets the database keeps only as hashes: one-time links and personal access tokens. (Separate from
 * `services/accounts.ts` so the bearer check loads no mail code.)
 */

/** The prefix of personal access tokens: a bearer token that starts with it is looked up, not verified as a JWT. */
export const ACCESS_TOKEN_PREFIX = 'rh_pat_';

/** SHA-256 (hex) of a random token: what the database keeps of links and access tokens. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random token (32 bytes, base64url) with an optional prefix, and its hash. */
export function newToken(prefix = ''): { token: string; hash: string } {
  const token = prefix + randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token) };
}
