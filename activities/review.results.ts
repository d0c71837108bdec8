import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { lockReviewForClose } from '../db/repositories/review.answers.js';
import { reviewedItems, storeResults, submittedScores } from '../db/repositories/review.results.js';
import { aggregate, rankWithinQuota } from '../domain/review/scoring.js';
import { reviewCompleted } from '../mail/templates.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { loadReview } from './review.subjects.js';

export interface AggregateResult {
  items: number;
  recommended: number;
  underReviewed: number;
  spread: number;
}

/** The review's results: scores aggregated and ranked within the quota. */
export function createReviewResultActivities({ db, outbox, staffEmail, publicBaseUrl }: ActivityDeps) {
  return {
    /**
     * Closes the review and aggregates its valid scores: ranks within the quota, stores the results and tells
     * staff. The close is durable state: in one transaction the review's row is locked FOR UPDATE, the scores
     * read, the results stored and the review marked `completed`; a score sheet racing it (which locks the
     * row FOR SHARE, services/review.ts) is either in before the scores are read or refused `REVIEW_CLOSED`.
     * A retry finds no new score and stores the same results.
     */
    async aggregateReview(input: { workflowId: string; reviewId: string }): Promise<AggregateResult> {
      const { review, subject, titleZh } = await loadReview(db, input.reviewId);
      const rules = { ...subject.review, minValidScores: review.min_valid_scores };
      const { ranked, items } = await db.transaction(async (trx) => {
        await lockReviewForClose(trx, review.id);
        const scores = await submittedScores(trx, review.id);
        const items = await reviewedItems(trx, review.id);
        const totalsOf = new Map<string, number[]>();
        for (const s of scores) {
          const totals = totalsOf.get(s.item_id);
          if (totals) totals.push(Number(s.total));
          else totalsOf.set(s.item_id, [Number(s.total)]);
        }
        const ranked = rankWithinQuota(
          items.map((i) => ({
            itemId: i.item_id,
            receivedAt: i.received_at.toISOString(),
            aggregate: aggregate(totalsOf.get(i.item_id) ?? [], rules),
          })),
          review.quota ?? Number.MAX_SAFE_INTEGER,
        );
        await storeResults(trx, { reviewId: review.id, itemKind: subject.itemKind }, ranked);
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.aggregate',
          subjectKind: 'review',
          subjectId: review.id,
          details: { items: ranked.length, recommended: ranked.filter((r) => r.recommended).length },
          workflowId: input.workflowId,
        });
        return { ranked, items };
      });
      const titles = new Map(items.map((i) => [i.item_id, i.title_zh]));
      const title = (id: string) => titles.get(id) ?? id;
      const under = ranked.filter((r) => r.aggregate.flags.includes('under_reviewed')).map((r) => title(r.itemId));
      const spread = ranked.filter((r) => r.aggregate.flags.includes('spread')).map((r) => title(r.itemId));
      const recommended = ranked.filter((r) => r.recommended).length;
      log.info('review results stored', {
        reviewId: review.id,
        items: ranked.length,
        recommended,
        underReviewed: under.length,
        spread: spread.length,
      });
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/review_completed`,
        workflowId: input.workflowId,
        purpose: 'review_completed',
        recipient: staffEmail,
        ...reviewCompleted({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          reviewTitle: titleZh,
          items: ranked.length,
          recommended,
          underReviewed: under,
          spread,
          spreadAbove: rules.spreadFlagAbove,
        }),
      });
      return { items: ranked.length, recommended, underReviewed: under.length, spread: spread.length };
    },
  };
}
