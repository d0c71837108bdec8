import type { Db } from '../knex.js';

/**
 * The OpenID Connect identity an account is linked to (migration 016): the provider's issuer and the `sub` it
 * gave the person. A pair names one account at most (unique); an account has one identity at most.
 */

/** An identity at a provider: its issuer identifier and the subject (`sub`) it gave. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
}

/** The id of the account linked to this identity, or undefined. */
export async function accountIdByOidcIdentity(db: Db, identity: OidcIdentity): Promise<string | undefined> {
  const row = await db('accounts')
    .where({ oidc_issuer: identity.issuer, oidc_subject: identity.subject })
    .first<{ id: string } | undefined>('id');
  return row?.id;
}

/** The identity linked to the account, or undefined (none yet, or no such account). */
export async function oidcIdentityOf(db: Db, accountId: string): Promise<OidcIdentity | undefined> {
  const row = await db('accounts')
    .where({ id: accountId })
    .first<{ oidc_issuer: string | null; oidc_subject: string | null } | undefined>('oidc_issuer', 'oidc_subject');
  return row?.oidc_issuer && row.oidc_subject ? { issuer: row.oidc_issuer, subject: row.oidc_subject } : undefined;
}

/**
 * Links the identity to the account, only if the account has none yet and no other account has this one (one
 * statement; the unique index decides a race). Returns false when it was not linked.
 */
export async function linkOidcIdentity(db: Db, accountId: string, identity: OidcIdentity, at: Date): Promise<boolean> {
  try {
    const result = await db.raw<{ rowCount: number }>(
      `update accounts set oidc_issuer = ?, oidc_subject = ?, oidc_linked_at = ?
        where id = ? and oidc_issuer is null
          and not exists (select 1 from accounts where oidc_issuer = ? and oidc_subject = ?)`,
      [identity.issuer, identity.subject, at, accountId, identity.issuer, identity.subject],
    );
    return result.rowCount > 0;
  } catch (err) {
    // Two first sign-ins of one identity at once: the unique index lets one through.
    if ((err as { code?: unknown }).code === '23505') return false;
    throw err;
  }
}
