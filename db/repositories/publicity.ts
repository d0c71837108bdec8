import type { Db } from '../knex.js';

export interface PublicityView {
  publicityId: string;
  title: string;
  subjectKind: string;
  subjectId: string;
  parentId: string | null;
  workingDays: number;
  opensOn: string | null;
  firstDay: string;
  lastDay: string;
  endsAt: Date;
  estimated: boolean;
  calendarVersion: number;
  status: string;
  workflowId: string;
  entries: {
    entryId: string;
    applicationId: string;
    title: string;
    institutionName: string;
    rank: number | null;
    status: string;
    /** What is published besides the title: a grade, a proposed removal. */
    result: string | null;
  }[];
}

export async function findPublicity(db: Db, publicityId: string): Promise<PublicityView | undefined> {
  const p = await db('publicity_periods').where({ id: publicityId }).first<
    | {
        id: string;
        title_zh: string;
        subject_kind: string;
        subject_id: string;
        parent_id: string | null;
        working_days: number;
        opens_on: string | null;
        first_day: string;
        last_day: string;
        ends_at: Date;
        estimated: boolean;
        calendar_version: number;
        status: string;
        workflow_id: string;
      }
    | undefined
  >();
  if (!p) return undefined;
  const entries = await db('publicity_entries as e')
    .join('institutions as i', 'i.id', 'e.institution_id')
    .where('e.publicity_id', p.id)
    .orderBy([{ column: 'e.rank' }, { column: 'e.id' }])
    .select<
      {
        id: string;
        item_id: string;
        title_zh: string;
        name_zh: string;
        rank: number | null;
        status: string;
        result_zh: string | null;
      }[]
    >('e.id', 'e.item_id', 'e.title_zh', 'i.name_zh', 'e.rank', 'e.status', 'e.result_zh');
  return {
    publicityId: p.id,
    title: p.title_zh,
    subjectKind: p.subject_kind,
    subjectId: p.subject_id,
    parentId: p.parent_id,
    workingDays: p.working_days,
    opensOn: p.opens_on,
    firstDay: p.first_day,
    lastDay: p.last_day,
    endsAt: p.ends_at,
    estimated: p.estimated,
    calendarVersion: p.calendar_version,
    status: p.status,
    workflowId: p.workflow_id,
    entries: entries.map((e) => ({
      entryId: e.id,
      applicationId: e.item_id,
      title: e.title_zh,
      institutionName: e.name_zh,
      rank: e.rank,
      status: e.status,
      result: e.result_zh,
    })),
  };
}

export async function periodsOf(db: Db, subjectId: string) {
  return db('publicity_periods').where({ subject_id: subjectId }).orderBy('published_at').select<
    {
      id: string;
      title_zh: string;
      first_day: string;
      last_day: string;
      ends_at: Date;
      status: string;
      parent_id: string | null;
    }[]
  >('id', 'title_zh', 'first_day', 'last_day', 'ends_at', 'status', 'parent_id');
}

export interface OutcomeView {
  roundId: string;
  title: string;
  programme: string;
  status: string;
  approvedAt: Date | null;
  approved: { applicationId: string; title: string; institutionName: string; directoryEntryId: string | null }[];
}

/** The 认定 result of a round (empty until the round is approved). */
export async function roundOutcome(db: Db, roundId: string): Promise<OutcomeView | undefined> {
  const round = await db('rounds as r')
    .join('programmes as p', 'p.key', 'r.programme')
    .where('r.id', roundId)
    .first<{ title_zh: string; name_zh: string; status: string; approved_at: Date | null } | undefined>(
      'r.title_zh',
      'p.name_zh',
      'r.status',
      'r.approved_at',
    );
  if (!round) return undefined;
  const approved = await db('applications as a')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .leftJoin('directory_entries as d', 'd.application_id', 'a.id')
    .where({ 'a.round_id': roundId, 'a.status': 'approved' })
    .orderBy([{ column: 'i.name_zh' }, { column: 'a.title_zh' }])
    .select<{ id: string; title_zh: string; name_zh: string; directory_id: string | null }[]>(
      'a.id',
      'a.title_zh',
      'i.name_zh',
      'd.id as directory_id',
    );
  return {
    roundId,
    title: round.title_zh,
    programme: round.name_zh,
    status: round.status,
    approvedAt: round.approved_at,
    approved: approved.map((a) => ({
      applicationId: a.id,
      title: a.title_zh,
      institutionName: a.name_zh,
      directoryEntryId: a.directory_id,
    })),
  };
}
