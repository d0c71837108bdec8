import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { BUSY_CODE } from '../domain/errors.js';
import type { Knex } from 'knex';
import type { Db } from '../db/knex.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { recordReceipt, recordReceiptOutcome, type ReceiptOutcome } from '../db/repositories/receipts.js';
import { AppError, fromTemporalError, isUpdateFailedWithoutRefusal } from './errors.js';

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

/**
 * How long the API holds a receipt it is sending before the sweeper may redeliver it (wall-clock
 * milliseconds): longer than one request may take. Redelivering early would do no harm — the Update id is the
 * same, so Temporal runs it once — it would only be wasted work.
 */
export const RECEIPT_LEASE_MS = 60_000;

/**
 * How a failed delivery ends the receipt: the person's request refused (a catalogue code, or the workflow gone),
 * or failed for good (an Update that failed without a refusal keeps that failure under its id); `undefined`
 * when the failure is ours and passing (Temporal unreachable or slow), so the receipt stays pending.
 */
function outcomeOfFailure(err: unknown): ReceiptOutcome | undefined {
  if (isUpdateFailedWithoutRefusal(err)) return { status: 'failed', message: (err as Error).message };
  const refusal = err instanceof AppError ? err : fromTemporalError(err);
  if (refusal && refusal.status < 500) {
    return { status: 'refused', code: refusal.code, message: refusal.detail ?? refusal.title };
  }
  return undefined;
}

/**
 * Sends a request the workflow judges by its receipt time (a submission, withdrawal, report, nomination, RSVP,
 * objection) as `updateWorkflow` does, after writing it to `update_receipts` with the Update it travels in —
 * so a crash of this process between the two, or Temporal out of reach, loses no on-time receipt: the outbox
 * sweeper redelivers a pending receipt under the same Update id once `RECEIPT_LEASE_MS` has passed
 * (`activities/receipts.ts`). The Update id is the keyed request's (`options.updateId`) or a new
 * `receipt/<uuid>`. A retry under an Update id already kept sends the kept argument (its first receipt time),
 * not the new one. `arg` may be built inside the transaction that writes the receipt (to read what it pins
 * under a lock the writer holds, e.g. an application's revision). The workflow's answer is recorded on the row.
 *
 * @throws as `updateWorkflow`; when Temporal is out of reach, AppError `RECEIPT_KEPT` (503) saying the request
 *   is kept and will be judged by its receipt time (Asia/Shanghai), with its `receiptId` (the Update id).
 */
export async function deliverReceipt<Ret, Arg extends { receivedAt: string }>(
  deps: { db: Db; temporal: Client },
  workflowId: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg | ((trx: Knex.Transaction) => Promise<Arg>),
  options: {
    updateId: string | undefined;
    caller: string | undefined;
    whenEnded: () => AppError;
    /**
     * Asked only when Temporal cannot be reached: the refusal the recorded state already proves (a submission
     * received after the round's recorded deadline), answered and recorded on the receipt instead of keeping a
     * request that can only be refused.
     */
    provenRefusal?: () => Promise<AppError | undefined>;
  },
): Promise<Ret> {
  const updateId = options.updateId ?? `receipt/${randomUUID()}`;
  const keep = async (db: Db, value: Arg) =>
    recordReceipt(
      db,
      {
        updateId,
        workflowId,
        updateName: update.name,
        updateArg: value,
        caller: options.caller ?? 'public',
        receivedAt: new Date(value.receivedAt),
      },
      RECEIPT_LEASE_MS,
    );
  const kept =
    typeof arg === 'function'
      ? await deps.db.transaction(async (trx) => keep(trx, await arg(trx)))
      : await keep(deps.db, arg);
  const sent = kept.updateArg as Arg;
  let result: Ret;
  try {
    result = await sendKeptReceipt(deps, workflowId, update, sent, { updateId, whenEnded: options.whenEnded });
  } catch (err) {
    // A refusal is recorded on the receipt by sendKeptReceipt; only a passing failure of ours is kept.
    if (!outcomeOfFailure(err) && fromTemporalError(err)?.code === 'SERVICE_UNAVAILABLE') {
      const refusal = await options.provenRefusal?.();
      if (refusal) {
        await recordReceiptOutcome(deps.db, updateId, {
          status: 'refused',
          code: refusal.code,
          message: refusal.detail ?? refusal.title,
        });
        throw refusal;
      }
      // Ours and passing, but the person's request is safe: they learn it is kept and judged by this receipt time.
      throw new AppError(
        'RECEIPT_KEPT',
        `已于 ${formatInstantZh(kept.receivedAt)} 收到并留存该请求，流程引擎恢复后将按此接收时间自动处理，无需重复提交`,
        { receiptId: updateId },
      );
    }
    throw err;
  }
  return result;
}

/**
 * Sends the Update of a receipt already kept in `update_receipts` (`recordReceipt`, e.g. in the transaction of
 * the decision that calls for it) and records the workflow's answer on the receipt: accepted, or the refusal.
 * When Temporal is out of reach the receipt stays pending and the outbox sweeper redelivers it.
 *
 * @throws as `updateWorkflow` (the refusal is recorded first).
 */
export async function sendKeptReceipt<Ret, Arg>(
  deps: { db: Db; temporal: Client },
  workflowId: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  options: { updateId: string; whenEnded: () => AppError },
): Promise<Ret> {
  let result: Ret;
  try {
    result = await updateWorkflow(deps.temporal, workflowId, update, arg, options);
  } catch (err) {
    const outcome = outcomeOfFailure(err);
    if (outcome) await recordReceiptOutcome(deps.db, options.updateId, outcome);
    throw err;
  }
  await recordReceiptOutcome(deps.db, options.updateId, { status: 'accepted' });
  return result;
}
