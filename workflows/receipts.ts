import {
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PendingReceiptsInput } from '../activities/receipts.js';
import { RETRY } from './budget.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: RETRY });

/** From this change on, a stage's close first waits for its on-time receipts still pending. */
export const CLOSE_WAITS_FOR_RECEIPTS_PATCH = 'close-waits-for-receipts';

/** How often a close looks again while on-time receipts are pending (wall-clock milliseconds). */
const RECEIPT_POLL_MS = 15_000;

/**
 * Before a stage closes (the call, a publicity period, nominations, RSVPs, a rectification or evaluation
 * report): waits while this workflow has a receipt (`update_receipts`, issue 13 point 3) among `updates` that is
 * still pending and that `onTime` accepts (its receipt time, an ISO instant on the wall clock) — received in
 * time, but its Update not yet delivered because its sender died or Temporal was out of reach. The outbox
 * sweeper redelivers such a receipt within about two minutes; the workflow judges it by its receipt time and
 * records it, and only then closes. Looks again every 15 s (a durable timer); returns once none is left, after
 * the handlers they started have finished. Each look adds one activity and one timer to the history (about
 * 240 an hour while a receipt waits). A no-op when replaying a history recorded before this change (patched).
 */
export async function awaitOnTimeReceipts(
  filter: Omit<PendingReceiptsInput, 'workflowId'>,
  onTime: (receivedAt: string) => boolean,
): Promise<void> {
  if (!patched(CLOSE_WAITS_FOR_RECEIPTS_PATCH)) return;
  for (;;) {
    const pending = await acts.pendingReceipts({ workflowId: workflowInfo().workflowId, ...filter });
    const waiting = pending.filter((r) => onTime(r.receivedAt)).length;
    if (waiting === 0) break;
    log.info('the close waits for receipts received in time', { waiting, updates: filter.updates });
    await sleep(RECEIPT_POLL_MS);
  }
  await condition(allHandlersFinished);
}
