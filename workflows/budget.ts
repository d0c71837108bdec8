import { workflowInfo } from '@temporalio/workflow';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * Limits every workflow here keeps to. Temporal's own limits are 51,200 events and 50 MB per run; these
 * workflows continue as new at 2,000 events or 2 MB, well inside the 10% (5,120 events, 5 MB) the SPEC allows.
 */
const HISTORY_EVENT_BUDGET = 2_000;
const HISTORY_BYTES_BUDGET = 2 * 1024 * 1024;

/** True when this run should hand over to a fresh one (Temporal suggests it, or the budget is spent). */
export function historyNearlyFull(): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength >= HISTORY_EVENT_BUDGET ||
    info.historySize >= HISTORY_BYTES_BUDGET
  );
}

/** Requests received by a deadline may finish recording for this long before the deadline is acted on. */
export const PROCESSING_GRACE_SECONDS = 600;

/** In compressed time the grace is capped, or demos and tests would idle for minutes of wall time. */
const COMPRESSED_GRACE_CAP_MS = 5_000;

export function graceMs(seconds: number, compression: TimeCompression | undefined): number {
  return compression ? Math.min(seconds * 1000, COMPRESSED_GRACE_CAP_MS) : seconds * 1000;
}

/** The retry policy of every activity: quick first retries, then at most a minute apart. */
export const RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

/**
 * The retry policy of decision activities (the ones an Update waits on): no limit on attempts — a decision
 * ends recorded or refused, never failed because PostgreSQL was down — and at most 5 s apart, so a person's
 * request goes through within seconds of the database coming back (the API answers 503 meanwhile).
 */
export const DECISION_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '5 seconds',
} as const;
