import type { Knex } from 'knex';

/**
 * Sign-in through the province's identity provider (issue 15, point 2). An account remembers the OpenID Connect
 * identity it was matched to: the provider's issuer and the `sub` it gave. The first sign-in matches by a verified
 * email to an account the staff created; every later one by this pair, so a changed email at the provider still
 * finds the account. Both columns are set together or not at all, and a pair names one account at most.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.text('oidc_issuer');
    t.text('oidc_subject');
    t.timestamp('oidc_linked_at', { useTz: true });
    t.unique(['oidc_issuer', 'oidc_subject'], { indexName: 'accounts_oidc_identity_unique' });
  });
  await knex.raw(`alter table accounts add constraint accounts_oidc_identity_whole check (
    (oidc_issuer is null and oidc_subject is null and oidc_linked_at is null)
    or (oidc_issuer is not null and oidc_subject is not null and oidc_linked_at is not null))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table accounts drop constraint accounts_oidc_identity_whole');
  await knex.schema.alterTable('accounts', (t) => {
    t.dropUnique(['oidc_issuer', 'oidc_subject'], 'accounts_oidc_identity_unique');
    t.dropColumn('oidc_linked_at');
    t.dropColumn('oidc_subject');
    t.dropColumn('oidc_issuer');
  });
}
