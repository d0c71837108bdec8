import type { Db } from '../knex.js';

/** A year's showcase (典型案例征集), as the API shows it and its activities read it. */
export interface ShowcaseRow {
  id: string;
  year: number;
  titleZh: string;
  /** launched / nominations_open / reviewing / published … */
  status: string;
  /** 24:00 Asia/Shanghai on `nominationsDueDay`; null until the call opens. */
  nominationsDueAt: Date | null;
  nominationsDueDay: string | null;
  estimated: boolean | null;
  publishedAt: Date | null;
  /** The version of typical_case's rules the showcase was launched under and applies. */
  rulesVersion: number;
}

/** An institution the call is sent to. */
export interface InvitedInstitution {
  id: string;
  name: string;
  contactEmail: string;
}

export type NominationSourceKind = 'directory_entry' | 'project';

export async function findShowcase(db: Db, showcaseId: string): Promise<ShowcaseRow | undefined> {
  const s = await db('showcases').where({ id: showcaseId }).first<
    | {
        id: string;
        year: number;
        title_zh: string;
        status: string;
        nominations_due_at: Date | null;
        nominations_due_day: string | null;
        estimated: boolean | null;
        published_at: Date | null;
        rules_version: number;
      }
    | undefined
  >('id', 'year', 'title_zh', 'status', 'nominations_due_at', 'nominations_due_day', 'estimated', 'published_at', 'rules_version');
  if (!s) return undefined;
  return {
    id: s.id,
    year: s.year,
    titleZh: s.title_zh,
    status: s.status,
    nominationsDueAt: s.nominations_due_at,
    nominationsDueDay: s.nominations_due_day,
    estimated: s.estimated,
    publishedAt: s.published_at,
    rulesVersion: s.rules_version,
  };
}

/** The call is open: nominations due on `dueDay` (24:00 Asia/Shanghai = `dueAt`). */
export async function markNominationsOpen(
  db: Db,
  showcaseId: string,
  due: { dueDay: string; dueAt: Date; estimated: boolean },
): Promise<void> {
  await db('showcases').where({ id: showcaseId }).update({
    status: 'nominations_open',
    nominations_due_day: due.dueDay,
    nominations_due_at: due.dueAt,
    estimated: due.estimated,
  });
}

/** Who may nominate: institutions with an active directory entry or a research project not terminated (id order). */
export async function eligibleInstitutions(db: Db): Promise<InvitedInstitution[]> {
  const rows = await db
    .select<{ id: string; name_zh: string; contact_email: string }[]>('i.id', 'i.name_zh', 'i.contact_email')
    .from('institutions as i')
    .where((w) => {
      void w
        .whereExists(db('directory_entries as d').whereRaw('d.institution_id = i.id').where('d.status', 'active'))
        .orWhereExists(db('projects as p').whereRaw('p.institution_id = i.id').whereNot('p.status', 'terminated'));
    })
    .orderBy('i.id');
  return rows.map((r) => ({ id: r.id, name: r.name_zh, contactEmail: r.contact_email }));
}

/** The institutions that have nominated at least one case in this showcase. */
export async function nominatingInstitutionIds(db: Db, showcaseId: string): Promise<Set<string>> {
  return new Set((await db('showcase_cases').where({ showcase_id: showcaseId }).pluck('institution_id')) as string[]);
}

/**
 * Serialises one institution's nominations in this showcase (a transaction-scoped advisory lock), so that two at
 * once cannot both pass the limit. Call first inside the nomination's transaction.
 */
export async function lockInstitutionNominations(trx: Db, showcaseId: string, institutionId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`${showcaseId}/${institutionId}`]);
}

/**
 * The nominated achievement, if it is the institution's own and may be nominated: an active directory entry, or
 * a project not terminated. Its programme and field go with the case.
 */
export async function eligibleSource(
  db: Db,
  source: { kind: NominationSourceKind; id: string; institutionId: string },
): Promise<{ programme: string; fieldKey: string | null } | undefined> {
  const row =
    source.kind === 'directory_entry'
      ? await db('directory_entries')
          .where({ id: source.id, institution_id: source.institutionId, status: 'active' })
          .first<{ programme: string; field_key: string | null } | undefined>('programme', 'field_key')
      : await db('projects')
          .where({ id: source.id, institution_id: source.institutionId })
          .whereNot('status', 'terminated')
          .first<{ programme: string; field_key: string | null } | undefined>('programme', 'field_key');
  return row ? { programme: row.programme, fieldKey: row.field_key } : undefined;
}

/** The cases the institution has nominated in this showcase. */
export async function nominationsOf(
  db: Db,
  showcaseId: string,
  institutionId: string,
): Promise<{ id: string; sourceKind: string; sourceId: string }[]> {
  const rows = await db('showcase_cases')
    .where({ showcase_id: showcaseId, institution_id: institutionId })
    .select<{ id: string; source_kind: string; source_id: string }[]>('id', 'source_kind', 'source_id');
  return rows.map((r) => ({ id: r.id, sourceKind: r.source_kind, sourceId: r.source_id }));
}

/** A nominated case; returns its id. */
export async function insertNomination(
  trx: Db,
  c: {
    showcaseId: string;
    institutionId: string;
    sourceKind: NominationSourceKind;
    sourceId: string;
    programme: string;
    industryKey: string | null;
    title: string;
    summary: string;
    nominatedAt: string;
    nominatedBy: string;
  },
): Promise<string> {
  const [row] = await trx('showcase_cases')
    .insert({
      showcase_id: c.showcaseId,
      institution_id: c.institutionId,
      source_kind: c.sourceKind,
      source_id: c.sourceId,
      programme: c.programme,
      industry_key: c.industryKey,
      title_zh: c.title,
      summary_zh: c.summary,
      status: 'nominated',
      nominated_at: c.nominatedAt,
      nominated_by: c.nominatedBy,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/** Nominations are closed and the experts review; returns how many cases were nominated. */
export async function closeShowcaseNominations(db: Db, showcaseId: string): Promise<number> {
  await db('showcases').where({ id: showcaseId }).update({ status: 'reviewing' });
  const n = await db('showcase_cases').where({ showcase_id: showcaseId }).count<{ n: number }[]>('* as n');
  return Number(n[0]!.n);
}

/** The cases still listed at the end of the showcase's publicity period (not struck off by an objection). */
export async function listedCaseIds(db: Db, showcaseId: string): Promise<string[]> {
  return (await db('publicity_entries as e')
    .join('publicity_periods as p', 'p.id', 'e.publicity_id')
    .where({ 'p.subject_kind': 'showcase', 'p.subject_id': showcaseId, 'e.status': 'listed' })
    .pluck('e.item_id')) as string[];
}

/** Copies each case's aggregated expert score and rank from the showcase's review onto the case. */
export async function copyCaseScores(trx: Db, showcaseId: string): Promise<void> {
  const results = await trx('review_results as rr')
    .join('reviews as r', 'r.id', 'rr.review_id')
    .where({ 'r.subject_kind': 'showcase', 'r.subject_id': showcaseId, 'rr.item_kind': 'case' })
    .select<{ item_id: string; score: string | null; rank: number }[]>('rr.item_id', 'rr.score', 'rr.rank');
  for (const r of results) {
    await trx('showcase_cases').where({ id: r.item_id }).update({ score: r.score, rank: r.rank });
  }
}

/** Every case still `nominated` becomes `selected` when listed, `not_selected` otherwise. */
export async function settleSelection(trx: Db, showcaseId: string, listed: string[]): Promise<void> {
  await trx('showcase_cases')
    .where({ showcase_id: showcaseId, status: 'nominated' })
    .update({ status: trx.raw(`case when id::text = any(?) then 'selected' else 'not_selected' end`, [listed]) });
}

/** Marks the showcase published at `at`; false when it already was, so a retry publishes nothing twice. */
export async function markShowcasePublished(db: Db, showcaseId: string, at: Date): Promise<boolean> {
  const n = await db('showcases')
    .where({ id: showcaseId })
    .whereNot({ status: 'published' })
    .update({ status: 'published', published_at: at });
  return n > 0;
}

/** Every case of the showcase with its outcome and where to write to its institution, in id order. */
export async function casesToTell(
  db: Db,
  showcaseId: string,
): Promise<{ id: string; status: string; title: string; institutionName: string; contactEmail: string }[]> {
  const rows = await db('showcase_cases as c')
    .join('institutions as i', 'i.id', 'c.institution_id')
    .where('c.showcase_id', showcaseId)
    .orderBy('c.id')
    .select<{ id: string; status: string; title_zh: string; name_zh: string; contact_email: string }[]>(
      'c.id',
      'c.status',
      'c.title_zh',
      'i.name_zh',
      'i.contact_email',
    );
  return rows.map((c) => ({
    id: c.id,
    status: c.status,
    title: c.title_zh,
    institutionName: c.name_zh,
    contactEmail: c.contact_email,
  }));
}
