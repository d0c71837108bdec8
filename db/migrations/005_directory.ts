import type { Knex } from 'knex';

/** A directory entry is kept in step with its member workflow; each change of status is timestamped. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('directory_entries', (t) => {
    t.text('workflow_id');
    t.timestamp('status_changed_at', { useTz: true });
    t.text('status_reason');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('directory_entries', (t) => {
    t.dropColumn('workflow_id');
    t.dropColumn('status_changed_at');
    t.dropColumn('status_reason');
  });
}
