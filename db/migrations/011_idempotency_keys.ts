import type { Knex } from 'knex';

/**
 * `Idempotency-Key` (issue 13, point 3): a mutating request's first receipt, and its first final answer, kept
 * per caller and key. A row is written before the request's Update is sent, so it is also the durable receipt:
 * a retry under the same key keeps the first receipt time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    /** The principal's actor (`staff:…`, `applicant:…`), or `public` for anonymous callers. */
    t.text('caller').notNullable();
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    /** sha256 of method, path and the JSON body: the same key with another request is refused. */
    t.text('fingerprint').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('status').notNullable().checkIn(['in_flight', 'final']);
    /** Bumped when a try ended in a transient failure Temporal keeps under the Update id: the next try gets a new one. */
    t.integer('attempt').notNullable().defaultTo(1);
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('answered_at', { useTz: true });
    t.primary(['caller', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
