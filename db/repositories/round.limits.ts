import type { Db } from '../knex.js';
import { COUNTED_STATUSES } from '../../domain/applications.js';
import { normaliseStaffNo } from '../../domain/people.js';

/**
 * Applications that count against the limits, by the applicant and by its university (colleges included):
 * at submission those handed in (`COUNTED_STATUSES`) but the one being submitted; at the formal check only
 * earlier receipts that passed it (`statuses: ['formal_passed']`).
 */
export async function countCommitted(
  db: Db,
  q: {
    roundId: string;
    institutionId: string;
    universityId: string;
    excludeApplicationId?: string | undefined;
    statuses?: readonly string[] | undefined;
  },
): Promise<{ byApplicant: number; byUniversity: number }> {
  const row = await db('applications as a')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .where('a.round_id', q.roundId)
    .whereIn('a.status', q.statuses ?? COUNTED_STATUSES)
    .modify((w) => {
      if (q.excludeApplicationId) void w.whereNot('a.id', q.excludeApplicationId);
    })
    .where((w) => void w.where('i.id', q.universityId).orWhere('i.parent_id', q.universityId))
    .select(
      db.raw('count(*) filter (where a.institution_id = ?)::int as by_applicant', [q.institutionId]),
      db.raw('count(*)::int as by_university'),
    )
    .first<{ by_applicant: number; by_university: number }>();
  return { byApplicant: row.by_applicant, byUniversity: row.by_university };
}

export interface BanRow {
  reason: string;
  endsOn: string;
  institutionId: string;
}

/** A bar (5 years after a revocation) on the institution or its university, in force on `day`. */
export async function activeBan(
  db: Db,
  q: { programme: string; institutionIds: string[]; day: string },
): Promise<BanRow | undefined> {
  const row = await db('bans')
    .where('programme', q.programme)
    .whereIn('institution_id', q.institutionIds)
    .where('starts_on', '<=', q.day)
    .where('ends_on', '>', q.day)
    .orderBy('ends_on', 'desc')
    .first<{ reason: string; ends_on: string; institution_id: string } | undefined>(
      'reason',
      'ends_on',
      'institution_id',
    );
  return row ? { reason: row.reason, endsOn: row.ends_on, institutionId: row.institution_id } : undefined;
}

/**
 * The `people` id of a staff member named by an institution, created or renamed as needed. A person is
 * (university, normalised 工号): 工号 are issued by the university, so the university and all its colleges
 * name one person by one number, however it is written (`normaliseStaffNo`: NFKC, spaces removed, upper
 * case). The row keeps the institution, number and name as last named.
 */
export async function upsertPerson(
  db: Db,
  p: { institutionId: string; staffNo: string; name: string },
): Promise<string> {
  const [row] = await db('people')
    .insert({
      institution_id: p.institutionId,
      university_id: db.raw('(select coalesce(parent_id, id) from institutions where id = ?)', [p.institutionId]),
      staff_no: p.staffNo.trim(),
      staff_key: normaliseStaffNo(p.staffNo),
      name_zh: p.name,
    })
    .onConflict(['university_id', 'staff_key'])
    .merge(['institution_id', 'staff_no', 'name_zh'])
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/**
 * How many open commitments each person has, leading and joining: applications handed in and not taken
 * back or failed, and research projects not yet closed. The application being checked is left out.
 */
export async function personalCommitments(
  db: Db,
  personIds: string[],
  excludeApplicationId: string,
  options: {
    /** At the formal check: applications of this round still awaiting it came later and do not count. */
    uncheckedRound?: string;
  } = {},
): Promise<Map<string, { led: number; joined: number }>> {
  const result = new Map(personIds.map((id) => [id, { led: 0, joined: 0 }]));
  if (personIds.length === 0) return result;
  const applications = await db('application_members as m')
    .join('applications as a', 'a.id', 'm.application_id')
    .whereIn('m.person_id', personIds)
    .whereIn('a.status', COUNTED_STATUSES)
    .whereNot('a.id', excludeApplicationId)
    .modify((q) => {
      if (options.uncheckedRound) {
        const round = options.uncheckedRound;
        void q.where((w) => void w.whereNot('a.round_id', round).orWhereNot('a.status', 'submitted'));
      }
    })
    .whereNotExists(db('projects as p').whereRaw('p.application_id = a.id'))
    .groupBy('m.person_id', 'm.role')
    .select<{ person_id: string; role: string; n: number }[]>('m.person_id', 'm.role', db.raw('count(*)::int as n'));
  const projects = await db('projects as p')
    .join('application_members as m', 'm.application_id', 'p.application_id')
    .whereIn('m.person_id', personIds)
    .whereNotIn('p.status', ['completed', 'failed', 'terminated'])
    .groupBy('m.person_id', 'm.role')
    .select<{ person_id: string; role: string; n: number }[]>('m.person_id', 'm.role', db.raw('count(*)::int as n'));
  for (const r of [...applications, ...projects]) {
    const entry = result.get(r.person_id)!;
    if (r.role === 'principal') entry.led += r.n;
    else entry.joined += r.n;
  }
  return result;
}
