/**
 * The timeouts of the workflows' activity proxies that work through lists (applications, reviews,
 * recipients), in one place: the workflows pass them to `proxyActivities`, and `npm run bench:scale` prints
 * them beside the durations it measures at national scale (10,000 applications, 30,000 reviews), so a
 * timeout and the figure it was sized on are read together.
 *
 * Temporal fails an attempt that runs longer than `startToCloseTimeout`, and one that goes longer than
 * `heartbeatTimeout` without a heartbeat (`Context.current().heartbeat()`); a proxy with a
 * `heartbeatTimeout` may only run activities that heartbeat at least that often. Durations are Temporal
 * duration strings (ms-formatted: '30 seconds', '10 minutes'). Changing one changes only the options of the
 * commands a workflow issues, not the commands: running workflows keep replaying.
 */
export interface ActivityTimeouts {
  /** Longest one attempt may run. */
  startToCloseTimeout: string;
  /** Longest an attempt may go without a heartbeat; absent: the activity need not heartbeat. */
  heartbeatTimeout?: string;
}

/** The round's single steps (`prepareRound`, `recordRoundStage`, `recomputeDeadline`, `approveRound`, `createProjects`). */
export const ROUND_STEP_TIMEOUTS = { startToCloseTimeout: '1 minute' } as const satisfies ActivityTimeouts;

/** The round's list work, a page per call: the call's mailings and the formal check. */
export const ROUND_LIST_TIMEOUTS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
} as const satisfies ActivityTimeouts;

/** The expert review's activities: assignment, invitations and reminders, replacements, aggregation. */
export const REVIEW_TIMEOUTS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
} as const satisfies ActivityTimeouts;

/** The publicity period's activities: opening it with its list, reminders, closing it. */
export const PUBLICITY_TIMEOUTS = { startToCloseTimeout: '5 minutes' } as const satisfies ActivityTimeouts;

/** The annual evaluation's activities: requests, reminders, reports, grades, results. */
export const EVALUATION_TIMEOUTS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
} as const satisfies ActivityTimeouts;

/**
 * Decision activities, the ones a person's request (an Update) waits on, including staff's confirmation of
 * a whole shortlist: one attempt, retried without limit.
 */
export const DECISION_TIMEOUTS = { startToCloseTimeout: '30 seconds' } as const satisfies ActivityTimeouts;

/**
 * Page sizes of the list activities a workflow calls page by page: recipients per mailing call, applications
 * per formal-check call. Every call's time is about proportional to its page.
 */
export const LIST_BATCH_SIZES = { mail: 200, formalCheck: 100 } as const;
