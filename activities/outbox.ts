import { Context, log } from '@temporalio/activity';
import type { SweepResult } from '../mail/outbox.js';
import type { ActivityDeps } from './deps.js';

/** One sweep: how many rows to claim at most. */
export interface SweepOutboxInput {
  batchSize: number;
}

/** What a sweep did (see `SweepResult`), and whether more rows may be due (the batch was full). */
export interface SweepOutboxResult extends SweepResult {
  more: boolean;
}

/** The outbox sweeper's one activity (run by `outboxSweeperWorkflow`). */
export function createOutboxActivities({ outbox }: ActivityDeps) {
  return {
    /**
     * Claims one batch of the rows nobody is sending — pending rows whose next attempt is due (left behind
     * by a crash between a commit and its send, or by a failed send), and claims whose lease ran out — and
     * sends them, heartbeating after each. Several sweeps at once, in one process or many, take disjoint rows
     * (`FOR UPDATE SKIP LOCKED`). A failing row is recorded (back-off, or `failed` after the last attempt),
     * not thrown; the activity fails only when the database does, and is retried.
     */
    async sweepOutbox(input: SweepOutboxInput): Promise<SweepOutboxResult> {
      const result = await outbox.sweep(input.batchSize, () => Context.current().heartbeat());
      if (result.claimed > 0) log.info('outbox swept', { ...result });
      return { ...result, more: result.claimed >= input.batchSize };
    },
  };
}
