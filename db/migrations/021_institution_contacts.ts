import type { Knex } from 'knex';

/**
 * Institutions belong to staff (issue 16, point 1): a contact has a name, a phone and an email, where only the
 * name and email were kept (`contact_phone` is new, optional). Two institutions under one parent (two
 * universities, or two colleges of one university) never share a name: the lists staff keep in Excel are read
 * by name as well as by id, and a name that meant two units would attach people to the wrong one.
 *
 * @throws Error naming the duplicated names, when the database already holds some (rename them first).
 */
export async function up(knex: Knex): Promise<void> {
  const duplicates = await knex('institutions')
    .select(knex.raw(`coalesce(parent_id, '') as parent`), 'name_zh')
    .groupByRaw(`coalesce(parent_id, ''), name_zh`)
    .havingRaw('count(*) > 1');
  if (duplicates.length > 0) {
    throw new Error(
      `institutions share a name under one parent: ${duplicates.map((d: { parent: string; name_zh: string }) => `${d.parent || '(universities)'}/${d.name_zh}`).join(', ')}`,
    );
  }
  await knex.schema.alterTable('institutions', (t) => {
    t.text('contact_phone');
  });
  await knex.raw(
    `create unique index institutions_name_under_parent on institutions ((coalesce(parent_id, '')), name_zh)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index institutions_name_under_parent');
  await knex.schema.alterTable('institutions', (t) => {
    t.dropColumn('contact_phone');
  });
}
