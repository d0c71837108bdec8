import { ActivityFailure, ApplicationFailure, currentUpdateInfo } from '@temporalio/workflow';
import { BUSY_CODE, type ErrorCode } from '../domain/errors.js';

/** A refusal with a stable code (the API maps it to problem+json) and a zh-CN message. */
export function refusal(code: ErrorCode, message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: code, nonRetryable: true });
}

/** A refusal the API retries (see `BUSY_CODE`): the workflow cannot take this request yet. */
export function busy(message: string): ApplicationFailure {
  return refusal(BUSY_CODE, message);
}

/** An activity's business refusal becomes the Update's failure, with its code, message and details intact. */
function asUpdateFailure(err: unknown): ApplicationFailure {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: err.cause.message,
      type: err.cause.type ?? 'SUBMISSION_FAILED',
      nonRetryable: true,
      details: err.cause.details ?? [],
    });
  }
  if (err instanceof ApplicationFailure) return err;
  return ApplicationFailure.create({
    message: '处理未能完成，请稍后重试',
    type: 'SUBMISSION_FAILED',
    nonRetryable: true,
  });
}

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
