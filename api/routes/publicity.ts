import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { findPublicity, periodsOf, roundOutcome, type PublicityView } from '../../db/repositories/publicity.js';
import { findObjection, objectionsOf } from '../../db/repositories/publicity.views.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { resolveObjectionUpdate } from '../../workflows/publicity.messages.js';
import { AppError } from '../errors.js';
import { fileObjection, OBJECTION_PHONE_DOCUMENTED } from '../publicity.objections.js';
import type { Clock } from '../clock.js';
import type { ObjectionLimits } from '../rate-limit.js';
import { requestIdOf } from '../request.js';
import { updateWorkflow } from '../workflow-calls.js';
import { NOT_IN_ONE_LINE, NOT_IN_TEXT } from '../../domain/people.js';
import { cleanTextPattern, RoundParams, trimmedText } from '../schemas.js';
import { z, type ApiRoutes } from '../route.js';
import { MAILBOX_MAX_LENGTH, MAILBOX_PATTERN, MailboxSchema } from '../../mail/address.js';

export interface PublicityRouteDeps {
  db: Db;
  temporal: Client;
  limits: ObjectionLimits;
  clock: Clock;
}

const PublicityParams = z.object({ publicityId: z.uuid().openapi({ title: '公示编号' }) });

const PublicitySchema = z
  .object({
    publicityId: z.string(),
    title: z.string().openapi({ example: '2027年度产教融合品牌项目申报拟认定名单公示' }),
    roundId: z.string(),
    parentId: z.string().nullable().openapi({ description: '递补公示所对应的原公示' }),
    workingDays: z.number().int(),
    firstDay: z.string(),
    lastDay: z.string(),
    endsAt: z.string().openapi({ description: '公示截止（lastDay 北京时间 24:00）' }),
    estimated: z.boolean(),
    calendarVersion: z.number().int(),
    status: z.string().openapi({ example: 'open' }),
    entries: z.array(
      z.object({
        entryId: z.string(),
        title: z.string(),
        institutionName: z.string(),
        rank: z.number().int().nullable(),
        status: z.string().openapi({ description: 'listed（在列）/ removed（经异议核查撤出）' }),
        result: z
          .string()
          .nullable()
          .openapi({ description: '公示的结论（动态评价等级、拟移出名录）', example: '良好' }),
      }),
    ),
  })
  .openapi('Publicity');

function publicityView(p: PublicityView) {
  return {
    publicityId: p.publicityId,
    title: p.title,
    roundId: p.subjectId,
    parentId: p.parentId,
    workingDays: p.workingDays,
    firstDay: p.firstDay,
    lastDay: p.lastDay,
    endsAt: formatShanghai(p.endsAt),
    estimated: p.estimated,
    calendarVersion: p.calendarVersion,
    status: p.status,
    entries: p.entries.map((e) => ({
      entryId: e.entryId,
      title: e.title,
      institutionName: e.institutionName,
      rank: e.rank,
      status: e.status,
      result: e.result,
    })),
  };
}

/**
 * The objection as the API takes it. The real-name fields are optional to zod so that a missing one is answered
 * 422 REAL_NAME_REQUIRED naming each (`checkObjection` in api/publicity.objections.ts), but the document states
 * them required, with the rules that function enforces: non-blank name and unit, a phone of 7–20 digits and
 * `+-() `, facts of at least 10 characters once trimmed.
 */
const ObjectionBody = z
  .object({
    entryId: z
      .uuid()
      .optional()
      .openapi({ title: '异议所涉项目', description: '异议所涉项目（公示名单中的 entryId）；针对整份名单时省略' }),
    name: z
      .string()
      .max(40)
      .optional()
      .openapi({
        title: '异议人姓名',
        description: '姓名（必填，实名）',
        example: '张明',
        pattern: cleanTextPattern(1, NOT_IN_ONE_LINE),
      }),
    unit: z
      .string()
      .max(100)
      .optional()
      .openapi({
        title: '工作单位',
        description: '工作单位（必填）',
        example: '河南省某研究院',
        pattern: cleanTextPattern(1, NOT_IN_ONE_LINE),
      }),
    phone: z.string().optional().openapi({
      title: '联系电话',
      description: '联系电话（必填）：7—20 位数字，可含 +、-、括号与空格',
      example: '0371-12345678',
      pattern: OBJECTION_PHONE_DOCUMENTED.source,
    }),
    email: MailboxSchema.optional().openapi({
      title: '电子邮箱',
      description: '电子邮箱（必填）：单个邮箱地址，不含姓名、多个地址或换行',
      example: 'zhang@example.com',
      pattern: MAILBOX_PATTERN.source,
      maxLength: MAILBOX_MAX_LENGTH,
    }),
    onBehalfOfUnit: z
      .boolean()
      .optional()
      .openapi({ title: '是否以单位名义', description: '以单位名义提出（单位即 unit）' }),
    facts: z
      .string()
      .max(5000)
      .optional()
      .openapi({
        title: '事实与理由',
        description: '事实与理由（必填，至少 10 个字）',
        pattern: cleanTextPattern(10),
      }),
    grounds: z.enum(['substantive', 'procedural']).optional().openapi({
      title: '异议性质',
      description: '异议理由的性质：substantive 实体问题；procedural 程序问题（移出名录的公示只受理程序问题）',
    }),
    evidence: z
      .array(
        z
          .string()
          .max(500)
          .openapi({ pattern: `^[^${NOT_IN_TEXT}]*$` }),
      )
      .max(10)
      .optional()
      .openapi({ title: '证据材料', description: '证据材料（链接或说明）' }),
  })
  .strict()
  .openapi({ required: ['name', 'unit', 'phone', 'email', 'facts'] })
  .openapi('Objection');

export function publicityRoutes(routes: ApiRoutes, deps: PublicityRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'get',
    path: '/api/publicity/:publicityId',
    summary: '公示名单（公开）',
    tags: ['公示与异议'],
    access: 'public',
    params: PublicityParams,
    responses: { 200: { description: '公示', schema: PublicitySchema } },
    errors: ['PUBLICITY_NOT_FOUND'],
    async handler({ params }) {
      const p = await findPublicity(db, params.publicityId);
      if (!p) throw new AppError('PUBLICITY_NOT_FOUND', params.publicityId);
      return { status: 200, body: publicityView(p) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/publicity',
    summary: '某申报批次的公示（含递补公示，公开）',
    tags: ['公示与异议'],
    access: 'public',
    params: RoundParams,
    responses: {
      200: {
        description: '公示列表',
        schema: z.object({
          items: z.array(
            z.object({
              publicityId: z.string(),
              title: z.string(),
              firstDay: z.string(),
              lastDay: z.string(),
              endsAt: z.string(),
              status: z.string(),
              parentId: z.string().nullable(),
            }),
          ),
        }),
      },
    },
    async handler({ params }) {
      const rows = await periodsOf(db, params.roundId);
      return {
        status: 200,
        body: {
          items: rows.map((r) => ({
            publicityId: r.id,
            title: r.title_zh,
            firstDay: r.first_day,
            lastDay: r.last_day,
            endsAt: formatShanghai(r.ends_at),
            status: r.status,
            parentId: r.parent_id,
          })),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/publicity/:publicityId/objections',
    summary: '提出异议（公开，须实名，仅限公示期内）',
    description:
      '须填写姓名、工作单位、联系电话、电子邮箱；以单位名义提出时注明单位。接收时间由服务器记录，公示期截止（北京时间 24:00）后收到的异议不予受理。' +
      '同一人就同一事项提出的内容完全相同的异议只计一件（无论是否带 Idempotency-Key、经何种渠道提交），再次提交答复 200 与首次受理的异议。' +
      '可带 Idempotency-Key 请求头：重试不会重复计入。' +
      '提交频率按来源地址、电子邮箱和公示分别限制（每个时间窗口内的次数可配置），超过时答复 429 RATE_LIMITED，' +
      '附 Retry-After（秒）与 RateLimit / RateLimit-Policy 响应头，detail 写明何时可再提交；被限制的请求不予记录。',
    tags: ['公示与异议'],
    access: 'public',
    params: PublicityParams,
    body: ObjectionBody,
    bodyRequired: true,
    responses: {
      201: { description: '已受理', schema: z.object({ objectionId: z.string(), receivedAt: z.string() }) },
      200: {
        description: '与本公示期内已受理的异议内容完全相同（重试或重复提交）：返回首次受理的异议',
        schema: z.object({ objectionId: z.string(), receivedAt: z.string() }),
      },
    },
    errors: ['PUBLICITY_NOT_FOUND', 'PUBLICITY_CLOSED', 'REAL_NAME_REQUIRED', 'RATE_LIMITED', 'RECEIPT_KEPT'],
    async handler({ params, body, req, res, receivedAt, updateId }) {
      const result = await fileObjection(deps, params.publicityId, body, {
        http: { req, res },
        receivedAt,
        updateId,
        idempotencyKey: req.header('idempotency-key'),
      });
      return {
        status: result.repeated ? 200 : 201,
        body: { objectionId: result.objectionId, receivedAt: formatShanghai(new Date(result.receivedAt)) },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/publicity/:publicityId/objections',
    summary: '异议列表（工作人员）',
    tags: ['公示与异议'],
    access: ['staff'],
    params: PublicityParams,
    responses: {
      200: {
        description: '异议',
        schema: z.object({
          items: z.array(
            z.object({
              objectionId: z.string(),
              entryId: z.string().nullable(),
              name: z.string(),
              unit: z.string(),
              phone: z.string(),
              email: z.string(),
              onBehalfOfUnit: z.boolean(),
              facts: z.string(),
              receivedAt: z.string(),
              status: z.string(),
              resolutionReason: z.string().nullable(),
            }),
          ),
        }),
      },
    },
    errors: ['PUBLICITY_NOT_FOUND'],
    async handler({ params }) {
      if (!(await findPublicity(db, params.publicityId))) throw new AppError('PUBLICITY_NOT_FOUND', params.publicityId);
      const rows = await objectionsOf(db, params.publicityId);
      return {
        status: 200,
        body: {
          items: rows.map(({ id, ...o }) => ({
            objectionId: id,
            ...o,
            receivedAt: formatShanghai(o.receivedAt),
          })),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/objections/:objectionId/resolution',
    summary: '处理异议：成立或不成立（须说明理由）',
    description:
      '异议成立时，所涉项目撤出名单，按评审排名递补下一名候选，递补结果另行公示一个完整公示期。异议全部处理完毕前公示不能结束。',
    tags: ['公示与异议'],
    access: ['staff'],
    params: z.object({ objectionId: z.uuid().openapi({ title: '异议编号' }) }),
    body: z
      .object({
        outcome: z
          .enum(['upheld', 'dismissed'])
          .openapi({ title: '处理结果', description: 'upheld 异议成立；dismissed 异议不成立' }),
        reason: trimmedText(2, 2000, '请说明理由').openapi({ title: '理由' }),
        grade: z
          .enum(['excellent', 'good', 'pass', 'fail'])
          .optional()
          .openapi({ title: '重新认定的等级', description: '动态评价结果的申诉成立时，重新认定的等级（必填）' }),
      })
      .strict(),
    responses: {
      200: {
        description: '已处理',
        schema: z.object({
          objectionId: z.string(),
          outcome: z.string(),
          removedApplicationId: z.string().nullable(),
          substituteApplicationId: z.string().nullable(),
        }),
      },
    },
    errors: ['OBJECTION_NOT_FOUND', 'ALREADY_RESOLVED'],
    async handler({ params, body, principal, req, updateId }) {
      const o = await findObjection(db, params.objectionId);
      if (!o) throw new AppError('OBJECTION_NOT_FOUND', params.objectionId);
      if (o.status !== 'pending')
        throw new AppError('ALREADY_RESOLVED', `该异议已处理（${o.status === 'upheld' ? '成立' : '不成立'}）`);
      const result = await updateWorkflow(
        deps.temporal,
        o.workflowId,
        resolveObjectionUpdate,
        {
          objectionId: params.objectionId,
          outcome: body.outcome,
          reason: body.reason,
          ...(body.grade ? { grade: body.grade } : {}),
          actor: principal!.actor,
          requestId: requestIdOf(req),
        },
        { updateId, whenEnded: () => new AppError('ALREADY_RESOLVED', '该公示的流程已结束') },
      );
      return {
        status: 200,
        body: {
          objectionId: result.objectionId,
          outcome: result.outcome,
          removedApplicationId: result.removedApplicationId ?? null,
          substituteApplicationId: result.substituteApplicationId ?? null,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/outcome',
    summary: '认定结果（公开）',
    tags: ['公示与异议'],
    access: 'public',
    params: RoundParams,
    responses: {
      200: {
        description: '认定结果；尚未认定时 approved 为空',
        schema: z
          .object({
            roundId: z.string(),
            title: z.string(),
            programme: z.string(),
            status: z.string(),
            approvedAt: z.string().nullable(),
            approved: z.array(
              z.object({
                applicationId: z.string(),
                title: z.string(),
                institutionName: z.string(),
                directoryEntryId: z.string().nullable(),
              }),
            ),
          })
          .openapi('RoundOutcome'),
      },
    },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params }) {
      const outcome = await roundOutcome(db, params.roundId);
      if (!outcome) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      return {
        status: 200,
        body: { ...outcome, approvedAt: outcome.approvedAt ? formatShanghai(outcome.approvedAt) : null },
      };
    },
  });
}
