import { ActivityFailure, ApplicationFailure, currentUpdateInfo, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { BUSY_CODE, isErrorCode, type ErrorCode } from '../domain/errors.js';
import { DECISION_RETRY } from './budget.js';
import { DECISION_TIMEOUTS } from '../domain/activity-timeouts.js';

/** A refusal with a stable code (the API maps it to problem+json) and a zh-CN message. */
export function refusal(code: ErrorCode, message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: code, nonRetryable: true });
}

/** A refusal the API retries (see `BUSY_CODE`): the workflow cannot take this request yet. */
export function busy(message: string): ApplicationFailure {
  return refusal(BUSY_CODE, message);
}

/**
 * An activity's business refusal (`refuse()`: a non-retryable failure typed with a catalogue code) becomes the
 * Update's failure, with its code, message and details intact. Anything else — the database or SMTP down
 * through every attempt, a timeout — is ours, not the person's: it fails the Update as `SERVICE_UNAVAILABLE`
 * (503, never a refusal, never audited as one). Decision activities retry until they succeed or refuse, so
 * this is the last resort, not the rule.
 */
function asUpdateFailure(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable && isErrorCode(cause.type)) {
    return ApplicationFailure.create({
      message: cause.message,
      type: cause.type,
      nonRetryable: true,
      details: cause.details ?? [],
    });
  }
  return ApplicationFailure.create({
    message: '处理暂未完成，请稍后重试',
    type: 'SERVICE_UNAVAILABLE' satisfies ErrorCode,
    nonRetryable: true,
  });
}

/**
 * Decision activities, the ones a person's request waits on (an Update's handler; see `activities/decision.ts`):
 * 30 s an attempt, retried without limit until recorded or refused (`DECISION_RETRY`). Called through `decide`.
 */
export const decisions = proxyActivities<Activities>({ ...DECISION_TIMEOUTS, retry: DECISION_RETRY });

/**
 * Runs an Update's decision activity with the Update's id as the decision's key (`updateId`): a retry of the
 * activity after its commit gets the recorded result back (see `activities/decision.ts`). A refusal becomes the
 * Update's failure.
 */
export async function decide<I, R>(
  activity: (input: I) => Promise<R>,
  input: NoInfer<Omit<I, 'updateId'>>,
): Promise<R> {
  try {
    return await activity({ ...input, updateId: currentUpdateInfo()?.id } as I);
  } catch (err) {
    throw asUpdateFailure(err);
  }
}
