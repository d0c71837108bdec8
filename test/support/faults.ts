import type { DecisionFaults } from '../../activities/decision.js';

/**
 * The end-to-end stacks' default fault: each decision's first commit is followed by a simulated crash, before
 * its emails are sent and the activity returns; the retry must find the recorded result. `counts` collects the
 * crashes by activity type, for tests to check that the decisions they drive were crashed.
 */
export function crashOnceAfterCommit(counts: Record<string, number>): DecisionFaults {
  return {
    afterCommit({ activity }) {
      counts[activity] = (counts[activity] ?? 0) + 1;
      throw new Error(`injected crash after the commit of ${activity}`);
    },
  };
}
