import type { Db } from '../knex.js';

/** An expert's answers to an assignment: accepting, declining (maybe with a conflict), scoring. */

/** Marks an invited assignment accepted at `at`; one already accepted is left alone. */
export async function markAccepted(trx: Db, assignmentId: string, at: Date): Promise<void> {
  await trx('review_assignments')
    .where({ id: assignmentId, status: 'invited' })
    .update({ status: 'accepted', accepted_at: at, responded_at: at });
}

/** Marks an invited or accepted assignment declined; returns false (nothing written) when it was neither. */
export async function markDeclined(
  trx: Db,
  assignmentId: string,
  decline: { reason: string; conflict: boolean; at: Date },
): Promise<boolean> {
  const n = await trx('review_assignments')
    .where({ id: assignmentId })
    .whereIn('status', ['invited', 'accepted'])
    .update({
      status: 'declined',
      decline_reason: decline.reason,
      declared_conflict: decline.conflict,
      responded_at: decline.at,
      closed_at: decline.at,
    });
  return n > 0;
}

/**
 * Records an expert's declared conflict with the institution behind a review item: the expert is not assigned
 * that institution's items again.
 */
export async function recordItemConflict(
  trx: Db,
  conflict: { expertId: string; itemKind: string; itemId: string; reason: string },
): Promise<void> {
  const item = await trx('review_item_sources')
    .where({ item_kind: conflict.itemKind, item_id: conflict.itemId })
    .first<{ institution_id: string }>('institution_id');
  await trx('expert_conflicts').insert({
    expert_id: conflict.expertId,
    institution_id: item.institution_id,
    reason: conflict.reason,
    source: 'decline',
  });
}

/** Marks an open assignment submitted; returns false (nothing written) when it was declined or timed out. */
export async function markSubmitted(trx: Db, assignmentId: string, at: Date): Promise<boolean> {
  const n = await trx('review_assignments')
    .where({ id: assignmentId })
    .whereIn('status', ['invited', 'accepted', 'submitted'])
    .update({ status: 'submitted', responded_at: at });
  return n > 0;
}

/**
 * Saves an expert's score sheet (criterion key → 0–100; `total` weighted), first or revised. Returns whether
 * this was a revision of an earlier sheet.
 */
export async function saveScoreSheet(
  trx: Db,
  sheet: { assignmentId: string; scores: Record<string, number>; total: number; comment: string | null; at: Date },
): Promise<boolean> {
  const [row] = await trx('review_scores')
    .insert({
      assignment_id: sheet.assignmentId,
      scores: JSON.stringify(sheet.scores),
      total: sheet.total,
      comment: sheet.comment,
      submitted_at: sheet.at,
      updated_at: sheet.at,
    })
    .onConflict('assignment_id')
    .merge({ scores: JSON.stringify(sheet.scores), total: sheet.total, comment: sheet.comment, updated_at: sheet.at })
    .returning<{ submitted_at: Date; updated_at: Date }[]>(['submitted_at', 'updated_at']);
  return row!.submitted_at.getTime() !== row!.updated_at.getTime();
}

/**
 * Whether a review still takes answers: its row is locked FOR SHARE for the rest of the transaction, so the
 * review's close (which locks it FOR UPDATE, `lockReviewForClose`) waits for an answer being written, and an
 * answer arriving during the close waits and then sees the review closed. Open means `reviewing`.
 */
export async function reviewTakesAnswers(trx: Db, reviewId: string): Promise<boolean> {
  const row = await trx('reviews').where({ id: reviewId }).forShare().first<{ status: string } | undefined>('status');
  return row?.status === 'reviewing';
}

/**
 * Locks a review's row FOR UPDATE for its close: answers (`reviewTakesAnswers`) wait until the close commits
 * and then find the review closed; the answers committed before are all visible to the close's reads.
 */
export async function lockReviewForClose(trx: Db, reviewId: string): Promise<void> {
  await trx('reviews').where({ id: reviewId }).forUpdate().first('id');
}

/**
 * Closes (`cancelled`) the reviews still open of a terminated project's reports: its review workflow is
 * cancelled with the project, and a score sent afterwards is refused `REVIEW_CLOSED` like any other after a
 * close. Returns how many reviews it closed.
 */
export async function cancelProjectReviews(trx: Db, projectId: string): Promise<number> {
  return trx('reviews')
    .where({ subject_kind: 'project_report' })
    .whereIn('subject_id', trx('project_reports').where({ project_id: projectId }).select(trx.raw('id::text')))
    .whereIn('status', ['reviewing', 'blocked'])
    .update({ status: 'cancelled', status_reason: '项目已撤项' });
}
