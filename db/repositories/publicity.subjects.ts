import type { Knex } from 'knex';
import type { Db } from '../knex.js';
import { gradeZh, type EvaluationGrade } from '../../domain/programmes.js';
import { findProgramme, programmeOfLaunch } from './programmes.js';
import { roundContext } from './round.rules.js';

/**
 * What a publicity period publishes: a round's list to be approved (拟认定名单), a year's evaluation results
 * (objections are appeals), or a member's removal from the directory (appeals on procedural grounds only).
 */
export type PublicitySubjectKind = 'round' | 'evaluation' | 'removal' | 'showcase';

/** One row of a published list, before it becomes a `publicity_entries` row. */
export interface PublishedRow {
  item_kind: string;
  item_id: string;
  institution_id: string;
  title_zh: string;
  rank: number | null;
  result_zh: string | null;
}

/** The title, length and entries of what a period publishes. */
export interface PublicitySubject {
  titleZh: string;
  /** The period's length in working days, by the programme's (or round's) rules. */
  workingDays: number;
  /** The rows to list: the named items (a re-publicity of changes), else all the first period lists. */
  entries(itemIds: string[] | undefined): Promise<PublishedRow[]>;
}

/**
 * The reviewed items of a list (query aliased `a`, joined to `review_results rr`), best rank first: the named
 * items (a re-publicity of changes), else those the first period lists.
 */
function ranked(
  db: Db,
  query: Knex.QueryBuilder,
  itemKind: 'application' | 'case',
  itemIds: string[] | undefined,
  firstPeriod: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<PublishedRow[]> {
  return (itemIds ? query.whereIn('a.id', itemIds) : firstPeriod(query))
    .orderBy([{ column: 'rr.rank' }, { column: 'a.id' }])
    .select<PublishedRow[]>(
      db.raw(`'${itemKind}' as item_kind`),
      db.raw('a.id::text as item_id'),
      'a.institution_id',
      'a.title_zh',
      'rr.rank',
      db.raw('null as result_zh'),
    );
}

/** A round's 拟认定名单: its shortlisted applications. */
async function roundSubject(trx: Db, roundId: string, parentId: string | undefined) {
  const ctx = await roundContext(trx, roundId);
  if (!ctx) return undefined;
  const round = await trx('rounds').where({ id: roundId }).first<{ title_zh: string }>('title_zh');
  return {
    titleZh: `${round.title_zh}拟认定名单${parentId ? '（递补）' : ''}公示`,
    workingDays: ctx.rules.publicity.workingDays,
    entries: (itemIds: string[] | undefined): Promise<PublishedRow[]> =>
      ranked(
        trx,
        trx('applications as a')
          .joinRaw('left join review_results rr on rr.item_id = a.id::text')
          .where('a.round_id', roundId),
        'application',
        itemIds,
        (q) => q.where('a.status', 'shortlisted'),
      ),
  };
}

/** A showcase's 拟入选案例: the cases the experts recommended, best first. */
async function showcaseSubject(trx: Db, showcaseId: string) {
  const showcase = await trx('showcases').where({ id: showcaseId }).first<{ title_zh: string } | undefined>('title_zh');
  if (!showcase) return undefined;
  const programme = (await programmeOfLaunch(trx, 'showcases', showcaseId))!;
  return {
    titleZh: `${showcase.title_zh}拟入选案例公示`,
    workingDays: programme.rules.publicity.workingDays,
    entries: (itemIds: string[] | undefined): Promise<PublishedRow[]> =>
      ranked(
        trx,
        trx('showcase_cases as a')
          .join('review_results as rr', (j) => {
            j.on('rr.item_id', '=', trx.raw('a.id::text')).andOnVal('rr.item_kind', 'case');
          })
          .where('a.showcase_id', showcaseId),
        'case',
        itemIds,
        (q) => q.where({ 'rr.recommended': true, 'a.status': 'nominated' }),
      ),
  };
}

/** A year's evaluation results: every graded report, with its grade (and score) as the published result. */
async function evaluationSubject(trx: Db, evaluationId: string, parentId: string | undefined) {
  const evaluation = await trx('evaluations')
    .where({ id: evaluationId })
    .first<{ title_zh: string; programme: string } | undefined>('title_zh', 'programme');
  if (!evaluation) return undefined;
  const programme = (await programmeOfLaunch(trx, 'evaluations', evaluationId))!;
  return {
    titleZh: `${evaluation.title_zh}结果${parentId ? '（变更部分）' : ''}公示`,
    workingDays: programme.rules.publicity.workingDays,
    entries: async (itemIds: string[] | undefined): Promise<PublishedRow[]> => {
      const rows = await trx('evaluation_reports as r')
        .join('directory_entries as d', 'd.id', 'r.directory_entry_id')
        .where('r.evaluation_id', evaluationId)
        .whereNotNull('r.grade')
        .modify((q) => {
          if (itemIds) void q.whereIn('r.id', itemIds);
        })
        .orderBy([{ column: 'd.institution_id' }, { column: 'r.id' }])
        .select<
          {
            id: string;
            institution_id: string;
            title_zh: string;
            grade: EvaluationGrade;
            score: string | null;
            status: string;
          }[]
        >('r.id', 'd.institution_id', 'd.title_zh', 'r.grade', 'r.score', 'r.status');
      return rows.map((r) => ({
        item_kind: 'evaluation_report',
        item_id: r.id,
        institution_id: r.institution_id,
        title_zh: r.title_zh,
        rank: null,
        result_zh:
          r.status === 'missing'
            ? `${gradeZh[r.grade]}（未按期提交自评报告）`
            : `${gradeZh[r.grade]}${r.score === null ? '' : `（${Number(Number(r.score).toFixed(2))} 分）`}`,
      }));
    },
  };
}

/** A member's proposed removal from the directory after a failed rectification: one entry. */
async function removalSubject(trx: Db, rectificationId: string) {
  const x = await trx('rectifications as x')
    .join('directory_entries as d', 'd.id', 'x.directory_entry_id')
    .where('x.id', rectificationId)
    .first<
      | { directory_entry_id: string; institution_id: string; title_zh: string; programme: string; outcome: string }
      | undefined
    >('x.directory_entry_id', 'd.institution_id', 'd.title_zh', 'd.programme', 'x.outcome');
  if (!x) return undefined;
  const programme = (await findProgramme(trx, x.programme))!;
  return {
    titleZh: `关于拟将“${x.title_zh}”移出${programme.nameZh}名录的公示`,
    workingDays: programme.rules.publicity.workingDays,
    entries: (_itemIds: string[] | undefined): Promise<PublishedRow[]> =>
      Promise.resolve([
        {
          item_kind: 'directory_entry',
          item_id: x.directory_entry_id,
          institution_id: x.institution_id,
          title_zh: x.title_zh,
          rank: null,
          result_zh: x.outcome === 'no_report' ? '拟移出名录（逾期未提交整改报告）' : '拟移出名录（整改复评不合格）',
        },
      ]),
  };
}

/**
 * The title, length and entries of what a period publishes; `parentId` marks a re-publicity of changes
 * (递补, a corrected grade). Undefined when the subject (round, showcase, evaluation, rectification) is unknown.
 */
export function publicitySubject(
  trx: Db,
  kind: PublicitySubjectKind,
  subjectId: string,
  parentId: string | undefined,
): Promise<PublicitySubject | undefined> {
  if (kind === 'round') return roundSubject(trx, subjectId, parentId);
  if (kind === 'showcase') return showcaseSubject(trx, subjectId);
  if (kind === 'evaluation') return evaluationSubject(trx, subjectId, parentId);
  return removalSubject(trx, subjectId);
}
