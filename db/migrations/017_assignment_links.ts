import type { Knex } from 'knex';

/**
 * Expert assignment links (issue 15, point 4). Each review email to an expert — the invitation, a replacement's
 * invitation, each reminder — carries its own link to the assignments it is about. Only a SHA-256 of the random
 * token is kept (like `account_links`), so a link can be revoked and its uses audited but never read back.
 * `email_key` is the idempotency key of the email that carries the link: a retried activity finds the link it
 * recorded (and the email, frozen in the outbox in the same transaction) instead of making another.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('assignment_links', (t) => {
    t.bigIncrements('id');
    /** SHA-256 (hex) of the token in the link. */
    t.text('token_hash').notNullable().unique();
    t.text('email_key').notNullable().unique();
    t.text('expert_id').notNullable().references('experts.id');
    t.uuid('review_id').notNullable().references('reviews.id');
    /** The review assignments (all the expert's) the link reaches; nothing else. */
    t.specificType('assignment_ids', 'uuid[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** The latest due time of its assignments plus the grace (`ASSIGNMENT_LINK_GRACE_HOURS`). */
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.integer('uses').notNullable().defaultTo(0);
    t.check('cardinality(assignment_ids) >= 1', [], 'assignment_links_not_empty');
    t.index(['expert_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('assignment_links');
}
