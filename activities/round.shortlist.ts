import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { confirmShortlistResults, reviewedApplications, roundReview } from '../db/repositories/round.shortlist.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

export interface ShortlistAdjustment {
  applicationId: string;
  include: boolean;
  reason: string;
}

/** Staff's confirmation as the round workflow accepted it, keyed by the Update that carries it. */
export interface ConfirmShortlistInput extends DecisionKeyed {
  roundId: string;
  adjustments: ShortlistAdjustment[];
  actor: string;
  requestId?: string | undefined;
}

export interface ConfirmShortlistResult {
  shortlisted: number;
  adjusted: number;
}

/** Staff's confirmation of the round's shortlist after the expert review. */
export function createShortlistActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  return {
    /**
     * Staff's confirmation of the recommended list: the recommendation stands except where an adjustment
     * (each with its reason, each audited) includes or excludes an application. A decision keyed by its Update:
     * a retry after the commit returns the first answer instead of `SHORTLIST_CONFIRMED`.
     *
     * @throws `SHORTLIST_NOT_READY` (no review yet), `SHORTLIST_CONFIRMED` (confirmed already),
     *   `VALIDATION_FAILED` (an adjustment names an application outside the review's results).
     */
    confirmShortlist: decision(async (input: ConfirmShortlistInput, { trx }): Promise<ConfirmShortlistResult> => {
      const reviewId = (await roundReview(trx, input.roundId))?.id;
      if (!reviewId) refuse('SHORTLIST_NOT_READY', '该批次尚无评审结果');
      const results = await reviewedApplications(trx, reviewId);
      if (results.some((r) => r.confirmed !== null)) refuse('SHORTLIST_CONFIRMED', '推荐名单已确认');
      const unknown = input.adjustments.filter((a) => !results.some((r) => r.item_id === a.applicationId));
      if (unknown.length > 0) {
        refuse(
          'VALIDATION_FAILED',
          `调整的申报不在本批次评审结果中：${unknown.map((u) => u.applicationId).join('、')}`,
        );
      }
      const shortlisted = await confirmShortlistResults(trx, reviewId, input.adjustments);
      const recommended = new Map(results.map((r) => [r.item_id, r.recommended]));
      for (const adjustment of input.adjustments) {
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: adjustment.include ? 'shortlist.include' : 'shortlist.exclude',
          subjectKind: 'application',
          subjectId: adjustment.applicationId,
          reason: adjustment.reason,
          details: { roundId: input.roundId, recommended: recommended.get(adjustment.applicationId) },
          requestId: input.requestId,
          workflowId: input.roundId,
        });
      }
      await recordAudit(trx, {
        actor: input.actor,
        role: 'staff',
        action: 'round.confirm_shortlist',
        subjectKind: 'round',
        subjectId: input.roundId,
        details: { shortlisted, adjustments: input.adjustments.length },
        requestId: input.requestId,
        workflowId: input.roundId,
      });
      const result = { shortlisted, adjusted: input.adjustments.length };
      log.info('shortlist confirmed', { roundId: input.roundId, ...result });
      return result;
    }),
  };
}
