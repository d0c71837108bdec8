import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { roundReview, shortlist } from '../../db/repositories/round.shortlist.js';
import { findRound } from '../../db/repositories/round.js';
import { confirmShortlistUpdate } from '../../workflows/round.messages.js';
import { AppError } from '../errors.js';
import { retryBlockedReview } from '../review-retry.js';
import { requestIdOf } from '../request.js';
import { updateWorkflow } from '../workflow-calls.js';
import { RoundParams, trimmedText } from '../schemas.js';
import { z, type ApiRoutes } from '../route.js';

export interface ShortlistRouteDeps {
  db: Db;
  temporal: Client;
}

const ShortlistSchema = z
  .object({
    roundId: z.string(),
    reviewStatus: z.string(),
    items: z.array(
      z.object({
        applicationId: z.string(),
        title: z.string(),
        institutionId: z.string(),
        institutionName: z.string(),
        rank: z.number().int(),
        score: z.number().nullable(),
        mean: z.number().nullable(),
        trimmedMean: z.number().nullable(),
        spread: z.number().nullable(),
        validScores: z.number().int(),
        flags: z.array(z.string()).openapi({ description: 'under_reviewed（有效评分不足）、spread（极差超过 20 分）' }),
        recommended: z.boolean(),
        confirmed: z.boolean().nullable(),
        adjustmentReason: z.string().nullable(),
      }),
    ),
  })
  .openapi('Shortlist');

/**
 * The round's end of the expert review (staff): the ranked shortlist, its confirmation, and the retry of an
 * assignment blocked for want of experts.
 */
export function shortlistRoutes(routes: ApiRoutes, deps: ShortlistRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/shortlist',
    summary: '评审结果与推荐名单（工作人员）',
    description: '按名次排列：得分（5 份及以上有效评分去掉最高最低后取平均）、平均分、极差与标记。',
    tags: ['专家评审'],
    access: ['staff'],
    params: RoundParams,
    responses: { 200: { description: '推荐名单', schema: ShortlistSchema } },
    errors: ['ROUND_NOT_FOUND', 'SHORTLIST_NOT_READY'],
    async handler({ params }) {
      if (!(await findRound(db, params.roundId))) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      const list = await shortlist(db, params.roundId);
      if (!list) throw new AppError('SHORTLIST_NOT_READY', '该批次尚未进入专家评审');
      return { status: 200, body: { roundId: params.roundId, reviewStatus: list.reviewStatus, items: list.rows } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/rounds/:roundId/shortlist/confirm',
    summary: '确认推荐名单（可调整，每项调整须说明理由）',
    tags: ['专家评审'],
    access: ['staff'],
    params: RoundParams,
    body: z
      .object({
        adjustments: z
          .array(
            z
              .object({
                applicationId: z.uuid().openapi({ title: '申报书编号' }),
                include: z.boolean().openapi({ title: '是否列入', description: 'true 列入推荐名单，false 移出' }),
                reason: trimmedText(2, 500, '请说明调整理由').openapi({ title: '调整理由' }),
              })
              .strict(),
          )
          .max(1000)
          .default([])
          .openapi({ title: '名单调整' }),
      })
      .strict(),
    responses: {
      200: {
        description: '已确认',
        schema: z.object({ roundId: z.string(), shortlisted: z.number().int(), adjusted: z.number().int() }),
      },
    },
    errors: ['ROUND_NOT_FOUND', 'SHORTLIST_NOT_READY', 'SHORTLIST_CONFIRMED'],
    async handler({ params, body, principal, req }) {
      if (!(await findRound(db, params.roundId))) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      const result = await updateWorkflow(
        deps.temporal,
        params.roundId,
        confirmShortlistUpdate,
        { adjustments: body.adjustments, actor: principal!.actor, requestId: requestIdOf(req) },
        { whenEnded: () => new AppError('SHORTLIST_CONFIRMED', '该批次的流程已结束') },
      );
      return { status: 200, body: { roundId: params.roundId, ...result } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/rounds/:roundId/review/retry',
    summary: '补充专家后重新分派评审（分派曾因专家库不足受阻时）',
    tags: ['专家评审'],
    access: ['staff', 'ops'],
    params: RoundParams,
    responses: { 202: { description: '已重新发起分派', schema: z.object({ roundId: z.string() }) } },
    errors: ['REVIEW_NOT_FOUND', 'REVIEW_NOT_BLOCKED'],
    async handler({ params, principal, req }) {
      const review = await roundReview(db, params.roundId);
      if (!review) throw new AppError('REVIEW_NOT_FOUND', `申报批次 ${params.roundId} 尚无评审`);
      await retryBlockedReview(deps, review, { principal: principal!, req });
      return { status: 202, body: { roundId: params.roundId } };
    },
  });
}
