import type { Knex } from 'knex';

/**
 * The expert pool belongs to staff (issue 16, point 1): an expert's contact has a phone as well as the email
 * (`phone`, optional). The conflicts an expert declares with the pool (`expert_conflicts` of source `declared`)
 * are kept once per party: the list's import replaces them as a set.
 *
 * @throws Error naming the experts with a party declared twice, when the database already holds some (remove
 *   the duplicates first).
 */
export async function up(knex: Knex): Promise<void> {
  const duplicates = await knex('expert_conflicts')
    .where({ source: 'declared' })
    .groupByRaw(`expert_id, coalesce(institution_id, ''), coalesce(enterprise_id, '')`)
    .havingRaw('count(*) > 1')
    .select<{ expert_id: string }[]>('expert_id');
  if (duplicates.length > 0) {
    throw new Error(
      `experts declare a conflict twice with one party: ${[...new Set(duplicates.map((d) => d.expert_id))].join(', ')}`,
    );
  }
  await knex.schema.alterTable('experts', (t) => {
    t.text('phone');
  });
  await knex.raw(
    `create unique index expert_conflicts_declared_once on expert_conflicts
       (expert_id, (coalesce(institution_id, '')), (coalesce(enterprise_id, ''))) where source = 'declared'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index expert_conflicts_declared_once');
  await knex.schema.alterTable('experts', (t) => {
    t.dropColumn('phone');
  });
}
