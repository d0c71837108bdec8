import type { Knex } from 'knex';

/**
 * Expert review: assignments carry their due day and wave (0 = first assignment, 1 = replacement), a
 * review's results are kept per item with its flags and rank, and staff's confirmation of the shortlist is
 * recorded on them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reviews', (t) => {
    t.text('workflow_id');
    t.text('status_reason');
    t.integer('min_valid_scores').notNullable().defaultTo(3);
    t.integer('quota');
  });
  await knex.schema.alterTable('review_assignments', (t) => {
    t.integer('wave').notNullable().defaultTo(0);
    t.date('due_day');
    t.timestamp('accepted_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.boolean('declared_conflict').notNullable().defaultTo(false);
    t.index(['review_id', 'status', 'due_day']);
    t.index(['review_id', 'item_id']);
  });
  await knex.schema.createTable('review_results', (t) => {
    t.uuid('review_id').notNullable().references('reviews.id');
    t.text('item_kind').notNullable();
    t.text('item_id').notNullable();
    t.integer('valid_scores').notNullable();
    t.decimal('mean', 6, 2);
    t.decimal('trimmed_mean', 6, 2);
    t.decimal('score', 6, 2);
    t.decimal('spread', 6, 2);
    t.specificType('flags', 'text[]').notNullable().defaultTo('{}');
    t.integer('rank').notNullable();
    t.boolean('recommended').notNullable();
    /** Staff's decision: null until the shortlist is confirmed. */
    t.boolean('confirmed');
    t.text('adjustment_reason');
    t.primary(['review_id', 'item_kind', 'item_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('review_results');
  await knex.schema.alterTable('review_assignments', (t) => {
    t.dropIndex(['review_id', 'item_id']);
    t.dropIndex(['review_id', 'status', 'due_day']);
    for (const c of ['wave', 'due_day', 'accepted_at', 'closed_at', 'declared_conflict']) t.dropColumn(c);
  });
  await knex.schema.alterTable('reviews', (t) => {
    for (const c of ['workflow_id', 'status_reason', 'min_valid_scores', 'quota']) t.dropColumn(c);
  });
}
