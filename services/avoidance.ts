import type { Db } from '../db/knex.js';
import { openAssignmentsOf, type AssignmentRow } from '../db/repositories/review.js';
import { reviewerPool, reviewItems } from '../db/repositories/review.assignments.js';
import { reviewSubject } from '../db/repositories/review.subjects.js';
import { ineligibility, type Ineligibility } from '../domain/review/assignment.js';
import type { ReviewSubjectKind } from '../domain/review/subjects.js';

/**
 * 回避 holds for assignments already made, not only at assignment (issue 16, point 5): when staff change the
 * reference data an assignment was made on — an expert's unit or declared conflicts, a new partnership — an open
 * assignment may come to break it. This reads, as the data stands in `trx`, which ones do.
 */

/** An open assignment its expert may no longer hold, and why (`ineligibility`'s reason, never `field`). */
export interface AvoidanceBreach {
  assignment: AssignmentRow;
  reason: Exclude<Ineligibility, 'field'>;
}

/**
 * Every open assignment (invited or accepted) of an active expert that 回避 now forbids — own university or
 * college, a partner enterprise, a declared conflict, the applicant's avoid list — read with the same rule and
 * the same data assignment reads (`reviewerPool`, `reviewItems`, `ineligibility`). A deactivated expert's open
 * assignments are the deactivation's to replace, and a change of field is not 回避: neither is listed.
 */
export async function openAssignmentsBreakingAvoidance(trx: Db): Promise<AvoidanceBreach[]> {
  const open = await openAssignmentsOf(trx, undefined);
  if (open.length === 0) return [];
  const { experts, reviewers } = await reviewerPool(trx);
  const reviewerOf = new Map(reviewers.map((r) => [r.id, r]));
  const reviews = await trx('reviews')
    .whereIn('id', [...new Set(open.map((a) => a.reviewId))])
    .select<{ id: string; subject_kind: ReviewSubjectKind; subject_id: string }[]>('id', 'subject_kind', 'subject_id');
  const breaches: AvoidanceBreach[] = [];
  for (const review of reviews) {
    const mine = open.filter((a) => a.reviewId === review.id && reviewerOf.has(a.expertId));
    const subject = mine.length > 0 ? await reviewSubject(trx, review.subject_kind, review.subject_id) : undefined;
    if (!subject) continue;
    const items = new Map(
      (await reviewItems(trx, subject, 1, experts, [...new Set(mine.map((a) => a.itemId))])).map((i) => [i.id, i]),
    );
    for (const assignment of mine) {
      const item = items.get(assignment.itemId);
      const reason = item ? ineligibility(reviewerOf.get(assignment.expertId)!, item) : undefined;
      if (reason && reason !== 'field') breaches.push({ assignment, reason });
    }
  }
  return breaches;
}
