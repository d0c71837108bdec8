import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import {
  bansOf,
  decisionsOf,
  findDirectoryEntry,
  listDirectory,
  type DirectoryRow,
} from '../../db/repositories/member.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import {
  gradeRectificationUpdate,
  revokeMemberUpdate,
  submitRectificationReportUpdate,
} from '../../workflows/member.messages.js';
import type { Clock } from '../clock.js';
import { auditRefusal } from '../refusals.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt, updateWorkflow } from '../workflow-calls.js';
import { granteeOf, z, type ApiRoutes } from '../route.js';
import { ProgrammeKeySchema, trimmedText } from '../schemas.js';
import { memberWorkflowId } from '../../domain/workflow-ids.js';

export interface MemberRouteDeps {
  db: Db;
  temporal: Client;
  clock: Clock;
}

const memberStatuses = ['active', 'rectifying', 'removal_pending', 'removed', 'revoked'] as const;

const statusZh: Record<string, string> = {
  active: '在录',
  rectifying: '整改中',
  removal_pending: '拟移出名录（公示中）',
  removed: '已移出名录',
  revoked: '已撤销认定',
};

const DirectoryEntrySchema = z
  .object({
    entryId: z.string(),
    programme: z.string().openapi({ example: 'demo_college' }),
    programmeName: z.string().openapi({ example: '产教融合示范学院' }),
    institutionId: z.string(),
    institutionName: z.string(),
    title: z.string(),
    status: z.enum(memberStatuses),
    statusZh: z.string().openapi({ example: '在录' }),
    statusReason: z.string().nullable(),
    admittedOn: z.string().openapi({ example: '2027-06-30' }),
    removedOn: z.string().nullable(),
  })
  .openapi('DirectoryEntry');

function entryView(e: DirectoryRow) {
  return {
    entryId: e.entryId,
    programme: e.programme,
    programmeName: e.programmeName,
    institutionId: e.institutionId,
    institutionName: e.institutionName,
    title: e.title,
    status: e.status as (typeof memberStatuses)[number],
    statusZh: statusZh[e.status] ?? e.status,
    statusReason: e.statusReason,
    admittedOn: e.admittedOn,
    removedOn: e.removedOn,
  };
}

const EntryParams = z.object({ entryId: z.uuid().openapi({ title: '名录条目编号' }) });

export function memberRoutes(routes: ApiRoutes, deps: MemberRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'get',
    path: '/api/directory',
    summary: '名录清单（公开）',
    description: '可按项目类别与状态筛选；缺省列出全部。',
    tags: ['名录与动态评价'],
    access: 'public',
    query: z
      .object({
        programme: ProgrammeKeySchema.optional(),
        status: z.enum(memberStatuses).optional().openapi({ title: '名录状态' }),
      })
      .strict(),
    responses: {
      200: { description: '名录', schema: z.object({ total: z.number().int(), items: z.array(DirectoryEntrySchema) }) },
    },
    async handler({ query }) {
      const rows = await listDirectory(db, query);
      return { status: 200, body: { total: rows.length, items: rows.map(entryView) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/directory/:entryId',
    summary: '名录条目：状态与历次决定（公开）',
    tags: ['名录与动态评价'],
    access: 'public',
    params: EntryParams,
    responses: {
      200: {
        description: '名录条目',
        schema: DirectoryEntrySchema.extend({
          decisions: z.array(
            z.object({
              at: z.string(),
              action: z.string().openapi({ example: 'directory.revoke' }),
              role: z.string(),
              actor: z.string().optional().openapi({ description: '仅管理服务中心工作人员可见（运维人员不可见）' }),
              reason: z.string().nullable(),
              details: z.record(z.string(), z.unknown()),
            }),
          ),
          bans: z.array(z.object({ reason: z.string(), startsOn: z.string(), endsOn: z.string() })),
        }),
      },
    },
    errors: ['DIRECTORY_ENTRY_NOT_FOUND'],
    async handler({ params, principal }) {
      const entry = await findDirectoryEntry(db, params.entryId);
      if (!entry) throw new AppError('DIRECTORY_ENTRY_NOT_FOUND', params.entryId);
      const [decisions, bans] = await Promise.all([decisionsOf(db, entry.entryId), bansOf(db, entry.entryId)]);
      // Who decided: officers and administrators only, not ops engineers (no programme decision).
      const staff = principal !== undefined && granteeOf(principal) === 'staff';
      return {
        status: 200,
        body: {
          ...entryView(entry),
          decisions: decisions.map((d) => ({
            at: formatShanghai(d.at),
            action: d.action,
            role: d.role,
            ...(staff ? { actor: d.actor } : {}),
            reason: d.reason,
            details: d.details,
          })),
          bans,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/directory/:entryId/revoke',
    summary: '撤销认定（工作人员，须说明理由）',
    description:
      '因弄虚作假、发生重大事故等撤销认定：即时移出名录，并禁止该单位在禁止期内（默认 5 年）申报该类项目；申报与形式审查时均予拒绝并说明理由与截止日期。',
    tags: ['名录与动态评价'],
    access: ['staff'],
    params: EntryParams,
    body: z
      .object({
        reason: trimmedText(5, 2000, '请说明撤销理由（至少 5 个字）').openapi({ title: '撤销理由' }),
      })
      .strict(),
    responses: {
      200: {
        description: '已撤销',
        schema: z.object({
          entryId: z.string(),
          status: z.literal('revoked'),
          barEndsOn: z.string().openapi({ description: '禁止申报截止日（含当日）', example: '2032-06-30' }),
        }),
      },
    },
    errors: ['DIRECTORY_ENTRY_NOT_FOUND', 'MEMBER_NOT_ACTIVE'],
    async handler({ params, body, principal, req, updateId }) {
      const entry = await findDirectoryEntry(db, params.entryId);
      if (!entry) throw new AppError('DIRECTORY_ENTRY_NOT_FOUND', params.entryId);
      const notActive = () =>
        new AppError('MEMBER_NOT_ACTIVE', `该名录条目当前状态为“${statusZh[entry.status] ?? entry.status}”`);
      if (entry.status === 'removed' || entry.status === 'revoked') throw notActive();
      const result = await updateWorkflow(
        deps.temporal,
        entry.workflowId ?? memberWorkflowId(entry.entryId),
        revokeMemberUpdate,
        { reason: body.reason, actor: principal!.actor, requestId: requestIdOf(req) },
        { updateId, whenEnded: notActive },
      );
      return { status: 200, body: { entryId: entry.entryId, ...result } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/directory/:entryId/rectification-report',
    summary: '提交整改报告（申报单位）',
    description:
      '年度动态评价不合格的成员在整改期内提交整改报告，由专家重新评价：通过则恢复在录，未通过或逾期未提交则公示后移出名录。' +
      '截止前可重新提交（以最后一次为准）；逾期返回 409 `DEADLINE_PASSED`。',
    tags: ['名录与动态评价'],
    access: ['applicant'],
    params: EntryParams,
    body: z
      .object({
        summary: trimmedText(20, 20_000, '整改报告至少 20 个字').openapi({
          title: '整改报告',
          description: '整改情况报告',
        }),
        measures: z
          .array(trimmedText(1, 500))
          .max(50)
          .optional()
          .openapi({ title: '整改措施', description: '整改措施' }),
      })
      .strict()
      .openapi('RectificationReport'),
    responses: {
      200: {
        description: '已受理',
        schema: z.object({ rectificationId: z.string(), receivedAt: z.string(), resubmitted: z.boolean() }),
      },
    },
    errors: ['DIRECTORY_ENTRY_NOT_FOUND', 'RECTIFICATION_NOT_OPEN', 'DEADLINE_PASSED', 'RECEIPT_KEPT'],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      const receivedAt = receipt.toISOString();
      const entry = await findDirectoryEntry(db, params.entryId);
      if (!entry || entry.institutionId !== principal!.institutionId) {
        throw new AppError('DIRECTORY_ENTRY_NOT_FOUND', '本单位名录中没有该条目');
      }
      const requestId = requestIdOf(req);
      const result = await auditRefusal(
        db,
        principal!,
        {
          action: 'directory.rectification_report_refused',
          subjectKind: 'directory_entry',
          subjectId: entry.entryId,
          requestId,
          workflowId: entry.workflowId ?? memberWorkflowId(entry.entryId),
        },
        () =>
          deliverReceipt(
            deps,
            entry.workflowId ?? memberWorkflowId(entry.entryId),
            submitRectificationReportUpdate,
            {
              payload: { summary: body.summary, ...(body.measures ? { measures: body.measures } : {}) },
              receivedAt,
              actor: principal!.actor,
              requestId,
            },
            {
              updateId,
              caller: principal!.actor,
              whenEnded: () => new AppError('RECTIFICATION_NOT_OPEN', '该名录条目已移出名录或被撤销认定'),
            },
          ),
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/directory/:entryId/rectification-grade',
    summary: '认定有效专家评分不足的整改报告是否通过（工作人员，须说明理由）',
    description:
      '整改报告的专家复评有效评分不足规定份数（3 份）时，不因专家缺评判定不通过：系统邮件通知工作人员，由工作人员认定。' +
      '通过则恢复在录；不通过则公示后移出名录。其他时候返回 409 `GRADE_NOT_PENDING`。',
    tags: ['名录与动态评价'],
    access: ['staff'],
    params: EntryParams,
    body: z
      .object({
        passed: z.boolean().openapi({ title: '整改是否合格', description: '整改是否合格' }),
        reason: trimmedText(5, 2000, '请说明认定理由（至少 5 个字）').openapi({ title: '认定理由' }),
      })
      .strict()
      .openapi('RectificationGrade'),
    responses: {
      200: {
        description: '已认定',
        schema: z.object({ passed: z.boolean(), score: z.number().nullable() }),
      },
    },
    errors: ['DIRECTORY_ENTRY_NOT_FOUND', 'GRADE_NOT_PENDING'],
    async handler({ params, body, principal, req, updateId }) {
      const entry = await findDirectoryEntry(db, params.entryId);
      if (!entry) throw new AppError('DIRECTORY_ENTRY_NOT_FOUND', params.entryId);
      const result = await updateWorkflow(
        deps.temporal,
        entry.workflowId ?? memberWorkflowId(entry.entryId),
        gradeRectificationUpdate,
        { passed: body.passed, reason: body.reason, actor: principal!.actor, requestId: requestIdOf(req) },
        { updateId, whenEnded: () => new AppError('GRADE_NOT_PENDING', '该名录条目已移出名录或被撤销认定') },
      );
      return { status: 200, body: { passed: result.passed, score: result.score } };
    },
  });
}
