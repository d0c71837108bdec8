import { recordAudit } from '../db/repositories/audit.js';
import { childWorkflowFailed } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';

/** A child workflow's failure as its parent reports it (see `workflows/children.ts`). */
export interface ChildFailedInput extends DecisionKeyed {
  /** The parent's workflow id. */
  workflowId: string;
  childWorkflowId: string;
  /** The child's workflow type, e.g. `reviewWorkflow`. */
  childType: string;
  /** How many times this child has failed, this failure included (1, 2, …). */
  failures: number;
  /** The failure's root cause, as Temporal reports it. */
  reason: string;
}

/** Staff's retry of a failed child, as the parent's `retryChild` Update hands it over. */
export interface ChildRetryInput extends DecisionKeyed {
  workflowId: string;
  childWorkflowId: string;
  failures: number;
  actor: string;
  requestId?: string | undefined;
}

/** What a parent workflow records when one of its child workflows fails, and when staff retry it. */
export function createChildActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  return {
    /**
     * Records a child's failure (audit `workflow.child_failed`) and emails staff through the outbox, keyed by
     * parent, child and failure count: one email per failure, however often the activity is retried.
     */
    notifyChildFailed: decision(async (input: ChildFailedInput, { trx, enqueue }) => {
      await recordAudit(trx, {
        actor: 'system:workflow',
        role: 'system',
        action: 'workflow.child_failed',
        subjectKind: 'workflow',
        subjectId: input.childWorkflowId,
        reason: input.reason,
        details: { childType: input.childType, failures: input.failures },
        workflowId: input.workflowId,
      });
      await enqueue({
        idempotencyKey: `${input.workflowId}/child_failed/${input.childWorkflowId}/${input.failures}`,
        workflowId: input.workflowId,
        purpose: 'child_failed',
        recipient: deps.staffEmail,
        ...childWorkflowFailed({
          signInUrl: signInUrlOf(deps),
          parentWorkflowId: input.workflowId,
          childWorkflowId: input.childWorkflowId,
          childType: input.childType,
          attempt: input.failures,
          reason: input.reason,
        }),
      });
    }),

    /** Records staff's retry of a failed child (audit `workflow.retry_child`), keyed by the Update. */
    recordChildRetry: decision(async (input: ChildRetryInput, { trx }) => {
      await recordAudit(trx, {
        actor: input.actor,
        role: 'staff',
        action: 'workflow.retry_child',
        subjectKind: 'workflow',
        subjectId: input.childWorkflowId,
        details: { failures: input.failures },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
    }),
  };
}
