import type { Knex } from 'knex';

/**
 * One account per expert of the pool (issue 15 walk). An expert account acts for its pool entry, and a review
 * link signs in as the expert's account (`accountOfExpert`), so the audit names the account that acted: with two
 * accounts for one expert, the link would pick one of them. The import already refused a second one
 * ('已有账号'); creating accounts one by one did not. `accounts_expert_unique` is a partial unique index on
 * `expert_id` (rows of other kinds have none), disabled accounts included: a disabled expert account is enabled
 * again, not replaced, so its history stays one account's.
 *
 * A database that already holds two accounts for one expert cannot take the index, and nothing here picks which
 * one to keep (each may have signed in and acted, and audit rows name it): the migration then fails, naming the
 * experts and their accounts, and changes nothing (it runs in knex's migration transaction). Whoever runs the
 * server decides, expert by expert, which account stays, deals with the others, and migrates again.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: { expert_id: string; accounts: string }[] }>(
    `select expert_id, string_agg(id::text || ' <' || email || '>', ', ' order by created_at) as accounts
       from accounts
      where expert_id is not null
      group by expert_id
     having count(*) > 1
      order by expert_id`,
  );
  if (rows.length > 0) {
    throw new Error(
      'migration 019_one_account_per_expert: these experts have more than one account; keep one account per ' +
        'expert (remove the others) and migrate again — nothing was changed: ' +
        rows.map((r) => `${r.expert_id}: ${r.accounts}`).join('; '),
    );
  }
  await knex.raw('create unique index accounts_expert_unique on accounts (expert_id) where expert_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index accounts_expert_unique');
}
