import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import {
  addAttachment,
  createApplication,
  currentAttachments,
  findApplication,
  findAttachment,
  listApplications,
  removeAttachment,
  updateDraft,
  type ApplicationRow,
  type AttachmentRow,
} from '../../db/repositories/round.applications.js';
import { findInstitution } from '../../db/repositories/institutions.js';
import { expertMayRead } from '../../db/repositories/review.js';
import { roundContext } from '../../db/repositories/round.rules.js';
import { findRound, type RoundRow } from '../../db/repositories/round.js';
import { attachmentKinds, isAttachmentKind, type ApplicationDraft } from '../../domain/applications.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import {
  AttachmentRejected,
  allowedAttachmentTypes,
  isAllowedAttachmentType,
  type AttachmentStore,
} from '../../storage/attachments.js';
import { submitApplicationUpdate, withdrawApplicationUpdate } from '../../workflows/round.messages.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { updateWorkflow } from '../workflow-calls.js';
import { z, type ApiRoutes } from '../route.js';

const PersonSchema = z.object({
  staffNo: z.string().trim().min(1).max(40).openapi({ example: 'T2015031' }),
  name: z.string().trim().min(1).max(40).openapi({ example: '王建国' }),
});

export const DraftSchema = z
  .object({
    title: z.string().trim().max(100).optional().openapi({ example: '面向智能制造的机械类专业产教融合育人模式研究' }),
    field: z
      .string()
      .trim()
      .max(40)
      .optional()
      .openapi({ example: 'high_end_equipment', description: '所属领域（industries.key）' }),
    summary: z.string().trim().max(5000).optional(),
    principal: PersonSchema.optional(),
    members: z
      .array(PersonSchema.extend({ institutionId: z.string().trim().max(60).optional() }))
      .max(20)
      .optional(),
    partnerEnterpriseIds: z.array(z.string().trim().max(60)).max(20).optional(),
    avoidExperts: z.array(z.string().trim().min(1).max(40)).max(2, '申请回避的专家不得超过 2 名').optional(),
  })
  .strict()
  .openapi('ApplicationDraft');

const AttachmentSchema = z
  .object({
    attachmentId: z.string(),
    kind: z.string(),
    fileName: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    uploadedAt: z.string(),
  })
  .openapi('Attachment');

const ApplicationSchema = z
  .object({
    applicationId: z.string(),
    roundId: z.string(),
    institutionId: z.string(),
    status: z.string().openapi({ example: 'submitted' }),
    revision: z.number().int().openapi({ description: '工作稿修订号；每次修改加一' }),
    submittedRevision: z.number().int().nullable(),
    version: z.number().int().openapi({ description: '已提交的版本数；重新提交生成新版本，旧版本保留' }),
    receivedAt: z.string().nullable(),
    withdrawnAt: z.string().nullable(),
    formalCheckReason: z.string().nullable(),
    draft: DraftSchema,
    attachments: z.array(AttachmentSchema),
    versions: z.array(z.object({ version: z.number().int(), revision: z.number().int(), receivedAt: z.string() })),
  })
  .openapi('Application');

const SubmissionSchema = z
  .object({
    applicationId: z.string(),
    status: z.literal('submitted'),
    version: z.number().int(),
    revision: z.number().int(),
    receivedAt: z.string(),
    warnings: z.array(z.string()).openapi({ description: '形式审查将发现的缺项；截止前可补正后重新提交' }),
  })
  .openapi('Submission');

const ApplicationParams = z.object({ applicationId: z.uuid() });
const RoundParams = z.object({ roundId: z.string().regex(/^round-[a-z_]+-\d{4}$/) });

export interface ApplicationRouteDeps {
  db: Db;
  temporal: Client;
  attachments: AttachmentStore;
  clock: Clock;
}

function iso(d: Date | null): string | null {
  return d ? formatShanghai(d) : null;
}

function attachmentView(a: AttachmentRow) {
  return {
    attachmentId: a.id,
    kind: a.kind,
    fileName: a.fileName,
    contentType: a.contentType,
    sizeBytes: a.sizeBytes,
    sha256: a.sha256,
    uploadedAt: formatShanghai(a.uploadedAt),
  };
}

async function applicationView(db: Db, app: ApplicationRow) {
  const [attachments, versions] = await Promise.all([
    currentAttachments(db, app.id),
    db('application_versions')
      .where({ application_id: app.id })
      .orderBy('version')
      .select('version', 'revision', 'received_at') as Promise<
      { version: number; revision: number; received_at: Date }[]
    >,
  ]);
  return {
    applicationId: app.id,
    roundId: app.roundId,
    institutionId: app.institutionId,
    status: app.status,
    revision: app.revision,
    submittedRevision: app.submittedRevision,
    version: app.currentVersion,
    receivedAt: iso(app.receivedAt),
    withdrawnAt: iso(app.withdrawnAt),
    formalCheckReason: app.formalCheckReason,
    draft: app.draft,
    attachments: attachments.map(attachmentView),
    versions: versions.map((v) => ({
      version: v.version,
      revision: v.revision,
      receivedAt: formatShanghai(v.received_at),
    })),
  };
}

/** Drafts can be prepared until the call closes. */
function assertDraftsOpen(round: RoundRow): void {
  if (round.status === 'cancelled') throw new AppError('ROUND_CANCELLED', `${round.titleZh}已撤销`);
  if (!['launched', 'preparing', 'scheduled', 'call_open'].includes(round.status)) {
    throw new AppError('CALL_CLOSED', `${round.titleZh}已截止`);
  }
}

/** An applicant reaches only its own institution's applications; staff read all. */
async function loadOwned(db: Db, applicationId: string, principal: Principal, write: boolean): Promise<ApplicationRow> {
  const app = await findApplication(db, applicationId);
  if (!app) throw new AppError('APPLICATION_NOT_FOUND', applicationId);
  if (principal.role === 'applicant' ? app.institutionId !== principal.institutionId : write) {
    throw new AppError('FORBIDDEN', '只能操作本单位的申报');
  }
  return app;
}

async function loadRound(db: Db, roundId: string): Promise<RoundRow> {
  const round = await findRound(db, roundId);
  if (!round) throw new AppError('ROUND_NOT_FOUND', roundId);
  return round;
}

/** Names in a draft that must exist: members' institutions and partner enterprises. */
async function assertReferences(db: Db, draft: ApplicationDraft): Promise<void> {
  const institutions = [...new Set((draft.members ?? []).flatMap((m) => (m.institutionId ? [m.institutionId] : [])))];
  const enterprises = [...new Set(draft.partnerEnterpriseIds ?? [])];
  const existing = async (table: string, ids: string[]): Promise<string[]> =>
    ids.length ? ((await db(table).whereIn('id', ids).pluck('id')) as string[]) : [];
  const [foundI, foundE] = await Promise.all([
    existing('institutions', institutions),
    existing('enterprises', enterprises),
  ]);
  const missing = [
    ...institutions.filter((i) => !foundI.includes(i)).map((i) => `成员所在单位 ${i} 不存在`),
    ...enterprises.filter((e) => !foundE.includes(e)).map((e) => `合作企业 ${e} 不存在`),
  ];
  if (missing.length) throw new AppError('VALIDATION_FAILED', missing.join('；'));
}

/**
 * The receipt time of a submission or withdrawal, stamped when the request arrived and kept in the audit
 * log; the workflow judges the request by it, however long processing takes.
 */
async function stampReceipt(
  db: Db,
  clock: Clock,
  ctx: { app: ApplicationRow; principal: Principal; requestId: string | undefined; operation: 'submit' | 'withdraw' },
): Promise<string> {
  const receivedAt = clock().toISOString();
  await recordAudit(db, {
    actor: ctx.principal.actor,
    role: 'applicant',
    action: 'application.receipt',
    subjectKind: 'application',
    subjectId: ctx.app.id,
    details: { receivedAt, revision: ctx.app.revision, operation: ctx.operation },
    requestId: ctx.requestId,
    workflowId: ctx.app.roundId,
  });
  return receivedAt;
}

/** A refused submission or withdrawal gets its audit row, with the reason the applicant was given. */
function auditApplicationRefusal<T>(
  db: Db,
  ctx: { app: ApplicationRow; principal: Principal; requestId: string | undefined; action: string },
  call: () => Promise<T>,
): Promise<T> {
  return auditRefusal(
    db,
    {
      actor: ctx.principal.actor,
      role: 'applicant',
      action: ctx.action,
      subjectKind: 'application',
      subjectId: ctx.app.id,
      requestId: ctx.requestId,
      workflowId: ctx.app.roundId,
    },
    call,
  );
}

function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function applicationRoutes(routes: ApiRoutes, deps: ApplicationRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'post',
    path: '/api/rounds/:roundId/applications',
    summary: '新建申报（草稿）',
    description: '草稿保存不等于提交；截止前须调用提交接口。草稿在申报截止前均可修改。',
    tags: ['申报'],
    access: ['applicant'],
    params: RoundParams,
    body: DraftSchema,
    responses: { 201: { description: '已创建草稿', schema: ApplicationSchema } },
    errors: ['ROUND_NOT_FOUND', 'CALL_CLOSED', 'ROUND_CANCELLED', 'INSTITUTION_NOT_ELIGIBLE'],
    async handler({ params, body, principal }) {
      const round = await loadRound(db, params.roundId);
      assertDraftsOpen(round);
      const [ctx, institution] = await Promise.all([
        roundContext(db, round.id),
        findInstitution(db, principal!.institutionId!),
      ]);
      if (!institution || !ctx!.rules.applicantKinds.includes(institution.kind)) {
        throw new AppError(
          'INSTITUTION_NOT_ELIGIBLE',
          `${ctx!.programme.nameZh}的申报对象为${ctx!.rules.applicantKinds.map((k) => (k === 'college' ? '二级学院' : '本科高校')).join('、')}`,
        );
      }
      await assertReferences(db, body);
      const app = await createApplication(db, {
        roundId: round.id,
        institutionId: institution.id,
        draft: body,
        createdBy: principal!.actor,
      });
      return {
        status: 201,
        headers: { Location: `/api/applications/${app.id}` },
        body: await applicationView(db, app),
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/applications',
    summary: '申报列表（工作人员看全部；申报单位只看本单位）',
    tags: ['申报'],
    access: ['staff', 'applicant'],
    params: RoundParams,
    query: z.object({
      status: z.string().max(30).optional(),
      after: z.uuid().optional().openapi({ description: '分页：上一页最后一条的 applicationId' }),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    responses: {
      200: {
        description: '申报列表（按 applicationId 排序）',
        schema: z.object({
          items: z.array(
            z.object({
              applicationId: z.string(),
              institutionId: z.string(),
              status: z.string(),
              title: z.string(),
              version: z.number().int(),
              receivedAt: z.string().nullable(),
            }),
          ),
          next: z.string().nullable(),
        }),
      },
    },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params, query, principal }) {
      await loadRound(db, params.roundId);
      const rows = await listApplications(db, {
        roundId: params.roundId,
        institutionId: principal!.role === 'applicant' ? principal!.institutionId : undefined,
        status: query.status,
        after: query.after,
        limit: query.limit,
      });
      return {
        status: 200,
        body: {
          items: rows.map((a) => ({
            applicationId: a.id,
            institutionId: a.institutionId,
            status: a.status,
            title: a.titleZh,
            version: a.currentVersion,
            receivedAt: iso(a.receivedAt),
          })),
          next: rows.length === query.limit ? rows.at(-1)!.id : null,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/applications/:applicationId',
    summary: '查看申报（工作稿、附件与已提交版本）',
    tags: ['申报'],
    access: ['staff', 'applicant'],
    params: ApplicationParams,
    responses: { 200: { description: '申报', schema: ApplicationSchema } },
    errors: ['APPLICATION_NOT_FOUND'],
    async handler({ params, principal }) {
      const app = await loadOwned(db, params.applicationId, principal!, false);
      return { status: 200, body: await applicationView(db, app) };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/applications/:applicationId',
    summary: '修改申报工作稿',
    description: '已提交的申报也可修改工作稿，截止前重新提交即生成新版本（旧版本保留）。',
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams,
    body: DraftSchema,
    responses: { 200: { description: '已保存', schema: ApplicationSchema } },
    errors: ['APPLICATION_NOT_FOUND', 'APPLICATION_NOT_EDITABLE', 'CALL_CLOSED', 'ROUND_CANCELLED'],
    async handler({ params, body, principal }) {
      const app = await loadOwned(db, params.applicationId, principal!, true);
      assertDraftsOpen(await loadRound(db, app.roundId));
      if (app.status !== 'draft' && app.status !== 'submitted') {
        throw new AppError('APPLICATION_NOT_EDITABLE', `申报状态为 ${app.status}，不能修改`);
      }
      await assertReferences(db, body);
      return { status: 200, body: await applicationView(db, await updateDraft(db, app.id, body)) };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/applications/:applicationId/attachments',
    summary: '上传附件',
    description: `请求体为文件本身，Content-Type 为文件类型；kind 取 ${Object.entries(attachmentKinds)
      .map(([k, v]) => `${k}（${v.nameZh}）`)
      .join('、')}。文件存放在数据库之外，记录 SHA-256。`,
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams,
    query: z.object({
      kind: z
        .string()
        .refine(isAttachmentKind, { message: `附件类别应为 ${Object.keys(attachmentKinds).join('、')} 之一` }),
      fileName: z.string().trim().min(1).max(200).openapi({ example: '申报书.pdf' }),
    }),
    rawBody: { contentTypes: Object.keys(allowedAttachmentTypes), description: '文件内容' },
    responses: { 201: { description: '已上传', schema: AttachmentSchema } },
    errors: [
      'APPLICATION_NOT_FOUND',
      'APPLICATION_NOT_EDITABLE',
      'CALL_CLOSED',
      'ATTACHMENT_TOO_LARGE',
      'ATTACHMENT_TYPE_NOT_ALLOWED',
    ],
    async handler({ params, query, principal, req }) {
      const app = await loadOwned(db, params.applicationId, principal!, true);
      assertDraftsOpen(await loadRound(db, app.roundId));
      if (app.status !== 'draft' && app.status !== 'submitted') throw new AppError('APPLICATION_NOT_EDITABLE');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!isAllowedAttachmentType(contentType)) {
        throw new AppError(
          'ATTACHMENT_TYPE_NOT_ALLOWED',
          `允许的类型：${Object.keys(allowedAttachmentTypes).join('、')}`,
        );
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > deps.attachments.maxBytes) {
        throw new AppError(
          'ATTACHMENT_TOO_LARGE',
          `附件不得超过 ${Math.round(deps.attachments.maxBytes / 1024 / 1024)} MB`,
        );
      }
      let stored;
      try {
        stored = await deps.attachments.save(req, contentType);
      } catch (err) {
        if (err instanceof AttachmentRejected) {
          if (err.reason === 'too_large') throw new AppError('ATTACHMENT_TOO_LARGE', err.message);
          if (err.reason === 'type_mismatch') throw new AppError('ATTACHMENT_TYPE_NOT_ALLOWED', err.message);
          throw new AppError('VALIDATION_FAILED', err.message);
        }
        throw err;
      }
      const row = await addAttachment(db, {
        applicationId: app.id,
        kind: query.kind,
        fileName: query.fileName,
        contentType,
        sizeBytes: stored.size,
        sha256: stored.sha256,
        storageKey: stored.storageKey,
        uploadedBy: principal!.actor,
      });
      return { status: 201, body: attachmentView(row) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/applications/:applicationId/attachments/:attachmentId',
    summary: '下载附件（申报单位、工作人员，以及受邀评审该申报的专家）',
    tags: ['申报'],
    access: ['staff', 'applicant', 'expert'],
    params: ApplicationParams.extend({ attachmentId: z.uuid() }),
    responses: {
      200: {
        description: '文件内容',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'application/octet-stream',
      },
    },
    errors: ['APPLICATION_NOT_FOUND', 'ATTACHMENT_NOT_FOUND'],
    async handler({ params, principal }) {
      const app =
        principal!.role === 'expert'
          ? await findApplication(db, params.applicationId)
          : await loadOwned(db, params.applicationId, principal!, false);
      if (!app) throw new AppError('APPLICATION_NOT_FOUND', params.applicationId);
      if (principal!.role === 'expert' && !(await expertMayRead(db, principal!.expertId!, app.id))) {
        throw new AppError('FORBIDDEN', '只能查阅分派给本人评审的申报材料');
      }
      const a = await findAttachment(db, app.id, params.attachmentId);
      if (!a) throw new AppError('ATTACHMENT_NOT_FOUND', params.attachmentId);
      return {
        status: 200,
        stream: deps.attachments.open(a.storageKey),
        headers: {
          'Content-Type': a.contentType,
          'Content-Disposition': contentDisposition(a.fileName),
          'X-Content-SHA256': a.sha256,
        },
      };
    },
  });

  routes.add({
    method: 'delete',
    path: '/api/applications/:applicationId/attachments/:attachmentId',
    summary: '从工作稿中移除附件（已提交版本中的附件保留）',
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams.extend({ attachmentId: z.uuid() }),
    responses: { 204: { description: '已移除' } },
    errors: ['APPLICATION_NOT_FOUND', 'ATTACHMENT_NOT_FOUND', 'CALL_CLOSED'],
    async handler({ params, principal }) {
      const app = await loadOwned(db, params.applicationId, principal!, true);
      assertDraftsOpen(await loadRound(db, app.roundId));
      if (!(await removeAttachment(db, app.id, params.attachmentId))) {
        throw new AppError('ATTACHMENT_NOT_FOUND', params.attachmentId);
      }
      return { status: 204 };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/applications/:applicationId/submit',
    summary: '提交申报（截止前可重复提交，生成新版本）',
    description:
      '接收时间由服务器记录；流程按该时间与截止时间比较，截止前收到的提交即使稍后处理也予受理。' +
      '可带 Idempotency-Key 请求头，重试不会重复提交。限报数量、个人限项与禁止申报期在提交时检查，形式审查时复核。',
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams,
    responses: { 200: { description: '已受理', schema: SubmissionSchema } },
    errors: [
      'APPLICATION_NOT_FOUND',
      'APPLICATION_NOT_EDITABLE',
      'CALL_NOT_OPEN',
      'DEADLINE_PASSED',
      'CALL_CLOSED',
      'ROUND_CANCELLED',
      'LIMIT_EXCEEDED',
      'PERSONAL_LIMIT_EXCEEDED',
      'BARRED',
      'INSTITUTION_NOT_ELIGIBLE',
      'SUBMISSION_FAILED',
    ],
    async handler({ params, principal, req }) {
      const app = await loadOwned(db, params.applicationId, principal!, true);
      const requestId = requestIdOf(req);
      const receivedAt = await stampReceipt(db, deps.clock, {
        app,
        principal: principal!,
        requestId,
        operation: 'submit',
      });
      const key = req.header('idempotency-key');
      const result = await auditApplicationRefusal(
        db,
        { app, principal: principal!, requestId, action: 'application.submit_refused' },
        () =>
          updateWorkflow(
            deps.temporal,
            app.roundId,
            submitApplicationUpdate,
            { applicationId: app.id, institutionId: app.institutionId, receivedAt, actor: principal!.actor, requestId },
            {
              ...(key ? { updateId: `submit:${app.id}:${key}` } : {}),
              whenEnded: () => new AppError('CALL_CLOSED', '申报已截止'),
            },
          ),
      );
      return {
        status: 200,
        body: {
          applicationId: result.applicationId,
          status: 'submitted',
          version: result.version,
          revision: result.revision,
          receivedAt: formatShanghai(new Date(result.receivedAt)),
          warnings: result.warnings,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/applications/:applicationId/withdraw',
    summary: '撤回申报（截止前）',
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams,
    body: z.object({ reason: z.string().trim().max(500).optional() }).strict(),
    responses: {
      200: {
        description: '已撤回',
        schema: z.object({ applicationId: z.string(), status: z.literal('withdrawn'), withdrawnAt: z.string() }),
      },
    },
    errors: [
      'APPLICATION_NOT_FOUND',
      'APPLICATION_NOT_EDITABLE',
      'DEADLINE_PASSED',
      'CALL_CLOSED',
      'CALL_NOT_OPEN',
      'ROUND_CANCELLED',
    ],
    async handler({ params, body, principal, req }) {
      const app = await loadOwned(db, params.applicationId, principal!, true);
      const requestId = requestIdOf(req);
      const receivedAt = await stampReceipt(db, deps.clock, {
        app,
        principal: principal!,
        requestId,
        operation: 'withdraw',
      });
      const result = await auditApplicationRefusal(
        db,
        { app, principal: principal!, requestId, action: 'application.withdraw_refused' },
        () =>
          updateWorkflow(
            deps.temporal,
            app.roundId,
            withdrawApplicationUpdate,
            {
              applicationId: app.id,
              institutionId: app.institutionId,
              receivedAt,
              reason: body.reason,
              actor: principal!.actor,
              requestId,
            },
            { whenEnded: () => new AppError('CALL_CLOSED', '申报已截止') },
          ),
      );
      return { status: 200, body: { ...result, withdrawnAt: formatShanghai(new Date(result.withdrawnAt)) } };
    },
  });
}
