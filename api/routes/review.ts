import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import {
  expertAssignments,
  findAssignment,
  LIVE_ASSIGNMENT_STATUSES,
  ownScore,
  type AssignmentRow,
} from '../../db/repositories/review.js';
import { assignmentMaterial } from '../../db/repositories/review.views.js';
import { formatInstantZh, formatShanghai } from '../../domain/calendar/index.js';
import { scoreSheetProblems, weightedTotal } from '../../domain/review/scoring.js';
import { acceptAssignment, submitScoreSheet } from '../../services/review.js';
import { declineAssignmentUpdate } from '../../workflows/review.messages.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { draftText, trimmedText } from '../schemas.js';
import { updateWorkflow } from '../workflow-calls.js';
import type { Logger } from '../../platform/logger.js';

export interface ReviewRouteDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  clock: Clock;
}

const AssignmentParams = z.object({ assignmentId: z.uuid().openapi({ title: '评审任务编号' }) });

/** The kinds of item an expert reviews (`ReviewItemKind`, domain/review/subjects.ts). */
const ItemKindSchema = z.enum(['application', 'evaluation_report', 'rectification', 'project_report', 'case']).openapi({
  description:
    'application 申报 / evaluation_report 年度自评报告 / rectification 整改报告 / project_report 项目中期或结项报告 / case 推广案例',
});

const AssignmentSummarySchema = z
  .object({
    assignmentId: z.string(),
    status: z
      .string()
      .openapi({ example: 'invited', description: 'invited / accepted / declined / timed_out / submitted' }),
    dueAt: z.string(),
    replacement: z.boolean(),
    itemKind: ItemKindSchema,
    itemId: z.string(),
    applicationId: z.string().nullable().openapi({ description: '评审对象为申报时的申报 ID' }),
    title: z.string(),
    field: z.string().nullable(),
    institutionName: z.string(),
    submittedAt: z.string().nullable(),
  })
  .openapi('ExpertAssignment');

const ReviewSheetSchema = z
  .object({
    scores: z.record(z.string(), z.number().min(0).max(100)).openapi({
      title: '评分',
      description:
        '按评分细则逐项打分：键为该任务评分细则（GET /api/assignments/{assignmentId} 的 rubric）的每一项 key，' +
        '每项为 0–100 的数字（总分按权重计算）',
      example: { collaborative_education: 85, faculty: 80 },
    }),
    comment: draftText(5000, { oneLine: false }).optional().openapi({ title: '评审意见' }),
  })
  .strict()
  .openapi('ReviewSheet');

/** An expert reaches only their own assignments; any other is a 403 (staff read all). */
async function loadAssignment(db: Db, assignmentId: string, principal: Principal): Promise<AssignmentRow> {
  const a = await findAssignment(db, assignmentId);
  if (!a) throw new AppError('ASSIGNMENT_NOT_FOUND', assignmentId);
  if (principal.role === 'expert' && a.expertId !== principal.expertId) {
    throw new AppError('FORBIDDEN', '只能处理分派给本人的评审任务');
  }
  return a;
}

/**
 * An expert reads an assignment's material (the item's content, the application's submitted version) only while
 * the assignment is live (`LIVE_ASSIGNMENT_STATUSES`: invited, accepted, submitted), as for its attachments; a
 * declined or timed-out one is 409 `ASSIGNMENT_CLOSED`, whatever the session (a token, a sign-in, an email link).
 * Staff read every assignment in every status.
 *
 * @throws AppError ASSIGNMENT_CLOSED (409) for an expert on a declined or timed-out assignment.
 */
function assertMaterialReadable(a: AssignmentRow, principal: Principal): void {
  if (principal.role !== 'expert') return;
  if ((LIVE_ASSIGNMENT_STATUSES as readonly string[]).includes(a.status)) return;
  const why = a.status === 'declined' ? '已谢绝' : '已逾期并另请专家';
  throw new AppError('ASSIGNMENT_CLOSED', `该评审任务${why}，不能再查看评审材料`);
}

/** The assignment is still the expert's to answer (else 409 `ASSIGNMENT_CLOSED`). */
function assertAssignmentOpen(a: AssignmentRow, allowSubmitted: boolean): void {
  if (a.status === 'declined' || a.status === 'timed_out' || (!allowSubmitted && a.status === 'submitted')) {
    const why = { declined: '已谢绝', timed_out: '已逾期并另请专家', submitted: '已提交' }[a.status];
    throw new AppError('ASSIGNMENT_CLOSED', `该评审任务${why}`);
  }
}

const duePassed = (a: AssignmentRow) => new AppError('REVIEW_DUE_PASSED', `评审已于 ${formatInstantZh(a.dueAt)} 截止`);

/** The assignment is open and its due time not passed at `receivedAt` (else 409). */
function assertOpen(a: AssignmentRow, receivedAt: Date, allowSubmitted: boolean): void {
  assertAssignmentOpen(a, allowSubmitted);
  if (receivedAt.getTime() > a.dueAt.getTime()) throw duePassed(a);
}

export function reviewRoutes(routes: ApiRoutes, deps: ReviewRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'get',
    path: '/api/me/assignments',
    summary: '我的评审任务（专家）',
    description: '只列出分派给本人的任务；看不到其他专家及其评分。',
    tags: ['专家评审'],
    access: ['expert'],
    query: z.object({
      status: z
        .enum(['invited', 'accepted', 'declined', 'timed_out', 'submitted'])
        .optional()
        .openapi({ title: '任务状态' }),
    }),
    responses: { 200: { description: '评审任务', schema: z.object({ items: z.array(AssignmentSummarySchema) }) } },
    async handler({ query, principal }) {
      const items = await expertAssignments(db, principal!.expertId!, query.status);
      return {
        status: 200,
        body: {
          items: items.map((i) => ({
            ...i,
            dueAt: formatShanghai(i.dueAt),
            submittedAt: i.submittedAt ? formatShanghai(i.submittedAt) : null,
          })),
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/assignments/:assignmentId',
    summary: '查看评审任务：申报材料（已提交版本）与本人评分',
    description:
      '专家只能查看分派给本人的任务（他人的任务 403）；材料不含申报单位申请回避的专家名单，也不含其他专家的身份与评分。' +
      '专家已谢绝或已逾期（另请专家）的任务不再提供评审材料，返回 409 `ASSIGNMENT_CLOSED`（附件同样不再提供）；工作人员可查看任何状态的任务。',
    tags: ['专家评审'],
    access: ['expert', 'staff'],
    linkScope: 'assignment',
    params: AssignmentParams,
    responses: {
      200: {
        description: '评审任务',
        schema: z.object({
          assignmentId: z.string(),
          status: z.string(),
          dueAt: z.string(),
          rubric: z.array(z.object({ key: z.string(), nameZh: z.string(), weight: z.number() })),
          item: z.object({
            kind: ItemKindSchema,
            itemId: z.string(),
            title: z.string(),
            institutionName: z.string(),
            content: z.unknown().openapi({
              description:
                '申报的已提交版本，或自评报告、整改报告、项目报告、推广案例的内容；不含申报单位申请回避的专家（avoidExperts）',
            }),
          }),
          application: z
            .object({ applicationId: z.string(), version: z.number().int(), content: z.unknown() })
            .nullable()
            .openapi({ description: '评审对象为申报时：已提交版本（不含申请回避的专家）' }),
          review: z
            .object({
              scores: z.record(z.string(), z.number()),
              total: z.number(),
              comment: z.string().nullable(),
              updatedAt: z.string(),
            })
            .nullable(),
        }),
      },
    },
    errors: ['ASSIGNMENT_NOT_FOUND', 'ASSIGNMENT_CLOSED'],
    async handler({ params, principal }) {
      const a = await loadAssignment(db, params.assignmentId, principal!);
      assertMaterialReadable(a, principal!);
      const item = await assignmentMaterial(db, a);
      const score = await ownScore(db, a.id);
      return {
        status: 200,
        body: {
          assignmentId: a.id,
          status: a.status,
          dueAt: formatShanghai(a.dueAt),
          rubric: a.rubric,
          item: {
            kind: a.itemKind,
            itemId: a.itemId,
            title: item.title,
            institutionName: item.institutionName,
            content: item.content,
          },
          application:
            item.applicationVersion !== undefined
              ? { applicationId: a.itemId, version: item.applicationVersion, content: item.content }
              : null,
          review: score
            ? {
                scores: score.scores,
                total: score.total,
                comment: score.comment,
                updatedAt: formatShanghai(score.updatedAt),
              }
            : null,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/assignments/:assignmentId/accept',
    summary: '接受评审邀请',
    tags: ['专家评审'],
    access: ['expert'],
    linkScope: 'assignment',
    params: AssignmentParams,
    responses: {
      200: { description: '已接受', schema: z.object({ assignmentId: z.string(), status: z.literal('accepted') }) },
    },
    errors: ['ASSIGNMENT_NOT_FOUND', 'ASSIGNMENT_CLOSED', 'REVIEW_DUE_PASSED'],
    async handler({ params, principal, req, receivedAt }) {
      const a = await loadAssignment(db, params.assignmentId, principal!);
      assertOpen(a, receivedAt, false);
      await acceptAssignment(db, a, { actor: principal!.actor, requestId: requestIdOf(req), receivedAt });
      return { status: 200, body: { assignmentId: a.id, status: 'accepted' } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/assignments/:assignmentId/decline',
    summary: '谢绝评审邀请（须说明原因；可声明利益冲突，记录在案）',
    description: '谢绝后系统会另请一名符合回避与负载要求的专家补充评审（每项任务至多补请一次）。',
    tags: ['专家评审'],
    access: ['expert'],
    linkScope: 'assignment',
    params: AssignmentParams,
    body: z
      .object({
        reason: trimmedText(2, 500, '请说明谢绝原因').openapi({ title: '谢绝原因' }),
        conflict: z
          .boolean()
          .default(false)
          .openapi({ title: '是否存在利益冲突', description: '与申报单位存在利益冲突（今后不再分派该单位）' }),
      })
      .strict(),
    responses: {
      200: {
        description: '已谢绝',
        schema: z.object({ assignmentId: z.string(), status: z.literal('declined'), conflictRecorded: z.boolean() }),
      },
    },
    errors: ['ASSIGNMENT_NOT_FOUND', 'ASSIGNMENT_CLOSED', 'REVIEW_DUE_PASSED'],
    async handler({ params, body, principal, req, receivedAt, updateId }) {
      const a = await loadAssignment(db, params.assignmentId, principal!);
      assertOpen(a, receivedAt, false);
      // The review workflow records the decline itself (an Update): answered only once it has it, so the
      // replacement cannot be lost between our write and a message to the workflow.
      const declined = await updateWorkflow(
        deps.temporal,
        a.workflowId,
        declineAssignmentUpdate,
        {
          assignmentId: a.id,
          reason: body.reason,
          conflict: body.conflict,
          actor: principal!.actor,
          requestId: requestIdOf(req),
          receivedAt: receivedAt.toISOString(),
        },
        { ...(updateId ? { updateId } : {}), whenEnded: () => new AppError('ASSIGNMENT_CLOSED', '该评审已结束') },
      );
      return {
        status: 200,
        body: { assignmentId: declined.assignmentId, status: 'declined', conflictRecorded: declined.conflictRecorded },
      };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/assignments/:assignmentId/review',
    summary: '提交或修改评分（截止前、评审结束前可修改）',
    description:
      '按评分细则逐项打分（0–100 的有限数字），总分按权重计算。只能评本人的任务；评分对其他专家与申报单位不可见。',
    tags: ['专家评审'],
    access: ['expert'],
    linkScope: 'assignment',
    params: AssignmentParams,
    body: ReviewSheetSchema,
    responses: {
      200: {
        description: '已保存',
        schema: z.object({
          assignmentId: z.string(),
          status: z.literal('submitted'),
          total: z.number(),
          revised: z.boolean(),
        }),
      },
    },
    errors: ['ASSIGNMENT_NOT_FOUND', 'ASSIGNMENT_CLOSED', 'REVIEW_DUE_PASSED', 'REVIEW_CLOSED'],
    async handler({ params, body, principal, req, receivedAt }) {
      const a = await loadAssignment(db, params.assignmentId, principal!);
      const problems = scoreSheetProblems(a.rubric, body.scores);
      if (problems.length > 0) {
        throw new AppError('VALIDATION_FAILED', problems.join('；'), {
          errors: problems.map((message) => ({ path: 'scores', message })),
        });
      }
      // The due time is checked with the review's state, after it: a closed review answers REVIEW_CLOSED.
      assertAssignmentOpen(a, true);
      const scores = body.scores;
      const total = weightedTotal(a.rubric, scores);
      const saved = await submitScoreSheet(
        db,
        a,
        { scores, total, comment: body.comment },
        { actor: principal!.actor, requestId: requestIdOf(req), receivedAt },
      );
      if (saved === 'closed') throw new AppError('ASSIGNMENT_CLOSED', '该评审任务已结束');
      if (saved === 'review_closed') throw new AppError('REVIEW_CLOSED', '评审已结束，评分不能再提交或修改');
      if (saved === 'due_passed') throw duePassed(a);
      const { revised } = saved;
      return { status: 200, body: { assignmentId: a.id, status: 'submitted', total, revised } };
    },
  });
}
