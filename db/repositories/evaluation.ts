import type { Db } from '../knex.js';
import type { TimeCompression } from '../../domain/compressed-time.js';
import { currentRulesVersion } from './programmes.js';

export interface EvaluationRow {
  id: string;
  programme: string;
  year: number;
  titleZh: string;
  status: string;
  reportDueDay: string | null;
  reportDueAt: Date | null;
  estimated: boolean | null;
  calendarVersion: number | null;
  compression: TimeCompression | null;
  rectificationMonths: number | null;
  launchedBy: string;
  launchedAt: Date;
  publishedAt: Date | null;
  /** The programme's rules version the evaluation was launched under and applies. */
  rulesVersion: number;
}

interface RawEvaluation {
  id: string;
  programme: string;
  year: number;
  title_zh: string;
  status: string;
  report_due_day: string | null;
  report_due_at: Date | null;
  estimated: boolean | null;
  calendar_version: number | null;
  compressed_time: TimeCompression | null;
  rectification_months: number | null;
  launched_by: string;
  launched_at: Date;
  published_at: Date | null;
  rules_version: number;
}

/** "2027年度产教融合示范学院年度动态评价" */
export function evaluationTitleZh(programmeNameZh: string, year: number): string {
  return `${year}年度${programmeNameZh}动态评价`;
}

export class EvaluationExistsError extends Error {
  override name = 'EvaluationExistsError';
}

/**
 * The row that makes (programme, year) unique: a second launch, by hand or by a Schedule, is refused. The
 * evaluation keeps the programme's current rules version (`rules_version`), read in the same statement.
 */
export async function insertEvaluation(
  db: Db,
  e: {
    id: string;
    programme: string;
    year: number;
    titleZh: string;
    launchedBy: string;
    compression?: TimeCompression | undefined;
    rectificationMonths?: number | undefined;
  },
): Promise<void> {
  const inserted = await db('evaluations')
    .insert({
      id: e.id,
      programme: e.programme,
      rules_version: currentRulesVersion(db, e.programme),
      year: e.year,
      title_zh: e.titleZh,
      status: 'launched',
      workflow_id: e.id,
      launched_by: e.launchedBy,
      compressed_time: e.compression ? JSON.stringify(e.compression) : null,
      rectification_months: e.rectificationMonths ?? null,
    })
    .onConflict(['programme', 'year'])
    .ignore()
    .returning('id');
  if (inserted.length === 0) throw new EvaluationExistsError(`${e.programme} ${e.year}`);
}

export async function findEvaluation(db: Db, id: string): Promise<EvaluationRow | undefined> {
  const r = (await db('evaluations').where({ id }).first()) as RawEvaluation | undefined;
  if (!r) return undefined;
  return {
    id: r.id,
    programme: r.programme,
    year: r.year,
    titleZh: r.title_zh,
    status: r.status,
    reportDueDay: r.report_due_day,
    reportDueAt: r.report_due_at,
    estimated: r.estimated,
    calendarVersion: r.calendar_version,
    compression: r.compressed_time,
    rectificationMonths: r.rectification_months,
    launchedBy: r.launched_by,
    launchedAt: r.launched_at,
    publishedAt: r.published_at,
    rulesVersion: r.rules_version,
  };
}

export interface EvaluationResultRow {
  reportId: string;
  entryId: string;
  institutionId: string;
  institutionName: string;
  title: string;
  status: string;
  receivedAt: Date | null;
  score: number | null;
  validScores: number | null;
  grade: string | null;
  gradeReason: string | null;
}

/** Every member asked to report in one evaluation, with its report's state and grade. */
export async function evaluationResults(db: Db, evaluationId: string): Promise<EvaluationResultRow[]> {
  const rows = await db('evaluation_reports as r')
    .join('directory_entries as d', 'd.id', 'r.directory_entry_id')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .where('r.evaluation_id', evaluationId)
    .orderBy([{ column: 'i.id' }, { column: 'd.id' }])
    .select<
      {
        id: string;
        directory_entry_id: string;
        institution_id: string;
        name_zh: string;
        title_zh: string;
        status: string;
        received_at: Date | null;
        score: string | null;
        valid_scores: number | null;
        grade: string | null;
        grade_reason: string | null;
      }[]
    >(
      'r.id',
      'r.directory_entry_id',
      'd.institution_id',
      'i.name_zh',
      'd.title_zh',
      'r.status',
      'r.received_at',
      'r.score',
      'r.valid_scores',
      'r.grade',
      'r.grade_reason',
    );
  return rows.map((r) => ({
    reportId: r.id,
    entryId: r.directory_entry_id,
    institutionId: r.institution_id,
    institutionName: r.name_zh,
    title: r.title_zh,
    status: r.status,
    receivedAt: r.received_at,
    score: r.score === null ? null : Number(r.score),
    validScores: r.valid_scores,
    grade: r.grade,
    gradeReason: r.grade_reason,
  }));
}

/** The evaluation's report period as fixed when it opened (`report_due_day` 24:00 Asia/Shanghai = `dueAt`). */
export async function markEvaluationOpen(
  db: Db,
  evaluationId: string,
  due: { day: string; at: Date; estimated: boolean; calendarVersion: number },
): Promise<void> {
  await db('evaluations').where({ id: evaluationId }).update({
    status: 'reports_open',
    report_due_day: due.day,
    report_due_at: due.at,
    estimated: due.estimated,
    calendar_version: due.calendarVersion,
  });
}

/** Sets the evaluation's status (`reports_closed`, `graded`). */
export async function setEvaluationStatus(db: Db, evaluationId: string, status: string): Promise<void> {
  await db('evaluations').where({ id: evaluationId }).update({ status });
}

/** Marks the evaluation published at `at`; false when it already was, so a retry publishes nothing twice. */
export async function markEvaluationPublished(db: Db, evaluationId: string, at: Date): Promise<boolean> {
  const n = await db('evaluations')
    .where({ id: evaluationId })
    .whereNot({ status: 'published' })
    .update({ status: 'published', published_at: at });
  return n > 0;
}
