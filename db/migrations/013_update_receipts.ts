import type { Knex } from 'knex';

/**
 * Durable receipts (issue 13, point 3). A person's request that a workflow judges by its receipt time — a
 * submission, a withdrawal, a report, a nomination, an RSVP, an objection — is written here, with the Update
 * that carries it, before that Update is sent. The row outlives the API process: one that died between the
 * two (or whose Update could not reach Temporal) leaves the row `pending`, and the sweeper delivers it under
 * the same Update id once its lease has run out, so an on-time receipt is never lost and never doubled.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('update_receipts', (t) => {
    /** The Update id: `<caller>/<Idempotency-Key>#<attempt>`, or `receipt/<uuid>` for a request without a key. */
    t.text('update_id').primary();
    t.text('workflow_id').notNullable();
    /** The Update's name, e.g. `submitApplication`. */
    t.text('update_name').notNullable();
    /** The Update's one argument, as sent (it carries `receivedAt`). */
    t.jsonb('update_arg').notNullable();
    /** The principal's actor, or `public`. */
    t.text('caller').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    /** `pending` until the workflow answered: `accepted`, `refused` (a catalogue code), or `failed` (not ours to retry). */
    t.text('status').notNullable().checkIn(['pending', 'accepted', 'refused', 'failed']);
    /** The refusal's code, or the failure's message. */
    t.text('outcome_code');
    t.text('outcome_message');
    /** Nobody redelivers the row before this (the API holds it while it sends; the sweeper while it redelivers). */
    t.timestamp('locked_until', { useTz: true }).notNullable();
    /** How many times the sweeper redelivered it. */
    t.integer('redeliveries').notNullable().defaultTo(0);
    t.timestamp('answered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`create index update_receipts_due on update_receipts (locked_until) where status = 'pending'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('update_receipts');
}
