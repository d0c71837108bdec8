import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { retryAssignmentSignal } from '../workflows/review.messages.js';
import type { Principal } from './auth.js';
import { AppError } from './errors.js';
import { requestIdOf } from './request.js';

/**
 * Staff's retry of a review whose assignment was blocked (the pool too small for 回避 and the bounds): audited,
 * then signalled to the review workflow, which assigns again from the pool as it now is.
 *
 * @throws AppError `REVIEW_NOT_BLOCKED` when the review is not waiting for staff.
 */
export async function retryBlockedReview(
  deps: { db: Db; temporal: Client },
  review: { id: string; status: string; workflowId: string },
  by: { principal: Principal; req: Request },
): Promise<void> {
  if (review.status !== 'blocked') throw new AppError('REVIEW_NOT_BLOCKED', `评审状态为 ${review.status}`);
  await recordAudit(deps.db, {
    actor: by.principal.actor,
    role: 'staff',
    action: 'review.retry_assignment',
    subjectKind: 'review',
    subjectId: review.id,
    requestId: requestIdOf(by.req),
    workflowId: review.workflowId,
  });
  await deps.temporal.workflow.getHandle(review.workflowId).signal(retryAssignmentSignal);
}
