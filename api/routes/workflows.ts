import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { reviewStatus } from '../../db/repositories/review.assignments.js';
import { retryChildUpdate } from '../../workflows/children.messages.js';
import { AppError } from '../errors.js';
import { retryBlockedReview } from '../review-retry.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { updateWorkflow } from '../workflow-calls.js';

export interface WorkflowRouteDeps {
  db: Db;
  temporal: Client;
}

/**
 * Staff's ways out of a procedure that waits on them: retrying a failed sub-workflow (a review, a publicity
 * period) of any procedure, and retrying the assignment of any blocked review once the pool is enlarged.
 */
export function workflowRoutes(routes: ApiRoutes, deps: WorkflowRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'post',
    path: '/api/workflows/:workflowId/retry-child',
    summary: '重试失败的子流程（评审、公示等环节失败后，排除原因再继续）',
    description:
      '子流程失败时系统会邮件通知工作人员，主流程暂停在该环节等待重试；排除原因后调用本接口，以同一流程 ID 重新运行该环节。',
    tags: ['流程'],
    access: ['staff', 'ops'],
    params: z.object({ workflowId: z.string().min(1).max(200).openapi({ title: '流程编号' }) }),
    body: z
      .object({
        childWorkflowId: z
          .string()
          .min(1)
          .max(200)
          .optional()
          .openapi({ title: '子流程编号', description: '失败的子流程 ID（可选，用于核对）' }),
      })
      .strict()
      .default({}),
    responses: {
      200: {
        description: '已重新运行该环节',
        schema: z.object({ workflowId: z.string(), childWorkflowId: z.string(), failures: z.number().int() }),
      },
    },
    errors: ['WORKFLOW_NOT_FOUND', 'CHILD_NOT_FAILED'],
    async handler({ params, body, principal, req, updateId }) {
      const result = await updateWorkflow(
        deps.temporal,
        params.workflowId,
        retryChildUpdate,
        { childWorkflowId: body.childWorkflowId, actor: principal!.actor, requestId: requestIdOf(req) },
        {
          ...(updateId ? { updateId } : {}),
          whenEnded: () => new AppError('WORKFLOW_NOT_FOUND', `流程 ${params.workflowId} 不存在或已结束`),
        },
      );
      return { status: 200, body: { workflowId: params.workflowId, ...result } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/reviews/:reviewId/retry',
    summary: '补充专家后重新分派评审（任何评审：申报批次、动态评价、整改、项目报告、典型案例）',
    tags: ['专家评审'],
    access: ['staff', 'ops'],
    params: z.object({ reviewId: z.uuid().openapi({ title: '评审编号' }) }),
    responses: { 202: { description: '已重新发起分派', schema: z.object({ reviewId: z.string() }) } },
    errors: ['REVIEW_NOT_FOUND', 'REVIEW_NOT_BLOCKED'],
    async handler({ params, principal, req }) {
      const review = await reviewStatus(db, params.reviewId);
      if (!review) throw new AppError('REVIEW_NOT_FOUND', params.reviewId);
      await retryBlockedReview(deps, review, { principal: principal!, req });
      return { status: 202, body: { reviewId: review.id } };
    },
  });
}
