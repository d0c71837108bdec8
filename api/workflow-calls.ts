import { setTimeout as delay } from 'node:timers/promises';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { BUSY_CODE } from '../domain/errors.js';
import type { AppError } from './errors.js';

/**
 * Worth waiting a moment for: gRPC RESOURCE_EXHAUSTED (too many Updates in flight on one workflow), or the
 * workflow turning Updates away while it continues as new.
 */
function isBackPressure(err: unknown): boolean {
  if (err instanceof ServiceError) return (err.cause as { code?: number } | undefined)?.code === 8;
  return (
    err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === BUSY_CODE
  );
}

/**
 * How long a request waits for its Update's result (wall-clock milliseconds). A decision activity retries
 * until its database write succeeds or is refused, so a slow answer means PostgreSQL or the worker is down:
 * the request then answers 503 `SERVICE_UNAVAILABLE` while the Update carries on in the workflow, and a retry
 * with the same Idempotency-Key (the same Update id) gets its final answer.
 */
export const UPDATE_WAIT_MS = 30_000;

/**
 * Sends an Update to a workflow (a round, a publicity period) and waits for its result, at most
 * `UPDATE_WAIT_MS` per try. A burst of requests near a deadline can exceed the number of Updates a workflow
 * takes at once: those are retried with backoff (the receipt time was stamped before the first try, so
 * waiting never costs anyone). A workflow that has ended answers `whenEnded`.
 *
 * @throws the Update's refusal (`WorkflowUpdateFailedError`), `whenEnded()`, or an error the API maps to 503
 *   (`WorkflowUpdateRPCTimeoutOrCancelledError`, gRPC UNAVAILABLE / DEADLINE_EXCEEDED).
 */
export async function updateWorkflow<Ret, Arg>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  options: { updateId?: string; whenEnded: () => AppError },
): Promise<Ret> {
  const handle = temporal.workflow.getHandle(workflowId);
  for (let attempt = 0; ; attempt++) {
    try {
      return await temporal.withDeadline(Date.now() + UPDATE_WAIT_MS, () =>
        handle.executeUpdate(update, {
          args: [arg],
          ...(options.updateId ? { updateId: options.updateId } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw options.whenEnded();
      if (isBackPressure(err) && attempt < 40) {
        await delay(Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random()));
        continue;
      }
      throw err;
    }
  }
}
