import { ApplicationFailure } from '@temporalio/activity';
import type { ErrorCode } from '../domain/errors.js';

/**
 * Refuses an activity's request for a business reason: a non-retryable `ApplicationFailure` whose type is the
 * stable error code of `domain/errors.ts` (the workflow turns it into the Update's failure, the API into
 * problem+json). `details`, when given, travels as the failure's first detail.
 *
 * @throws always — `ApplicationFailure` (nonRetryable, type = code).
 */
export function refuse(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    message,
    type: code,
    nonRetryable: true,
    ...(details ? { details: [details] } : {}),
  });
}
