import type { Knex } from 'knex';

/**
 * Crash-proof decisions (issue 13): every activity that records a person's decision stores its result under
 * the decision's key in the same transaction as the decision itself, so an attempt retried after the commit
 * returns the recorded result instead of refusing the decision as already made.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('decision_results', (t) => {
    t.text('workflow_id').notNullable();
    /** The Update id, or `activity:<run id>/<activity id>` for a decision the workflow makes itself. */
    t.text('decision_key').notNullable();
    t.text('activity').notNullable();
    t.jsonb('result');
    /** Idempotency keys of the emails the decision put in the outbox (delivered after the commit). */
    t.specificType('email_keys', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['workflow_id', 'decision_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('decision_results');
}
