import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { RETRY } from './budget.js';
import { configureOutboxSweeperSignal, type OutboxSweeperSettings } from './outbox.messages.js';

const acts = proxyActivities<Activities>({
  // One batch: at most a few hundred messages, each renewing its claim; the heartbeat shows it is alive.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: RETRY,
});

/** From this change on, every sweep also redelivers the receipts nobody holds (`activities/receipts.ts`). */
const RECEIPT_REDELIVERY_PATCH = 'receipt-redelivery';

/** Sweeps per run before continuing as new: about 15 events each, so a run stays far below history limits. */
const SWEEPS_PER_RUN = 200;

/**
 * The outbox sweeper, one per namespace (`outbox-sweeper`), started by every worker at start if not running
 * (signal-with-start). It runs for ever: `parallelism` sweep activities at once, and one redelivery of the
 * pending receipts nobody holds (`redeliverReceipts`), then — unless a batch was full — a sleep of
 * `everySeconds`; new settings (the signal) apply from the next sweep. Durable time, not a process timer: a
 * sweep lost with its worker is retried on another, and the sweeper outlives every worker.
 * It continues as new every `SWEEPS_PER_RUN` sweeps or when Temporal suggests it.
 */
export async function outboxSweeperWorkflow(settings: OutboxSweeperSettings): Promise<void> {
  let current = settings;
  let changed = false;
  setHandler(configureOutboxSweeperSignal, (next) => {
    current = next;
    changed = true;
  });
  for (let sweep = 0; sweep < SWEEPS_PER_RUN && !workflowInfo().continueAsNewSuggested; sweep++) {
    const { batchSize, parallelism } = current;
    const results = await Promise.all([
      ...Array.from({ length: Math.max(1, parallelism) }, () => acts.sweepOutbox({ batchSize })),
      // Receipts whose sender died before its Update reached the workflow (issue 13, point 3).
      ...(patched(RECEIPT_REDELIVERY_PATCH) ? [acts.redeliverReceipts({ batchSize })] : []),
    ]);
    if (results.some((r) => r.more)) continue;
    changed = false;
    await condition(() => changed, current.everySeconds * 1000);
  }
  await continueAsNew<typeof outboxSweeperWorkflow>(current);
}
