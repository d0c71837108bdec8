import type { Db } from '../knex.js';
import {
  evaluationRubric,
  projectReportRubric,
  type ProgrammeRules,
  type RubricCriterion,
} from '../../domain/programmes.js';
import { quotaOf } from '../../domain/review/scoring.js';
import { findProgramme, programmeOfLaunch, programmeOfProject, type ProgrammeRow } from './programmes.js';
import { roundContext } from './round.rules.js';
import { itemKindOf, type ReviewItemKind, type ReviewSubjectKind } from '../../domain/review/subjects.js';

export interface ReviewSubject {
  kind: ReviewSubjectKind;
  id: string;
  programme: ProgrammeRow;
  review: ProgrammeRules['review'];
  rubric: RubricCriterion[];
  /** How many may be recommended; none for evaluations (every item gets its score and grade). */
  quota: number | undefined;
  /** "2027年度产教融合示范学院年度动态评价专家评审" — in invitations, reminders and the staff summary. */
  titleZh: string;
  itemKind: ReviewItemKind;
}

function evaluationRubricOf(rules: ProgrammeRules): RubricCriterion[] {
  return rules.directory?.evaluationRubric ?? [...evaluationRubric];
}

/** The programme, rules, rubric and title of whatever a review is of. */
export async function reviewSubject(db: Db, kind: ReviewSubjectKind, id: string): Promise<ReviewSubject | undefined> {
  if (kind === 'round') {
    const ctx = await roundContext(db, id);
    if (!ctx) return undefined;
    const round = await db('rounds').where({ id }).first<{ title_zh: string }>('title_zh');
    return {
      kind,
      id,
      programme: ctx.programme,
      review: ctx.rules.review,
      rubric: ctx.rules.rubric,
      quota: Math.min(quotaOf(ctx.rules.quota), 2_147_483_647),
      titleZh: `${round.title_zh}专家评审`,
      itemKind: 'application',
    };
  }
  if (kind === 'showcase') {
    const showcase = await db('showcases')
      .where({ id })
      .first<{ title_zh: string; quota: number | null } | undefined>('title_zh', 'quota');
    const programme = await programmeOfLaunch(db, 'showcases', id);
    if (!showcase || !programme) return undefined;
    return {
      kind,
      id,
      programme,
      review: programme.rules.review,
      rubric: programme.rules.rubric,
      quota: showcase.quota ?? 2_147_483_647,
      titleZh: `${showcase.title_zh}专家评审`,
      itemKind: 'case',
    };
  }
  if (kind === 'project_report') {
    const report = await db('project_reports as r')
      .join('projects as p', 'p.id', 'r.project_id')
      .where('r.id', id)
      .first<{ project_id: string; title_zh: string; kind: 'midterm' | 'final'; attempt: number } | undefined>(
        'p.id as project_id',
        'p.title_zh',
        'r.kind',
        'r.attempt',
      );
    if (!report) return undefined;
    const programme = await programmeOfProject(db, report.project_id);
    if (!programme) return undefined;
    const what = report.kind === 'midterm' ? '中期检查' : report.attempt > 1 ? '结项（再次提交）' : '结项';
    return {
      kind,
      id,
      programme,
      review: programme.rules.review,
      rubric: [...projectReportRubric],
      quota: undefined,
      titleZh: `“${report.title_zh}”${what}专家评审`,
      itemKind: 'project_report',
    };
  }
  const row =
    kind === 'evaluation'
      ? await db('evaluations').where({ id }).first<{ programme: string; title_zh: string } | undefined>()
      : await db('rectifications as x')
          .join('directory_entries as d', 'd.id', 'x.directory_entry_id')
          .where('x.id', id)
          .first<{ programme: string; title_zh: string } | undefined>('d.programme', 'd.title_zh');
  if (!row) return undefined;
  const programme =
    kind === 'evaluation' ? await programmeOfLaunch(db, 'evaluations', id) : await findProgramme(db, row.programme);
  if (!programme) return undefined;
  return {
    kind,
    id,
    programme,
    review: programme.rules.review,
    rubric: evaluationRubricOf(programme.rules),
    quota: undefined,
    titleZh: kind === 'evaluation' ? `${row.title_zh}专家评审` : `“${row.title_zh}”整改情况专家复评`,
    itemKind: itemKindOf[kind],
  };
}
