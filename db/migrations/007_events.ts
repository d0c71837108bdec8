import type { Knex } from 'knex';

/**
 * Showcase events (路演, 展会): a workflow per event. A move bumps `version` (what the presenters were told);
 * reminders are keyed by their day, so those of a new date are new occasions, those of an old date are never
 * sent, and a move within the same day does not repeat them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('showcase_events', (t) => {
    t.text('workflow_id');
    t.integer('version').notNullable().defaultTo(1);
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).defaultTo(knex.fn.now());
    t.jsonb('compressed_time');
    t.timestamp('attendance_recorded_at', { useTz: true });
  });
  await knex.schema.alterTable('event_invitations', (t) => {
    t.text('decline_reason');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('event_invitations', (t) => {
    t.dropColumn('decline_reason');
  });
  await knex.schema.alterTable('showcase_events', (t) => {
    for (const c of ['workflow_id', 'version', 'created_by', 'created_at', 'compressed_time', 'attendance_recorded_at'])
      t.dropColumn(c);
  });
}
