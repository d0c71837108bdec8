import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The contract every parent workflow offers for its child workflows (a review, a publicity period): when a
 * child fails, staff are emailed and the parent waits for their retry, sent by the API as the Update
 * `retryChild`. It holds no workflow code.
 */

/** Staff's retry of the failed child. `childWorkflowId`, when given, must name the child that failed. */
export interface RetryChildRequest {
  childWorkflowId?: string | undefined;
  actor: string;
  requestId?: string | undefined;
}

/** The child started again, and how many times it had failed. */
export interface RetryChildResult {
  childWorkflowId: string;
  failures: number;
}

/** A child that failed and waits for staff's retry, or null. */
export interface FailedChild {
  childWorkflowId: string;
  childType: string;
  failures: number;
  reason: string;
}

/** Starts the failed child again (refusal `CHILD_NOT_FAILED` when no child waits for a retry). */
export const retryChildUpdate = defineUpdate<RetryChildResult, [RetryChildRequest]>('retryChild');
/** The child waiting for staff's retry, if any. */
export const getFailedChildQuery = defineQuery<FailedChild | null>('getFailedChild');
