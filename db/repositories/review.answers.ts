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
