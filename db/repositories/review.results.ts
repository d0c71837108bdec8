import type { Db } from '../knex.js';
import type { Ranked } from '../../domain/review/scoring.js';
import type { ReviewItemKind } from '../../domain/review/subjects.js';
import { inChunks } from '../chunks.js';

/** The totals of every submitted score of a review, by item. */
export function submittedScores(db: Db, reviewId: string) {
  return db('review_assignments as ra')
    .join('review_scores as s', 's.assignment_id', 'ra.id')
    .where({ 'ra.review_id': reviewId, 'ra.status': 'submitted' })
    .select<{ item_id: string; total: string }[]>('ra.item_id', 's.total');
}

/** The items under a review with their receipt time and title (for ranking ties and the staff summary). */
export function reviewedItems(db: Db, reviewId: string) {
  return db('review_assignments as ra')
    .join('review_item_sources as s', function () {
      this.on('s.item_kind', 'ra.item_kind').andOn('s.item_id', 'ra.item_id');
    })
    .where('ra.review_id', reviewId)
    .distinct<{ item_id: string; received_at: Date; title_zh: string }[]>('ra.item_id', 's.received_at', 's.title_zh');
}

/** Replaces a review's results by the ranked items (in chunks of 1000) and marks the review completed. */
export async function storeResults(
  trx: Db,
  r: { reviewId: string; itemKind: ReviewItemKind },
  ranked: readonly Ranked[],
): Promise<void> {
  await trx('review_results').where({ review_id: r.reviewId }).delete();
  await inChunks(ranked, (chunk) =>
    trx('review_results').insert(
      chunk.map((x) => ({
        review_id: r.reviewId,
        item_kind: r.itemKind,
        item_id: x.itemId,
        valid_scores: x.aggregate.valid,
        mean: x.aggregate.mean,
        trimmed_mean: x.aggregate.trimmedMean,
        score: x.aggregate.score,
        spread: x.aggregate.spread,
        flags: x.aggregate.flags,
        rank: x.rank,
        recommended: x.recommended,
      })),
    ),
  );
  await trx('reviews').where({ id: r.reviewId }).update({ status: 'completed' });
}

/** A single-item review's aggregate: its score (null when no expert scored validly), its valid scores, the minimum. */
export interface SubjectReviewResult {
  score: number | null;
  validScores: number;
  /** The review's minimum number of valid scores (3): below it, staff decide with a reason. */
  minValidScores: number;
}

/**
 * The aggregated expert review of one subject reviewed on its own (a rectification report, a project report):
 * no result yet reads as no valid score.
 */
export async function subjectReviewResult(
  db: Db,
  subject: { kind: 'rectification' | 'project_report'; id: string },
): Promise<SubjectReviewResult> {
  const result = await db('review_results as rr')
    .join('reviews as r', 'r.id', 'rr.review_id')
    .where({ 'r.subject_kind': subject.kind, 'r.subject_id': subject.id })
    .first<{ score: string | null; valid_scores: number; min_valid_scores: number } | undefined>(
      'rr.score',
      'rr.valid_scores',
      'r.min_valid_scores',
    );
  return {
    score: result?.score === null || result?.score === undefined ? null : Number(result.score),
    validScores: result?.valid_scores ?? 0,
    minValidScores: result?.min_valid_scores ?? 3,
  };
}
