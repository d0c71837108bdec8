import { findAssignment } from '../db/repositories/review.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { declineAssignment } from '../services/review.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

/**
 * An expert's decline as the review workflow hands it to its decision activity: what the API sent (the Update
 * `declineAssignment` takes all of it but `workflowId`) and the review workflow's id.
 */
export interface RecordDeclineInput extends DecisionKeyed {
  /** The review workflow's id: the assignment must be one of its own. */
  workflowId: string;
  assignmentId: string;
  reason: string;
  /** The expert declares a conflict of interest with the item's institution. */
  conflict: boolean;
  actor: string;
  requestId?: string | undefined;
  /** When the API received the decline (ISO); judged against the assignment's due time. */
  receivedAt: string;
}

/** What a recorded decline answers. */
export interface DeclineResult {
  assignmentId: string;
  conflictRecorded: boolean;
}

/** An expert's decline, recorded by the review workflow (procedure 2). */
export function createReviewDeclineActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  return {
    /**
     * Records a decline — the assignment closed as declined, a declared conflict with the item's institution,
     * the audit row (`review.decline`) — in one transaction keyed by the Update's id: a retry after the commit
     * answers the first result instead of `ASSIGNMENT_CLOSED`.
     *
     * @throws refusals `ASSIGNMENT_NOT_FOUND` (not this review's), `REVIEW_DUE_PASSED` (received after the
     *   due time), `ASSIGNMENT_CLOSED` (declined, timed out or submitted already).
     */
    recordDecline: decision(async (input: RecordDeclineInput, { trx }): Promise<DeclineResult> => {
      const a = await findAssignment(trx, input.assignmentId, { forUpdate: true });
      if (!a || a.workflowId !== input.workflowId) refuse('ASSIGNMENT_NOT_FOUND', input.assignmentId);
      const receivedAt = new Date(input.receivedAt);
      if (receivedAt.getTime() > a.dueAt.getTime()) {
        refuse('REVIEW_DUE_PASSED', `评审已于 ${formatInstantZh(a.dueAt)} 截止`);
      }
      const outcome = await declineAssignment(
        trx,
        a,
        { reason: input.reason, conflict: input.conflict },
        { actor: input.actor, requestId: input.requestId, receivedAt },
      );
      if (outcome === 'closed') refuse('ASSIGNMENT_CLOSED', '该评审任务已结束');
      return { assignmentId: a.id, conflictRecorded: input.conflict };
    }),
  };
}
