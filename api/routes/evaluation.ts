import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { findDirectoryEntry } from '../../db/repositories/member.js';
import { evaluationResults, findEvaluation } from '../../db/repositories/evaluation.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { gradeZh, type EvaluationGrade } from '../../domain/programmes.js';
import type { Config } from '../../platform/config.js';
import { reserveEvaluation } from '../../services/evaluation.launch.js';
import { launchNow, LaunchRefused } from '../../services/launch.js';
import {
  getEvaluationQuery,
  gradeReportUpdate,
  submitEvaluationReportUpdate,
} from '../../workflows/evaluation.messages.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { asAppError, auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt, updateWorkflow } from '../workflow-calls.js';
import { granteeOf, z, type ApiRoutes } from '../route.js';
import { ProgrammeKeySchema, trimmedText } from '../schemas.js';
import { requestedCompression, timeScaleField } from '../time-scale.js';

export interface EvaluationRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
  clock: Clock;
}

const EvaluationParams = z.object({
  evaluationId: z
    .string()
    .regex(/^evaluation-[a-z_]+-\d{4}$/)
    .openapi({ title: '动态评价编号', example: 'evaluation-demo_college-2028' }),
});

const ReportSchema = z
  .object({
    entryId: z.uuid().openapi({ title: '名录条目编号', description: '名录条目 ID（GET /api/directory 可查）' }),
    summary: trimmedText(20, 20_000, '自评报告摘要至少 20 个字').openapi({
      title: '自评报告摘要',
      description: '年度自评报告（建设进展、成效与问题）',
    }),
    indicators: z
      .record(z.string().max(60), z.union([z.string().max(500), z.number().finite()]))
      .optional()
      .refine((r) => !r || Object.keys(r).length <= 50, { message: '不能超过 50 项' })
      // The refinement's bound, stated in the document (zod-to-openapi cannot read a refinement).
      .openapi({
        title: '年度指标',
        description: '年度指标（名称 → 数值或说明），至多 50 项',
        example: { 企业兼职教师人数: 18 },
        maxProperties: 50,
      }),
  })
  .strict()
  .openapi('EvaluationReport');

export function evaluationRoutes(routes: ApiRoutes, deps: EvaluationRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'post',
    path: '/api/evaluations',
    summary: '启动某项目类别的年度动态评价',
    description:
      '启动流程 `evaluation-<programme>-<year>`：向该项目类别所有在录成员征集年度自评报告（20 个工作日内提交，' +
      '截止前 7/3/1 个工作日提醒未提交者），专家评审、评定等级、公示后公布；不合格者进入限期整改。' +
      '同一项目类别同一年度只评价一次，手动启动与定时计划启动互斥。',
    tags: ['名录与动态评价'],
    access: ['staff'],
    body: z
      .object({
        programme: ProgrammeKeySchema.openapi({ example: 'demo_college' }),
        year: z.number().int().min(2022).max(2099).openapi({ title: '年度', example: 2028 }),
        rectificationMonths: z.number().int().min(1).max(24).optional().openapi({
          title: '整改期（月）',
          description: '本年度不合格成员的整改期（月，默认 6，最长 24）',
          example: 6,
        }),
        timeScale: timeScaleField({ description: '压缩时间倍数（仅用于演示与端到端测试；生产环境拒绝）' }),
      })
      .strict()
      .openapi('LaunchEvaluation'),
    responses: {
      201: {
        description: '已启动',
        schema: z.object({ evaluationId: z.string(), runId: z.string(), titleZh: z.string() }),
      },
    },
    errors: ['EVALUATION_EXISTS', 'NOT_DIRECTORY_PROGRAMME', 'COMPRESSED_TIME_FORBIDDEN'],
    async handler({ body, principal, req }) {
      const compression = requestedCompression(body.timeScale, deps.config.production, deps.clock());
      const { launch, runId } = await launchNow(
        db,
        deps.temporal,
        deps.config.temporal.taskQueue,
        (trx) =>
          reserveEvaluation(
            trx,
            {
              programme: body.programme,
              year: body.year,
              rectificationMonths: body.rectificationMonths,
              ...(compression ? { compression } : {}),
            },
            { actor: principal!.actor, role: 'staff', requestId: requestIdOf(req) },
          ),
        (id) => new LaunchRefused('EVALUATION_EXISTS', `${id} 已启动，同一项目类别每年只评价一次`, id),
      ).catch(asAppError);
      return {
        status: 201,
        headers: { Location: `/api/evaluations/${launch.workflowId}` },
        body: { evaluationId: launch.workflowId, runId, titleZh: launch.titleZh },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/evaluations/:evaluationId',
    summary: '查看年度动态评价：进度与结果',
    description:
      '管理服务中心工作人员可见全部成员的结果；申报单位只见本单位成员的结果；运维人员、专家与合作企业只见进度，不见任何成员的结果。',
    tags: ['名录与动态评价'],
    access: 'authenticated',
    params: EvaluationParams,
    responses: {
      200: {
        description: '动态评价',
        schema: z.object({
          evaluationId: z.string(),
          programme: z.string(),
          year: z.number().int(),
          titleZh: z.string(),
          status: z.string(),
          reportsDue: z
            .object({ day: z.string(), at: z.string(), estimated: z.boolean() })
            .nullable()
            .openapi({ description: '自评报告截止时间；流程计算前为 null' }),
          publishedAt: z.string().nullable(),
          rulesVersion: z.number().int().openapi({ description: '启动时所依据的项目类别规则版本' }),
          workflow: z
            .object({ status: z.string(), stage: z.string().nullable(), members: z.number().int().nullable() })
            .nullable(),
          results: z.array(
            z.object({
              entryId: z.string(),
              institutionId: z.string(),
              institutionName: z.string(),
              title: z.string(),
              report: z.enum(['requested', 'submitted', 'missing']),
              receivedAt: z.string().nullable(),
              score: z.number().nullable(),
              validScores: z.number().int().nullable(),
              grade: z.enum(['excellent', 'good', 'pass', 'fail']).nullable(),
              gradeZh: z.string().nullable().openapi({ example: '良好' }),
              gradeReason: z.string().nullable(),
            }),
          ),
        }),
      },
    },
    errors: ['EVALUATION_NOT_FOUND'],
    async handler({ params, principal }) {
      const evaluation = await findEvaluation(db, params.evaluationId);
      if (!evaluation) throw new AppError('EVALUATION_NOT_FOUND', params.evaluationId);
      const rows = await evaluationResults(db, evaluation.id);
      const visible = rows.filter(
        (r) =>
          // Officers and administrators: every member; ops engineers none (no programme content).
          granteeOf(principal!) === 'staff' ||
          (principal!.role === 'applicant' && r.institutionId === principal!.institutionId),
      );
      return {
        status: 200,
        body: {
          evaluationId: evaluation.id,
          programme: evaluation.programme,
          year: evaluation.year,
          titleZh: evaluation.titleZh,
          status: evaluation.status,
          reportsDue:
            evaluation.reportDueDay && evaluation.reportDueAt
              ? {
                  day: evaluation.reportDueDay,
                  at: formatShanghai(evaluation.reportDueAt),
                  estimated: evaluation.estimated ?? false,
                }
              : null,
          publishedAt: evaluation.publishedAt ? formatShanghai(evaluation.publishedAt) : null,
          rulesVersion: evaluation.rulesVersion,
          workflow: await liveState(deps.temporal, evaluation.id),
          results: visible.map((r) => ({
            entryId: r.entryId,
            institutionId: r.institutionId,
            institutionName: r.institutionName,
            title: r.title,
            report: r.status as 'requested' | 'submitted' | 'missing',
            receivedAt: r.receivedAt ? formatShanghai(r.receivedAt) : null,
            score: r.score,
            validScores: r.validScores,
            grade: r.grade as EvaluationGrade | null,
            gradeZh: r.grade ? gradeZh[r.grade as EvaluationGrade] : null,
            gradeReason: r.gradeReason,
          })),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/evaluations/:evaluationId/reports',
    summary: '提交年度自评报告（申报单位）',
    description:
      '以 API 收到请求的时间为准判断是否逾期；截止前可重新提交（以最后一次为准）。逾期返回 409 `DEADLINE_PASSED` 并说明截止时间。',
    tags: ['名录与动态评价'],
    access: ['applicant'],
    params: EvaluationParams,
    body: ReportSchema,
    responses: {
      200: {
        description: '已受理',
        schema: z.object({
          reportId: z.string(),
          receivedAt: z.string(),
          resubmitted: z.boolean().openapi({ description: '是否替换了此前提交的报告' }),
        }),
      },
    },
    errors: [
      'EVALUATION_NOT_FOUND',
      'DIRECTORY_ENTRY_NOT_FOUND',
      'NOT_EVALUATED',
      'EVALUATION_NOT_OPEN',
      'DEADLINE_PASSED',
      'RECEIPT_KEPT',
    ],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      // The receipt time is stamped before anything else: waiting on the workflow never costs the applicant.
      const receivedAt = receipt.toISOString();
      const evaluation = await findEvaluation(db, params.evaluationId);
      if (!evaluation) throw new AppError('EVALUATION_NOT_FOUND', params.evaluationId);
      const requestId = requestIdOf(req);
      const result = await auditRefusal(
        db,
        principal!,
        {
          action: 'evaluation.report_refused',
          subjectKind: 'directory_entry',
          subjectId: body.entryId,
          requestId,
          workflowId: evaluation.id,
        },
        async () => {
          const entry = await findDirectoryEntry(db, body.entryId);
          if (!entry || entry.institutionId !== principal!.institutionId) {
            throw new AppError('DIRECTORY_ENTRY_NOT_FOUND', '本单位名录中没有该条目');
          }
          if (entry.programme !== evaluation.programme) {
            throw new AppError('NOT_EVALUATED', '该名录条目不属于本次动态评价的项目类别');
          }
          return deliverReceipt(
            deps,
            evaluation.id,
            submitEvaluationReportUpdate,
            {
              entryId: entry.entryId,
              payload: { summary: body.summary, ...(body.indicators ? { indicators: body.indicators } : {}) },
              receivedAt,
              actor: principal!.actor,
              requestId,
            },
            {
              updateId,
              caller: principal!.actor,
              whenEnded: () => new AppError('DEADLINE_PASSED', '本次动态评价已结束，不再受理自评报告'),
            },
          );
        },
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/evaluations/:evaluationId/grades',
    summary: '认定有效专家评分不足的自评报告的等级（工作人员，须说明理由）',
    description:
      '专家评审后有效评分不足规定份数（3 份）的自评报告，不因专家缺评判定不合格，由工作人员逐份认定等级；全部认定后评价结果进入公示。' +
      '已有评价结果的报告不能在此更改（公示期内通过申诉更正）。',
    tags: ['名录与动态评价'],
    access: ['staff'],
    params: EvaluationParams,
    body: z
      .object({
        entryId: z.uuid().openapi({ title: '名录条目编号' }),
        grade: z
          .enum(['excellent', 'good', 'pass', 'fail'])
          .openapi({ title: '评价等级', description: '优秀 / 良好 / 合格 / 不合格' }),
        reason: trimmedText(5, 2000, '请说明认定理由（至少 5 个字）').openapi({ title: '认定理由' }),
      })
      .strict()
      .openapi('StaffGrade'),
    responses: {
      200: {
        description: '已认定',
        schema: z.object({ remaining: z.number().int().openapi({ description: '仍待认定的报告数' }) }),
      },
    },
    errors: ['EVALUATION_NOT_FOUND', 'NOT_EVALUATED', 'ALREADY_GRADED', 'GRADING_NOT_OPEN'],
    async handler({ params, body, principal, req, updateId }) {
      const evaluation = await findEvaluation(db, params.evaluationId);
      if (!evaluation) throw new AppError('EVALUATION_NOT_FOUND', params.evaluationId);
      const result = await updateWorkflow(
        deps.temporal,
        evaluation.id,
        gradeReportUpdate,
        {
          entryId: body.entryId,
          grade: body.grade,
          reason: body.reason,
          actor: principal!.actor,
          requestId: requestIdOf(req),
        },
        { updateId, whenEnded: () => new AppError('GRADING_NOT_OPEN', '本次动态评价已结束') },
      );
      return { status: 200, body: result };
    },
  });
}

async function liveState(temporal: Client, evaluationId: string) {
  const handle = temporal.workflow.getHandle(evaluationId);
  try {
    const description = await handle.describe();
    const running = description.status.name === 'RUNNING';
    const memory = running ? await handle.query(getEvaluationQuery) : undefined;
    return { status: description.status.name, stage: memory?.stage ?? null, members: memory?.members ?? null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
