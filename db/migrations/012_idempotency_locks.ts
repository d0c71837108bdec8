import type { Knex } from 'knex';

/**
 * `Idempotency-Key` under concurrency: a try holds its key for a lease while it runs (a second try at the same
 * time is told to wait, 409 `IDEMPOTENCY_KEY_IN_USE`); a final answer keeps its headers (`Location`) for replay.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.timestamp('locked_until', { useTz: true });
    t.jsonb('response_headers');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropColumn('locked_until');
    t.dropColumn('response_headers');
  });
}
