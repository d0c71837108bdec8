import type { Knex } from 'knex';
import { normaliseStaffNo } from '../../domain/people.js';

/**
 * A person is (university, normalised 工号) (issue 14, point 6). 工号 are issued by the university, so one
 * person may be named by the university and by any of its colleges, and written `T2015031`, `t 2015031` or
 * `Ｔ２０１５０３１`. `people` gains `university_id` (the university of `institution_id`) and `staff_key`
 * (`normaliseStaffNo(staff_no)`), unique together in place of (institution_id, staff_no); `institution_id` and
 * `staff_no` stay as last named. Rows that are now one person are merged into one (the row named by the
 * university itself, else the lowest id): every reference (`application_members`, `applications` and `projects`
 * `principal_person_id`) moves to it, and an application that named both keeps one membership, as principal if
 * either was. `down` restores the old key but cannot split merged rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('people', (t) => {
    t.text('university_id').references('institutions.id');
    t.text('staff_key');
  });
  const rows = await knex('people as p')
    .join('institutions as i', 'i.id', 'p.institution_id')
    .orderBy('p.id')
    .select<{ id: string; institution_id: string; staff_no: string; university_id: string }[]>(
      'p.id',
      'p.institution_id',
      'p.staff_no',
      knex.raw('coalesce(i.parent_id, i.id) as university_id'),
    );
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    await knex('people')
      .where({ id: r.id })
      .update({ university_id: r.university_id, staff_key: normaliseStaffNo(r.staff_no) });
    const key = JSON.stringify([r.university_id, normaliseStaffNo(r.staff_no)]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const keep = group.find((r) => r.institution_id === r.university_id) ?? group[0]!;
    for (const dup of group.filter((r) => r.id !== keep.id)) {
      const both = knex('application_members').where({ person_id: keep.id }).select('application_id');
      await knex('application_members')
        .where({ person_id: keep.id })
        .whereIn(
          'application_id',
          knex('application_members').where({ person_id: dup.id, role: 'principal' }).select('application_id'),
        )
        .update({ role: 'principal' });
      await knex('application_members').where({ person_id: dup.id }).whereIn('application_id', both).delete();
      await knex('application_members').where({ person_id: dup.id }).update({ person_id: keep.id });
      await knex('applications').where({ principal_person_id: dup.id }).update({ principal_person_id: keep.id });
      await knex('projects').where({ principal_person_id: dup.id }).update({ principal_person_id: keep.id });
      await knex('people').where({ id: dup.id }).delete();
    }
  }
  await knex.schema.alterTable('people', (t) => {
    t.dropUnique(['institution_id', 'staff_no']);
    t.dropNullable('university_id');
    t.dropNullable('staff_key');
    t.unique(['university_id', 'staff_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('people', (t) => {
    t.dropUnique(['university_id', 'staff_key']);
    t.dropColumn('university_id');
    t.dropColumn('staff_key');
    t.unique(['institution_id', 'staff_no']);
  });
}
