import type { Db } from '../knex.js';
import { subjectReviewResult, type SubjectReviewResult } from './review.results.js';

export type ProjectReportKind = 'midterm' | 'final';

/** A project's midterm or final report, as the activities read it. */
export interface ProjectReportRow {
  id: string;
  kind: ProjectReportKind;
  attempt: number;
  /** The due day, `YYYY-MM-DD`. */
  dueDay: string;
  /** 24:00 Asia/Shanghai on the due day. */
  dueAt: Date;
  receivedAt: Date | null;
  /** `passed` or `failed` once decided. */
  outcome: string | null;
}

interface RawReport {
  id: string;
  kind: ProjectReportKind;
  attempt: number;
  due_day: string;
  due_at: Date;
  received_at: Date | null;
  outcome: string | null;
}

const columns = ['id', 'kind', 'attempt', 'due_day', 'due_at', 'received_at', 'outcome'] as const;

const toReport = (r: RawReport): ProjectReportRow => ({
  id: r.id,
  kind: r.kind,
  attempt: r.attempt,
  dueDay: r.due_day,
  dueAt: r.due_at,
  receivedAt: r.received_at,
  outcome: r.outcome,
});

/**
 * The report of this kind and attempt, asked for with the given due day and time unless it was already (a retry
 * finds the first one, with its due time).
 */
export async function openReport(
  db: Db,
  report: { projectId: string; kind: ProjectReportKind; attempt: number; dueDay: string; dueAt: Date },
): Promise<ProjectReportRow> {
  await db('project_reports')
    .insert({
      project_id: report.projectId,
      kind: report.kind,
      attempt: report.attempt,
      due_day: report.dueDay,
      due_at: report.dueAt,
    })
    .onConflict(['project_id', 'kind', 'attempt'])
    .ignore();
  const row = await db('project_reports')
    .where({ project_id: report.projectId, kind: report.kind, attempt: report.attempt })
    .first<RawReport>(...columns);
  return toReport(row);
}

/** The report; it must exist (the workflow that asks opened it). */
export async function findReport(db: Db, reportId: string): Promise<ProjectReportRow> {
  return toReport(
    await db('project_reports')
      .where({ id: reportId })
      .first<RawReport>(...columns),
  );
}

/**
 * The report of this project, its row locked (`FOR UPDATE`) until the transaction ends. Call inside the
 * transaction that records or decides it.
 */
export async function lockReport(trx: Db, reportId: string, projectId?: string): Promise<ProjectReportRow> {
  const row = await trx('project_reports')
    .where({ id: reportId, ...(projectId ? { project_id: projectId } : {}) })
    .forUpdate()
    .first<RawReport>(...columns);
  return toReport(row);
}

/**
 * Stores the report with the instant it was received (ISO) and whether it was late, replacing one received
 * earlier — never a later one: a report delivered late (a redelivered receipt, issue 13) does not overwrite a
 * newer one. Returns whether it was stored.
 */
export async function saveReport(
  trx: Db,
  reportId: string,
  report: { payload: unknown; receivedAt: string; late: boolean },
): Promise<boolean> {
  const updated = await trx('project_reports')
    .where({ id: reportId })
    .where((q) => q.whereNull('received_at').orWhere('received_at', '<=', report.receivedAt))
    .update({ payload: JSON.stringify(report.payload), received_at: report.receivedAt, late: report.late });
  return updated > 0;
}

/** Whether staff were already told that this report of the project is overdue (its audit row exists). */
export async function overdueAlreadyFlagged(db: Db, projectId: string, reportId: string): Promise<boolean> {
  const seen = await db('audit_events')
    .where({ action: 'project.report_overdue', subject_id: projectId })
    .whereRaw(`details ->> 'reportId' = ?`, [reportId])
    .first<{ id: string } | undefined>('id');
  return seen !== undefined;
}

/**
 * The experts' aggregated score of the report (null when no expert scored validly), how many valid scores
 * it rests on, and the review's minimum (3) below which staff decide.
 */
export async function reportReviewResult(db: Db, reportId: string): Promise<SubjectReviewResult> {
  return subjectReviewResult(db, { kind: 'project_report', id: reportId });
}

/** The report's outcome with its reason and score, stamped now (database time). */
export async function saveReportOutcome(
  trx: Db,
  reportId: string,
  outcome: { passed: boolean; reason: string | null; score: number | null; validScores: number },
): Promise<void> {
  await trx('project_reports')
    .where({ id: reportId })
    .update({
      outcome: outcome.passed ? 'passed' : 'failed',
      outcome_reason: outcome.reason,
      score: outcome.score,
      valid_scores: outcome.validScores,
      decided_at: trx.fn.now(),
    });
}
