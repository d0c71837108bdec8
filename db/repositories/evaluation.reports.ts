import type { Db } from '../knex.js';
import type { EvaluationGrade } from '../../domain/programmes.js';

/** A member asked to report, with where to write to its institution (one row per report). */
export interface ReportingMember {
  /** The report's id (the page cursor). */
  id: string;
  entryId: string;
  title: string;
  institutionName: string;
  contactEmail: string;
}

/** A reporting member with its report's grade, as the published results tell it. */
export interface GradedMember extends ReportingMember {
  grade: EvaluationGrade | null;
  score: number | null;
  gradeReason: string | null;
}

/** A page of a list ordered by report id: the rows after `after`, at most `batchSize` of them. */
export interface ReportPage {
  after?: string | undefined;
  batchSize: number;
}

/**
 * Asks every member of the programme active now for a report in this evaluation (once each: a retry adds none).
 * Returns how many members were active.
 */
export async function requestReportsFromActiveMembers(
  trx: Db,
  evaluationId: string,
  programme: string,
): Promise<number> {
  const active = await trx('directory_entries')
    .where({ programme, status: 'active' })
    .orderBy('id')
    .select<{ id: string }[]>('id');
  if (active.length > 0) {
    await trx('evaluation_reports')
      .insert(active.map((e) => ({ evaluation_id: evaluationId, directory_entry_id: e.id })))
      .onConflict(['evaluation_id', 'directory_entry_id'])
      .ignore();
  }
  return active.length;
}

/** How many members the evaluation asked for a report. */
export async function countReports(db: Db, evaluationId: string): Promise<number> {
  const n = await db('evaluation_reports').where({ evaluation_id: evaluationId }).count<{ n: number }[]>('* as n');
  return Number(n[0]!.n);
}

function membersPage(db: Db, evaluationId: string, cursor: ReportPage) {
  const q = db('evaluation_reports as r')
    .join('directory_entries as d', 'd.id', 'r.directory_entry_id')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .where('r.evaluation_id', evaluationId);
  if (cursor.after) void q.where('r.id', '>', cursor.after);
  return q.orderBy('r.id').limit(cursor.batchSize);
}

interface RawMember {
  id: string;
  directory_entry_id: string;
  title_zh: string;
  name_zh: string;
  contact_email: string;
}

const memberColumns = ['r.id', 'r.directory_entry_id', 'd.title_zh', 'i.name_zh', 'i.contact_email'] as const;

const toMember = (r: RawMember): ReportingMember => ({
  id: r.id,
  entryId: r.directory_entry_id,
  title: r.title_zh,
  institutionName: r.name_zh,
  contactEmail: r.contact_email,
});

/** A page of the members asked to report; with `onlyRequested`, only those that have not reported. */
export async function reportingMembers(
  db: Db,
  evaluationId: string,
  cursor: ReportPage,
  filter: { onlyRequested?: boolean } = {},
): Promise<ReportingMember[]> {
  const q = membersPage(db, evaluationId, cursor);
  if (filter.onlyRequested) void q.where('r.status', 'requested');
  return (await q.select<RawMember[]>(...memberColumns)).map(toMember);
}

/** A page of the members asked to report, with their grades. */
export async function gradedMembers(db: Db, evaluationId: string, cursor: ReportPage): Promise<GradedMember[]> {
  const rows = await membersPage(db, evaluationId, cursor).select<
    (RawMember & { grade: EvaluationGrade | null; score: string | null; grade_reason: string | null })[]
  >(...memberColumns, 'r.grade', 'r.score', 'r.grade_reason');
  return rows.map((r) => ({
    ...toMember(r),
    grade: r.grade,
    score: r.score === null ? null : Number(r.score),
    gradeReason: r.grade_reason,
  }));
}

/**
 * The member's report in this evaluation (`requested`, `submitted` or `missing`, and its grade if any), its row
 * locked (`FOR UPDATE`) until the transaction ends; undefined when the member was not asked to report.
 */
export async function lockReportOf(
  trx: Db,
  evaluationId: string,
  entryId: string,
): Promise<{ id: string; status: string; grade: string | null } | undefined> {
  return trx('evaluation_reports')
    .where({ evaluation_id: evaluationId, directory_entry_id: entryId })
    .forUpdate()
    .first<{ id: string; status: string; grade: string | null } | undefined>('id', 'status', 'grade');
}

/**
 * Stores the report received at `receivedAt` (ISO): it is `submitted`, replacing one received earlier — never a
 * later one: a report delivered late (a redelivered receipt, issue 13) does not overwrite a newer one. Returns
 * whether it was stored.
 */
export async function saveReport(trx: Db, reportId: string, payload: unknown, receivedAt: string): Promise<boolean> {
  const updated = await trx('evaluation_reports')
    .where({ id: reportId })
    .where((q) => q.whereNull('received_at').orWhere('received_at', '<=', receivedAt))
    .update({ payload: JSON.stringify(payload), received_at: receivedAt, status: 'submitted' });
  return updated > 0;
}

/**
 * At the due time, every report still `requested` becomes `missing`, graded 不合格 with score 0 and `reason`.
 * Returns the reports so marked.
 */
export async function markMissingReports(
  trx: Db,
  evaluationId: string,
  reason: string,
): Promise<{ reportId: string; entryId: string }[]> {
  const rows = await trx('evaluation_reports')
    .where({ evaluation_id: evaluationId, status: 'requested' })
    .update({ status: 'missing', score: 0, grade: 'fail', grade_reason: reason, graded_at: trx.fn.now() })
    .returning<{ id: string; directory_entry_id: string }[]>(['id', 'directory_entry_id']);
  return rows.map((r) => ({ reportId: r.id, entryId: r.directory_entry_id }));
}

/** How many of the evaluation's reports are in each status. */
export async function reportStatusCounts(db: Db, evaluationId: string): Promise<Map<string, number>> {
  const counts = await db('evaluation_reports')
    .where({ evaluation_id: evaluationId })
    .select<{ status: string; n: number }[]>('status', db.raw('count(*)::int as n'))
    .groupBy('status');
  return new Map(counts.map((c) => [c.status, c.n]));
}

/**
 * The experts' aggregated result of each reviewed report of the evaluation (none before its review exists),
 * with the review's minimum of valid scores (3) below which no grade is given from the experts.
 */
export async function evaluationReviewResults(
  db: Db,
  evaluationId: string,
): Promise<{ reportId: string; score: string | null; validScores: number; minValidScores: number }[]> {
  const review = await db('reviews')
    .where({ subject_kind: 'evaluation', subject_id: evaluationId })
    .first<{ id: string; min_valid_scores: number } | undefined>('id', 'min_valid_scores');
  if (!review) return [];
  const rows = await db('review_results')
    .where({ review_id: review.id, item_kind: 'evaluation_report' })
    .select<{ item_id: string; score: string | null; valid_scores: number }[]>('item_id', 'score', 'valid_scores');
  return rows.map((r) => ({
    reportId: r.item_id,
    score: r.score,
    validScores: r.valid_scores,
    minValidScores: review.min_valid_scores,
  }));
}

/** The report's member and grade; the report must exist. */
export async function findReportGrade(db: Db, reportId: string): Promise<{ entryId: string; grade: string | null }> {
  const r = await db('evaluation_reports')
    .where({ id: reportId })
    .first<{ directory_entry_id: string; grade: string | null }>('directory_entry_id', 'grade');
  return { entryId: r.directory_entry_id, grade: r.grade };
}

/** Grades the report (a null grade leaves it for staff, with the reason why), stamped now. */
export async function saveGrade(
  trx: Db,
  reportId: string,
  g: { score?: number | null; validScores?: number; grade: EvaluationGrade | null; reason: string | null },
): Promise<void> {
  await trx('evaluation_reports')
    .where({ id: reportId })
    .update({
      ...(g.score === undefined ? {} : { score: g.score }),
      ...(g.validScores === undefined ? {} : { valid_scores: g.validScores }),
      grade: g.grade,
      grade_reason: g.reason,
      graded_at: trx.fn.now(),
    });
}

/** How many of the evaluation's reports have each grade (null: not graded yet). */
export async function gradeCounts(db: Db, evaluationId: string): Promise<Map<EvaluationGrade | null, number>> {
  const counts = await db('evaluation_reports')
    .where({ evaluation_id: evaluationId })
    .select<{ grade: EvaluationGrade | null; n: number }[]>('grade', db.raw('count(*)::int as n'))
    .groupBy('grade');
  return new Map(counts.map((c) => [c.grade, c.n]));
}

/** How many of the evaluation's reports still await a grade. */
export async function countUngraded(db: Db, evaluationId: string): Promise<number> {
  const left = await db('evaluation_reports')
    .where({ evaluation_id: evaluationId })
    .whereNull('grade')
    .count<{ n: number }[]>('* as n');
  return Number(left[0]!.n);
}
