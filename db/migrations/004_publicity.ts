import type { Knex } from 'knex';

/**
 * Publicity periods belong to a workflow (objections reach it as Updates); an entry may stand in for one
 * removed by an upheld objection (递补); objections keep the client they came from (rate limiting) and are
 * told of their resolution; a round records when its result became final (认定).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('publicity_periods', (t) => {
    t.text('workflow_id');
    t.date('opens_on');
  });
  await knex.schema.alterTable('publicity_entries', (t) => {
    t.uuid('substitutes_entry_id').references('publicity_entries.id');
    t.text('removal_reason');
  });
  await knex.schema.alterTable('objections', (t) => {
    t.text('client_ip');
    t.index(['publicity_id', 'entry_id']);
  });
  await knex.schema.alterTable('rounds', (t) => {
    t.timestamp('approved_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rounds', (t) => {
    t.dropColumn('approved_at');
  });
  await knex.schema.alterTable('objections', (t) => {
    t.dropIndex(['publicity_id', 'entry_id']);
    t.dropColumn('client_ip');
  });
  await knex.schema.alterTable('publicity_entries', (t) => {
    t.dropColumn('substitutes_entry_id');
    t.dropColumn('removal_reason');
  });
  await knex.schema.alterTable('publicity_periods', (t) => {
    t.dropColumn('workflow_id');
    t.dropColumn('opens_on');
  });
}
