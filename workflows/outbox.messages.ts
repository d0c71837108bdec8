import { defineSignal } from '@temporalio/workflow';

/**
 * The outbox sweeper's contract (workflow `outboxSweeperWorkflow`, id `outbox-sweeper`): its settings, the
 * same as its input, and the signal every worker sends them with at start (signal-with-start), so the one
 * sweeper runs with the settings of the worker that started last.
 */

/** How the sweeper works (OUTBOX_SWEEP_SECONDS, OUTBOX_SWEEP_BATCH, OUTBOX_SWEEP_PARALLELISM). */
export interface OutboxSweeperSettings {
  /** Seconds between two sweeps when the last found nothing more to do. */
  everySeconds: number;
  /** Rows one sweep activity claims at most. */
  batchSize: number;
  /** Sweep activities run at once (any worker may run each; they take disjoint rows). */
  parallelism: number;
}

/** New settings for the running sweeper; they apply from its next sweep. */
export const configureOutboxSweeperSignal = defineSignal<[OutboxSweeperSettings]>('configureOutboxSweeper');

/** The workflow's signature, for starting it by type name with a typed input. */
export type OutboxSweeperWorkflow = (settings: OutboxSweeperSettings) => Promise<void>;
