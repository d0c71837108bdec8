import type { Db } from '../db/knex.js';
import { findReview, type ReviewRow } from '../db/repositories/review.assignments.js';
import { reviewSubject, type ReviewSubject } from '../db/repositories/review.subjects.js';
import type { ReviewSubjectKind } from '../domain/review/subjects.js';
import type { ErrorCode } from '../domain/errors.js';
import { refuse } from './refusal.js';

const notFoundCode: Record<ReviewSubjectKind, ErrorCode> = {
  round: 'ROUND_NOT_FOUND',
  evaluation: 'EVALUATION_NOT_FOUND',
  rectification: 'REVIEW_NOT_FOUND',
  project_report: 'REVIEW_NOT_FOUND',
  showcase: 'SHOWCASE_NOT_FOUND',
};

/** The subject of a review; refuses an unknown one with its kind's `*_NOT_FOUND` code. */
export async function subjectOrRefuse(db: Db, kind: ReviewSubjectKind, id: string): Promise<ReviewSubject> {
  const subject = await reviewSubject(db, kind, id);
  if (!subject) refuse(notFoundCode[kind], `${kind} ${id} not found`);
  return subject;
}

/**
 * A stored review with its subject and the title its emails carry.
 *
 * @throws `REVIEW_NOT_FOUND`, or the subject's `*_NOT_FOUND` (non-retryable).
 */
export async function loadReview(
  db: Db,
  reviewId: string,
): Promise<{ review: ReviewRow; subject: ReviewSubject; titleZh: string }> {
  const review = await findReview(db, reviewId);
  if (!review) refuse('REVIEW_NOT_FOUND', `review ${reviewId} not found`);
  const subject = await subjectOrRefuse(db, review.subject_kind, review.subject_id);
  return { review, subject, titleZh: subject.titleZh };
}
