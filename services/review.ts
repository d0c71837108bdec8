import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import type { AssignmentRow } from '../db/repositories/review.js';
import {
  markAccepted,
  markDeclined,
  markSubmitted,
  recordItemConflict,
  reviewTakesAnswers,
  saveScoreSheet,
} from '../db/repositories/review.answers.js';

/**
 * An expert's answers to an assignment, each written with its audit row in one transaction. The caller has
 * checked that the assignment is the expert's and still open at `receivedAt` (the receipt time); a
 * concurrent close of the assignment is answered `closed`, a review closed by its workflow (`reviews.status`
 * no longer `reviewing`, set when the scores are aggregated) `review_closed`, with nothing written.
 */
export interface ExpertAnswer {
  actor: string;
  requestId: string | undefined;
  receivedAt: Date;
}

/** Accepts an invitation (`review.accept`); an assignment accepted already is left as it is, unaudited. */
export async function acceptAssignment(db: Db, a: AssignmentRow, by: ExpertAnswer): Promise<void> {
  if (a.status !== 'invited') return;
  await db.transaction(async (trx) => {
    await markAccepted(trx, a.id, by.receivedAt);
    await recordAudit(trx, {
      actor: by.actor,
      role: 'expert',
      action: 'review.accept',
      subjectKind: 'review_assignment',
      subjectId: a.id,
      requestId: by.requestId,
      workflowId: a.workflowId,
    });
  });
}

/**
 * Declines an assignment (`review.decline`, audited with the role of `by.actor`: the expert, or staff replacing
 * a deactivated expert), recording a declared conflict of interest with its institution.
 * Called by the review workflow's decision activity `recordDecline` inside its transaction (a savepoint here),
 * so the decline and the workflow's knowledge of it commit together.
 */
export async function declineAssignment(
  db: Db,
  a: AssignmentRow,
  decline: { reason: string; conflict: boolean },
  by: ExpertAnswer,
): Promise<'declined' | 'closed'> {
  return db.transaction(async (trx) => {
    if (!(await markDeclined(trx, a.id, { ...decline, at: by.receivedAt }))) return 'closed';
    if (decline.conflict) {
      await recordItemConflict(trx, {
        expertId: a.expertId,
        itemKind: a.itemKind,
        itemId: a.itemId,
        reason: decline.reason,
      });
    }
    await recordAudit(trx, {
      actor: by.actor,
      // Staff decline for an expert they deactivate (api/routes/reference-experts.ts); otherwise the expert.
      role: by.actor.startsWith('staff:') ? 'staff' : 'expert',
      action: 'review.decline',
      subjectKind: 'review_assignment',
      subjectId: a.id,
      reason: decline.reason,
      details: { conflict: decline.conflict },
      requestId: by.requestId,
      workflowId: a.workflowId,
    });
    return 'declined';
  });
}

/**
 * Saves a checked score sheet (`review.submit`, or `review.revise` for a later change); `total` is the
 * weighted total of `scores`. Returns whether it revised an earlier sheet. The review's row is locked and
 * checked in the same transaction: a sheet racing the review's close is either in before the close reads the
 * scores, or answered `review_closed` (closed means closed, whatever the wall clock says: in compressed time
 * the due time is on another clock); only while the review is open is a sheet received after the
 * assignment's due time answered `due_passed`, and an assignment no longer open `closed`.
 */
export async function submitScoreSheet(
  db: Db,
  a: AssignmentRow,
  sheet: { scores: Record<string, number>; total: number; comment: string | undefined },
  by: ExpertAnswer,
): Promise<{ revised: boolean } | 'closed' | 'review_closed' | 'due_passed'> {
  return db.transaction(async (trx) => {
    if (!(await reviewTakesAnswers(trx, a.reviewId))) return 'review_closed';
    if (by.receivedAt.getTime() > a.dueAt.getTime()) return 'due_passed';
    if (!(await markSubmitted(trx, a.id, by.receivedAt))) return 'closed';
    const revised = await saveScoreSheet(trx, {
      assignmentId: a.id,
      scores: sheet.scores,
      total: sheet.total,
      comment: sheet.comment ?? null,
      at: by.receivedAt,
    });
    await recordAudit(trx, {
      actor: by.actor,
      role: 'expert',
      action: revised ? 'review.revise' : 'review.submit',
      subjectKind: 'review_assignment',
      subjectId: a.id,
      details: { total: sheet.total },
      requestId: by.requestId,
      workflowId: a.workflowId,
    });
    return { revised };
  });
}
