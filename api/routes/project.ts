import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Db } from '../../db/knex.js';
import { findProject } from '../../db/repositories/project.js';
import { projectReports } from '../../db/repositories/project.views.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import {
  decideExtensionUpdate,
  gradeProjectReportUpdate,
  requestExtensionUpdate,
  submitProjectReportUpdate,
  terminateProjectUpdate,
} from '../../workflows/project.messages.js';
import type { Principal } from '../auth.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt, updateWorkflow } from '../workflow-calls.js';
import { z, type ApiRoutes } from '../route.js';
import { trimmedText } from '../schemas.js';
import { projectWorkflowId } from '../../domain/workflow-ids.js';

export interface ProjectRouteDeps {
  db: Db;
  temporal: Client;
  clock: Clock;
}

const ProjectParams = z.object({ projectId: z.uuid().openapi({ title: '项目编号' }) });

const ProjectSchema = z
  .object({
    projectId: z.string(),
    title: z.string(),
    institutionId: z.string(),
    institutionName: z.string(),
    status: z.enum(['active', 'completed', 'failed', 'terminated']),
    startsOn: z.string(),
    endsOn: z.string().openapi({ description: '研究周期截止日（含批准的延期）' }),
    extension: z
      .object({
        months: z.number().int(),
        reason: z.string(),
        status: z.enum(['pending', 'approved', 'refused']),
        decisionReason: z.string().nullable(),
      })
      .nullable(),
    terminatedReason: z.string().nullable(),
    reports: z.array(
      z.object({
        reportId: z.string(),
        kind: z.enum(['midterm', 'final']),
        attempt: z.number().int(),
        dueAt: z.string().nullable(),
        receivedAt: z.string().nullable(),
        late: z.boolean(),
        outcome: z.enum(['passed', 'failed']).nullable(),
        outcomeReason: z.string().nullable(),
        score: z.number().nullable(),
      }),
    ),
  })
  .openapi('ResearchProject');

const closed = () => new AppError('PROJECT_CLOSED', '项目流程已结束');

export function projectRoutes(routes: ApiRoutes, deps: ProjectRouteDeps): void {
  const { db } = deps;

  /** The project, if the principal may see it (an applicant only its own). */
  /** Carries a request to the project's workflow as an Update (`PROJECT_CLOSED` once the workflow has ended). */
  const toProject = <Ret, Arg>(
    projectId: string,
    update: UpdateDefinition<Ret, [Arg]>,
    arg: Arg,
    updateId: string | undefined,
  ): Promise<Ret> =>
    updateWorkflow(deps.temporal, projectWorkflowId(projectId), update, arg, { updateId, whenEnded: closed });
  const load = async (projectId: string, principal: Principal) => {
    const p = await findProject(db, projectId);
    if (!p) throw new AppError('PROJECT_NOT_FOUND', projectId);
    if (principal.role === 'applicant' && p.institutionId !== principal.institutionId) {
      throw new AppError('PROJECT_NOT_FOUND', '本单位没有该项目');
    }
    return p;
  };

  const view = async (projectId: string, principal: Principal) => {
    const p = await load(projectId, principal);
    const reports = await projectReports(db, projectId);
    return {
      projectId: p.id,
      title: p.title,
      institutionId: p.institutionId,
      institutionName: p.institutionName,
      status: p.status,
      startsOn: p.startsOn,
      endsOn: p.extendedTo ?? p.endsOn,
      extension:
        p.extensionStatus && p.extensionMonths !== null
          ? {
              months: p.extensionMonths,
              reason: p.extensionReason ?? '',
              status: p.extensionStatus,
              decisionReason: p.extensionDecisionReason,
            }
          : null,
      terminatedReason: p.terminatedReason,
      reports: reports.map((r) => ({
        reportId: r.id,
        kind: r.kind,
        attempt: r.attempt,
        dueAt: r.dueAt ? formatShanghai(r.dueAt) : null,
        receivedAt: r.receivedAt ? formatShanghai(r.receivedAt) : null,
        late: r.late,
        outcome: r.outcome,
        outcomeReason: r.outcomeReason,
        score: r.score,
      })),
    };
  };

  /** A refused request is audited like any decision. */
  const audited = <T>(
    principal: Principal,
    projectId: string,
    action: string,
    requestId: string | undefined,
    call: () => Promise<T>,
  ) =>
    auditRefusal(
      db,
      principal,
      {
        action,
        subjectKind: 'project',
        subjectId: projectId,
        requestId,
        workflowId: projectWorkflowId(projectId),
      },
      call,
    );

  routes.add({
    method: 'get',
    path: '/api/projects/:projectId',
    summary: '查看研究项目：周期、报告与结论',
    description: '工作人员可查看全部项目；申报单位只能查看本单位的项目。',
    tags: ['研究项目'],
    access: ['staff', 'applicant'],
    params: ProjectParams,
    responses: { 200: { description: '研究项目', schema: ProjectSchema } },
    errors: ['PROJECT_NOT_FOUND'],
    async handler({ params, principal }) {
      return { status: 200, body: await view(params.projectId, principal!) };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/projects/:projectId/reports',
    summary: '提交中期检查报告或结项报告（申报单位）',
    description:
      '仅在系统通知提交后受理；逾期提交的仍受理并标注逾期（工作人员已收到逾期提示）。结项评审不通过的，可再次提交一次。',
    tags: ['研究项目'],
    access: ['applicant'],
    params: ProjectParams,
    body: z
      .object({
        kind: z.enum(['midterm', 'final']).openapi({ title: '报告类别', description: 'midterm 中期检查；final 结项' }),
        summary: trimmedText(20, 20_000).openapi({ title: '报告内容' }),
        outcomes: z
          .array(trimmedText(1, 500))
          .max(50)
          .optional()
          .openapi({ title: '成果清单', description: '成果清单' }),
      })
      .strict()
      .openapi('ProjectReport'),
    responses: {
      200: {
        description: '已受理',
        schema: z.object({ reportId: z.string(), receivedAt: z.string(), late: z.boolean() }),
      },
    },
    errors: ['PROJECT_NOT_FOUND', 'PROJECT_REPORT_NOT_OPEN', 'PROJECT_CLOSED', 'RECEIPT_KEPT'],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      const receivedAt = receipt.toISOString();
      await load(params.projectId, principal!);
      const requestId = requestIdOf(req);
      const result = await audited(principal!, params.projectId, 'project.report_refused', requestId, () =>
        deliverReceipt(
          deps,
          projectWorkflowId(params.projectId),
          submitProjectReportUpdate,
          {
            kind: body.kind,
            payload: { summary: body.summary, ...(body.outcomes ? { outcomes: body.outcomes } : {}) },
            receivedAt,
            actor: principal!.actor,
            requestId,
          },
          { updateId, caller: principal!.actor, whenEnded: closed },
        ),
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/projects/:projectId/extension',
    summary: '申请延期（申报单位，一次，最长 12 个月）',
    tags: ['研究项目'],
    access: ['applicant'],
    params: ProjectParams,
    body: z
      .object({
        months: z.number().int().min(1).max(12).openapi({ title: '延期月数', example: 12 }),
        reason: trimmedText(5, 2000, '请说明延期理由（至少 5 个字）').openapi({ title: '延期理由' }),
      })
      .strict()
      .openapi('ExtensionRequest'),
    responses: { 200: { description: '已提交，待审批', schema: z.object({ status: z.literal('pending') }) } },
    errors: ['PROJECT_NOT_FOUND', 'EXTENSION_USED', 'PROJECT_CLOSED'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.projectId, principal!);
      const requestId = requestIdOf(req);
      const result = await audited(principal!, params.projectId, 'project.extension_refused', requestId, () =>
        toProject(
          params.projectId,
          requestExtensionUpdate,
          { months: body.months, reason: body.reason, actor: principal!.actor, requestId },
          updateId,
        ),
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/projects/:projectId/extension/decision',
    summary: '审批延期申请（工作人员，须说明理由）',
    tags: ['研究项目'],
    access: ['staff'],
    params: ProjectParams,
    body: z
      .object({
        approve: z.boolean().openapi({ title: '是否批准' }),
        reason: trimmedText(2, 2000, '请说明理由').openapi({ title: '理由' }),
      })
      .strict()
      .openapi('ExtensionDecision'),
    responses: {
      200: { description: '已审批', schema: z.object({ approved: z.boolean(), endsOn: z.string() }) },
    },
    errors: ['PROJECT_NOT_FOUND', 'EXTENSION_NOT_PENDING', 'PROJECT_CLOSED'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.projectId, principal!);
      const result = await toProject(
        params.projectId,
        decideExtensionUpdate,
        { approve: body.approve, reason: body.reason, actor: principal!.actor, requestId: requestIdOf(req) },
        updateId,
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/projects/:projectId/terminate',
    summary: '撤项（工作人员，须说明理由）',
    description: '撤项后项目流程结束，不再发送任何提醒；进行中的专家评审一并取消。',
    tags: ['研究项目'],
    access: ['staff'],
    params: ProjectParams,
    body: z
      .object({
        reason: trimmedText(5, 2000, '请说明撤项理由（至少 5 个字）').openapi({ title: '撤项理由' }),
      })
      .strict(),
    responses: { 200: { description: '已撤项', schema: z.object({ status: z.literal('terminated') }) } },
    errors: ['PROJECT_NOT_FOUND', 'PROJECT_CLOSED'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.projectId, principal!);
      const result = await toProject(
        params.projectId,
        terminateProjectUpdate,
        { reason: body.reason, actor: principal!.actor, requestId: requestIdOf(req) },
        updateId,
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/projects/:projectId/report-grade',
    summary: '认定有效专家评分不足的中期检查或结项报告是否通过（工作人员，须说明理由）',
    description:
      '报告的专家评审有效评分不足规定份数（3 份）时，不因专家缺评判定不通过：系统邮件通知工作人员，由工作人员认定并说明理由，' +
      '结果与专家评审结果一样通知项目单位。其他时候返回 409 `GRADE_NOT_PENDING`。',
    tags: ['研究项目'],
    access: ['staff'],
    params: ProjectParams,
    body: z
      .object({
        passed: z.boolean().openapi({ title: '是否通过', description: '是否通过' }),
        reason: trimmedText(5, 2000, '请说明认定理由（至少 5 个字）').openapi({ title: '认定理由' }),
      })
      .strict()
      .openapi('ProjectReportGrade'),
    responses: {
      200: {
        description: '已认定',
        schema: z.object({ passed: z.boolean(), score: z.number().nullable(), mayResubmit: z.boolean() }),
      },
    },
    errors: ['PROJECT_NOT_FOUND', 'PROJECT_CLOSED', 'GRADE_NOT_PENDING'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.projectId, principal!);
      const result = await toProject(
        params.projectId,
        gradeProjectReportUpdate,
        { passed: body.passed, reason: body.reason, actor: principal!.actor, requestId: requestIdOf(req) },
        updateId,
      );
      return { status: 200, body: { passed: result.passed, score: result.score, mayResubmit: result.mayResubmit } };
    },
  });
}
