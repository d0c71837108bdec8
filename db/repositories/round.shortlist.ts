import type { Db } from '../knex.js';

/** The id of a round's expert review, if the review was prepared. */
export async function roundReviewId(trx: Db, roundId: string): Promise<string | undefined> {
  const review = await trx('reviews')
    .where({ subject_kind: 'round', subject_id: roundId })
    .first<{ id: string } | undefined>('id');
  return review?.id;
}

/** One ranked application of the review: recommended within the quota, and staff's confirmation (null: not yet). */
export interface ReviewedApplication {
  item_id: string;
  recommended: boolean;
  confirmed: boolean | null;
}

export function reviewedApplications(trx: Db, reviewId: string): Promise<ReviewedApplication[]> {
  return trx('review_results')
    .where({ review_id: reviewId })
    .select<ReviewedApplication[]>('item_id', 'recommended', 'confirmed');
}

/**
 * Records staff's decision on one application: its review result is confirmed (included or not, with the
 * adjustment's reason if staff departed from the recommendation) and the application becomes shortlisted or
 * not_shortlisted.
 */
export async function confirmApplication(
  trx: Db,
  d: { reviewId: string; applicationId: string; include: boolean; adjustmentReason: string | null },
): Promise<void> {
  await trx('review_results')
    .where({ review_id: d.reviewId, item_id: d.applicationId })
    .update({ confirmed: d.include, adjustment_reason: d.adjustmentReason });
  await trx('applications')
    .where({ id: d.applicationId })
    .update({ status: d.include ? 'shortlisted' : 'not_shortlisted', updated_at: trx.fn.now() });
}
