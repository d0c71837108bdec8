import {
  ChildWorkflowFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  rootCause,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { RETRY } from './budget.js';
import {
  getFailedChildQuery,
  retryChildUpdate,
  type FailedChild,
  type RetryChildRequest,
} from './children.messages.js';
import { decide, decisions, refusal } from './failures.js';

/**
 * Parents that handle a failed child: histories before it failed their parent with the child's failure, and
 * replay that way (the marker is written where the first child failure is handled).
 */
export const CHILD_RETRY_PATCH = 'child-failure-retry';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: RETRY });

/** How a parent runs its children (see `superviseChildren`). */
export interface ChildSupervisor {
  /** Runs a child (`start` calls `executeChild`) until it completes, across staff's retries of its failures. */
  run<T>(start: () => Promise<T>): Promise<T>;
  /**
   * As `run`, but stops waiting for a retry when `stop()` becomes true (the parent ended meanwhile, e.g. a
   * member revoked): then answers undefined.
   */
  runUnless<T>(stop: () => boolean, start: () => Promise<T>): Promise<T | undefined>;
}

/**
 * A failed child never leaves its parent silently stuck or failed: when a child workflow fails (a
 * non-retryable activity failure, a timeout, staff terminating it), staff are emailed through the outbox
 * (`notifyChildFailed`, once per failure) and the parent waits — without failing — for staff's retry, the Update
 * `retryChild` (`POST /api/workflows/:workflowId/retry-child`), which is audited and starts the child again
 * with the same workflow id (its activities pick up what the failed run recorded). A cancellation (the parent
 * cancelling its own child) is not a failure and propagates. Call once, at the start of the parent workflow:
 * it registers the Update and the Query `getFailedChild`.
 */
export function superviseChildren(): ChildSupervisor {
  const { workflowId } = workflowInfo();
  let failed: (FailedChild & { retrying: boolean; retry: boolean }) | undefined;

  setHandler(getFailedChildQuery, () =>
    failed
      ? {
          childWorkflowId: failed.childWorkflowId,
          childType: failed.childType,
          failures: failed.failures,
          reason: failed.reason,
        }
      : null,
  );
  setHandler(
    retryChildUpdate,
    async (req) => {
      const f = failed!;
      f.retrying = true;
      try {
        await decide(decisions.recordChildRetry, {
          workflowId,
          childWorkflowId: f.childWorkflowId,
          failures: f.failures,
          actor: req.actor,
          requestId: req.requestId,
        });
      } catch (err) {
        f.retrying = false;
        throw err;
      }
      f.retry = true;
      return { childWorkflowId: f.childWorkflowId, failures: f.failures };
    },
    {
      validator: (req: RetryChildRequest) => {
        if (!failed || failed.retrying || (req.childWorkflowId && req.childWorkflowId !== failed.childWorkflowId)) {
          throw refusal('CHILD_NOT_FAILED', '该流程当前没有等待重试的失败环节');
        }
      },
    },
  );

  async function supervise<T>(stop: () => boolean, start: () => Promise<T>): Promise<{ value: T } | undefined> {
    for (let failures = 1; ; failures++) {
      try {
        return { value: await start() };
      } catch (err) {
        if (!(err instanceof ChildWorkflowFailure) || isCancellation(err) || !patched(CHILD_RETRY_PATCH)) throw err;
        const child = {
          childWorkflowId: err.execution.workflowId ?? 'unknown',
          childType: err.workflowType,
          failures,
          reason: rootCause(err) ?? err.message,
        };
        log.warn('child workflow failed: waiting for staff to retry it', child);
        await acts.notifyChildFailed({ workflowId, ...child });
        const waiting = { ...child, retrying: false, retry: false };
        failed = waiting;
        await condition(() => waiting.retry || stop());
        const retried = waiting.retry;
        failed = undefined;
        if (!retried) return undefined;
        log.info('child workflow retried by staff', { childWorkflowId: child.childWorkflowId, failures });
      }
    }
  }

  return {
    async run(start) {
      return (await supervise(() => false, start))!.value;
    },
    async runUnless(stop, start) {
      return (await supervise(stop, start))?.value;
    },
  };
}
