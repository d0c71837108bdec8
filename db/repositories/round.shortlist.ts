import type { Db } from '../knex.js';

/** The expert review of a round's applications, once it has begun. */
export async function roundReview(
  db: Db,
  roundId: string,
): Promise<{ id: string; status: string; workflowId: string } | undefined> {
  const review = await db('reviews')
    .where({ subject_kind: 'round', subject_id: roundId })
    .first<{ id: string; status: string; workflow_id: string } | undefined>('id', 'status', 'workflow_id');
  return review ? { id: review.id, status: review.status, workflowId: review.workflow_id } : undefined;
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
/**
 * Staff's confirmation of a whole review's results in two set-based statements (10,000 applications take as
 * long as ten): each result is `confirmed` as its adjustment says, or as recommended; each application becomes
 * `shortlisted` or `not_shortlisted`. Returns how many are shortlisted.
 */
export async function confirmShortlistResults(
  trx: Db,
  reviewId: string,
  adjustments: readonly { applicationId: string; include: boolean; reason: string }[],
): Promise<number> {
  const { rows } = await trx.raw<{ rows: { shortlisted: number }[] }>(
    `with adjustment as (
       select * from jsonb_to_recordset(?::jsonb) as a("applicationId" text, include boolean, reason text)
     ),
     confirmed as (
       update review_results r
          set confirmed = coalesce(a.include, r.recommended), adjustment_reason = a.reason
         from review_results r0
         left join adjustment a on a."applicationId" = r0.item_id
        where r0.review_id = ? and r.review_id = r0.review_id and r.item_id = r0.item_id
       returning r.item_id, r.confirmed
     ),
     applications_updated as (
       update applications app
          set status = case when c.confirmed then 'shortlisted' else 'not_shortlisted' end, updated_at = now()
         from confirmed c
        where app.id::text = c.item_id
       returning app.id
     )
     select (select count(*) from confirmed where confirmed)::int as shortlisted,
            (select count(*) from applications_updated)::int as updated`,
    [JSON.stringify(adjustments), reviewId],
  );
  return rows[0]!.shortlisted;
}

export interface ShortlistRow {
  applicationId: string;
  title: string;
  institutionId: string;
  institutionName: string;
  rank: number;
  score: number | null;
  mean: number | null;
  trimmedMean: number | null;
  spread: number | null;
  validScores: number;
  flags: string[];
  recommended: boolean;
  confirmed: boolean | null;
  adjustmentReason: string | null;
}

export async function shortlist(
  db: Db,
  roundId: string,
): Promise<{ reviewStatus: string; rows: ShortlistRow[] } | undefined> {
  const review = await roundReview(db, roundId);
  if (!review) return undefined;
  const rows = await db('review_results as rr')
    .joinRaw('join applications a on a.id::text = rr.item_id')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .where('rr.review_id', review.id)
    .orderBy('rr.rank')
    .select<
      {
        item_id: string;
        title_zh: string;
        institution_id: string;
        name_zh: string;
        rank: number;
        score: string | null;
        mean: string | null;
        trimmed_mean: string | null;
        spread: string | null;
        valid_scores: number;
        flags: string[];
        recommended: boolean;
        confirmed: boolean | null;
        adjustment_reason: string | null;
      }[]
    >(
      'rr.item_id',
      'a.title_zh',
      'a.institution_id',
      'i.name_zh',
      'rr.rank',
      'rr.score',
      'rr.mean',
      'rr.trimmed_mean',
      'rr.spread',
      'rr.valid_scores',
      'rr.flags',
      'rr.recommended',
      'rr.confirmed',
      'rr.adjustment_reason',
    );
  const num = (v: string | null) => (v === null ? null : Number(v));
  return {
    reviewStatus: review.status,
    rows: rows.map((r) => ({
      applicationId: r.item_id,
      title: r.title_zh,
      institutionId: r.institution_id,
      institutionName: r.name_zh,
      rank: r.rank,
      score: num(r.score),
      mean: num(r.mean),
      trimmedMean: num(r.trimmed_mean),
      spread: num(r.spread),
      validScores: r.valid_scores,
      flags: r.flags,
      recommended: r.recommended,
      confirmed: r.confirmed,
      adjustmentReason: r.adjustment_reason,
    })),
  };
}
