import type { Knex } from 'knex';

/**
 * The call for applications in full: an application's working copy (draft) with a revision counter,
 * submitted versions that snapshot it, attachments that outlive drafts, the deadline's provenance, and the
 * workflow time each email was due (so tests and ops can check reminder hours).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    // The working copy the applicant edits; each submission snapshots it as a new version.
    t.jsonb('draft').notNullable().defaultTo('{}');
    t.integer('revision').notNullable().defaultTo(0);
    t.integer('submitted_revision');
    t.text('created_by').notNullable().defaultTo('');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('formal_checked_at', { useTz: true });
  });
  await knex.schema.alterTable('application_versions', (t) => {
    t.integer('revision').notNullable().defaultTo(0);
    t.unique(['application_id', 'revision']);
  });
  await knex.schema.alterTable('attachments', (t) => {
    t.dropIndex(['application_id', 'version']);
    t.dropColumn('version');
    t.text('uploaded_by').notNullable().defaultTo('');
    t.timestamp('removed_at', { useTz: true });
    t.index(['application_id']);
  });
  await knex.schema.alterTable('rounds', (t) => {
    // 'calendar' (N working days from the opening) or 'staff' (a day chosen at launch or by an extension).
    t.text('deadline_source');
    t.integer('grace_seconds').notNullable().defaultTo(600);
  });
  await knex.schema.alterTable('email_outbox', (t) => {
    t.timestamp('due_at', { useTz: true });
  });
  await knex.schema.alterTable('applications', (t) => {
    t.index(['round_id', 'institution_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.dropIndex(['round_id', 'institution_id']);
  });
  await knex.schema.alterTable('email_outbox', (t) => {
    t.dropColumn('due_at');
  });
  await knex.schema.alterTable('rounds', (t) => {
    t.dropColumn('deadline_source');
    t.dropColumn('grace_seconds');
  });
  await knex.schema.alterTable('attachments', (t) => {
    t.dropIndex(['application_id']);
    t.dropColumn('removed_at');
    t.dropColumn('uploaded_by');
    t.integer('version').notNullable().defaultTo(0);
    t.index(['application_id', 'version']);
  });
  await knex.schema.alterTable('application_versions', (t) => {
    t.dropUnique(['application_id', 'revision']);
    t.dropColumn('revision');
  });
  await knex.schema.alterTable('applications', (t) => {
    for (const c of ['draft', 'revision', 'submitted_revision', 'created_by', 'updated_at', 'formal_checked_at'])
      t.dropColumn(c);
  });
}
