import type { Db } from '../knex.js';
import { subjectReviewResult, type SubjectReviewResult } from './review.results.js';

/** A rectification (限期整改) as its activities read it. */
export interface RectificationRow {
  id: string;
  evaluationId: string | null;
  /** 24:00 Asia/Shanghai on `reportDueDay`. */
  dueAt: Date;
  reportDueDay: string;
  reportReceivedAt: Date | null;
  /** `pending`, `passed`, `failed` or `no_report`. */
  outcome: string;
  outcomeReason: string | null;
}

/** The rectification; it must exist (the workflow that asks started it). */
export async function findRectification(db: Db, rectificationId: string): Promise<RectificationRow> {
  const r = await db('rectifications').where({ id: rectificationId }).first<{
    id: string;
    evaluation_id: string | null;
    due_at: Date;
    report_due_day: string;
    report_received_at: Date | null;
    outcome: string;
    outcome_reason: string | null;
  }>();
  return {
    id: r.id,
    evaluationId: r.evaluation_id,
    dueAt: r.due_at,
    reportDueDay: r.report_due_day,
    reportReceivedAt: r.report_received_at,
    outcome: r.outcome,
    outcomeReason: r.outcome_reason,
  };
}

/** The rectification period an evaluation set for its 不合格 members, in months; null when it set none. */
export async function evaluationRectificationMonths(db: Db, evaluationId: string): Promise<number | null> {
  const row = await db('evaluations')
    .where({ id: evaluationId })
    .first<{ rectification_months: number | null } | undefined>('rectification_months');
  return row?.rectification_months ?? null;
}

/** The rectification an evaluation already started for the member, if any (one per member and evaluation). */
export async function findRectificationOf(db: Db, entryId: string, evaluationId: string): Promise<string | undefined> {
  const row = await db('rectifications')
    .where({ directory_entry_id: entryId, evaluation_id: evaluationId })
    .first<{ id: string } | undefined>('id');
  return row?.id;
}

/** A new pending rectification; returns its id. */
export async function insertRectification(
  trx: Db,
  r: {
    entryId: string;
    evaluationId: string;
    startedOn: string;
    dueAt: Date;
    reportDueDay: string;
    months: number;
    workflowId: string;
  },
): Promise<string> {
  const [row] = await trx('rectifications')
    .insert({
      directory_entry_id: r.entryId,
      evaluation_id: r.evaluationId,
      started_on: r.startedOn,
      due_at: r.dueAt,
      report_due_day: r.reportDueDay,
      months: r.months,
      outcome: 'pending',
      workflow_id: r.workflowId,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/**
 * The rectification's report state and outcome, its row locked (`FOR UPDATE`) until the transaction ends. Call
 * inside the transaction that records or closes the report.
 */
export async function lockRectification(
  trx: Db,
  rectificationId: string,
): Promise<{ reportReceivedAt: Date | null; outcome: string }> {
  const x = await trx('rectifications')
    .where({ id: rectificationId })
    .forUpdate()
    .first<{ report_received_at: Date | null; outcome: string }>('report_received_at', 'outcome');
  return { reportReceivedAt: x.report_received_at, outcome: x.outcome };
}

/**
 * Stores the rectification report with the instant it was received (ISO), replacing one received earlier —
 * never a later one: a report delivered late (a redelivered receipt, issue 13) does not overwrite a newer one.
 * Returns whether it was stored.
 */
export async function saveRectificationReport(
  trx: Db,
  rectificationId: string,
  payload: unknown,
  receivedAt: string,
): Promise<boolean> {
  const updated = await trx('rectifications')
    .where({ id: rectificationId })
    .where((q) => q.whereNull('report_received_at').orWhere('report_received_at', '<=', receivedAt))
    .update({ report_payload: JSON.stringify(payload), report_received_at: receivedAt });
  return updated > 0;
}

/**
 * Decides a pending rectification: its outcome, the re-evaluation score (when there is one) and the reason, stamped
 * now. Returns false when it was no longer pending (already decided), so that a retry decides nothing twice.
 */
export async function decidePendingRectification(
  trx: Db,
  rectificationId: string,
  decision: { outcome: 'passed' | 'failed' | 'no_report'; score?: number | null; reason: string | null },
): Promise<boolean> {
  const n = await trx('rectifications')
    .where({ id: rectificationId, outcome: 'pending' })
    .update({
      outcome: decision.outcome,
      ...(decision.score === undefined ? {} : { score: decision.score }),
      outcome_reason: decision.reason,
      decided_at: trx.fn.now(),
    });
  return n > 0;
}

/**
 * The experts' aggregated re-evaluation of the rectification report: the score (null when no expert scored
 * validly), how many valid scores it rests on, and the review's minimum (3) below which staff decide.
 */
export async function rectificationReviewResult(db: Db, rectificationId: string): Promise<SubjectReviewResult> {
  return subjectReviewResult(db, { kind: 'rectification', id: rectificationId });
}

/** The reason of the earliest upheld procedural appeal against the removal that follows this rectification. */
export async function upheldRemovalAppealReason(db: Db, rectificationId: string): Promise<string | undefined> {
  const appeal = await db('objections as o')
    .join('publicity_periods as p', 'p.id', 'o.publicity_id')
    .where({ 'p.subject_kind': 'removal', 'p.subject_id': rectificationId, 'o.status': 'upheld' })
    .orderBy('o.resolved_at')
    .first<{ resolution_reason: string } | undefined>('o.resolution_reason');
  return appeal?.resolution_reason;
}
