import type { Db } from '../../db/knex.js';
import {
  addAttachment,
  findApplication,
  findAttachment,
  removeAttachment,
} from '../../db/repositories/round.applications.js';
import { expertMayRead } from '../../db/repositories/review.js';
import { attachmentKinds, type AttachmentKind } from '../../domain/applications.js';
import {
  AttachmentRejected,
  allowedAttachmentTypes,
  isAllowedAttachmentType,
  type AttachmentStore,
} from '../../storage/attachments.js';
import { AppError } from '../errors.js';
import { z, type ApiRoutes } from '../route.js';
import { trimmedText } from '../schemas.js';
import { changeDraft, loadDraftable, loadOwned } from './round.applications.access.js';
import { ApplicationParams, AttachmentSchema, attachmentView } from './round.applications.views.js';

export interface AttachmentRouteDeps {
  db: Db;
  attachments: AttachmentStore;
}

function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * An application's attachments: upload and removal while drafting; download by the institution, staff and the
 * experts assigned to review it.
 */
export function attachmentRoutes(routes: ApiRoutes, deps: AttachmentRouteDeps): void {
  const { db } = deps;

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
        .enum(Object.keys(attachmentKinds) as [AttachmentKind, ...AttachmentKind[]])
        .openapi({ title: '附件类别' }),
      fileName: trimmedText(1, 200).openapi({ title: '文件名', example: '申报书.pdf' }),
    }),
    rawBody: { contentTypes: Object.keys(allowedAttachmentTypes), description: '文件内容' },
    responses: { 201: { description: '已上传', schema: AttachmentSchema } },
    errors: [
      'APPLICATION_NOT_FOUND',
      'APPLICATION_NOT_EDITABLE',
      'CALL_CLOSED',
      'ATTACHMENT_TOO_LARGE',
      'ATTACHMENT_TYPE_NOT_ALLOWED',
      'SUBMISSION_IN_PROGRESS',
    ],
    async handler({ params, query, principal, req, receivedAt }) {
      const app = await loadDraftable(db, params.applicationId, principal!, receivedAt);
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
      const row = await changeDraft(db, app, (trx) =>
        addAttachment(trx, {
          applicationId: app.id,
          kind: query.kind,
          fileName: query.fileName,
          contentType,
          sizeBytes: stored.size,
          sha256: stored.sha256,
          storageKey: stored.storageKey,
          uploadedBy: principal!.actor,
        }),
      );
      return { status: 201, body: attachmentView(row) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/applications/:applicationId/attachments/:attachmentId',
    summary: '下载附件（申报单位、工作人员，以及受邀评审该申报的专家）',
    tags: ['申报'],
    access: ['staff', 'applicant', 'expert'],
    // An expert who opened the review from the email reads the material of that assignment (checked below).
    linkScope: 'material',
    params: ApplicationParams.extend({ attachmentId: z.uuid().openapi({ title: '附件编号' }) }),
    responses: {
      // Sent with the type it was uploaded as: one of the types an upload may have.
      200: {
        description: '文件内容（以上传时的类型返回）',
        alternatives: Object.fromEntries(
          Object.keys(allowedAttachmentTypes).map((type) => [type, z.string().openapi({ format: 'binary' })]),
        ),
      },
    },
    errors: ['APPLICATION_NOT_FOUND', 'ATTACHMENT_NOT_FOUND'],
    async handler({ params, principal }) {
      const app =
        principal!.role === 'expert'
          ? await findApplication(db, params.applicationId)
          : await loadOwned(db, params.applicationId, principal!, false);
      if (!app) throw new AppError('APPLICATION_NOT_FOUND', params.applicationId);
      const linked = principal!.assignmentLink?.assignmentIds;
      if (principal!.role === 'expert' && !(await expertMayRead(db, principal!.expertId!, app.id, linked))) {
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
    params: ApplicationParams.extend({ attachmentId: z.uuid().openapi({ title: '附件编号' }) }),
    responses: { 204: { description: '已移除' } },
    errors: ['APPLICATION_NOT_FOUND', 'ATTACHMENT_NOT_FOUND', 'CALL_CLOSED', 'SUBMISSION_IN_PROGRESS'],
    async handler({ params, principal, receivedAt }) {
      const app = await loadDraftable(db, params.applicationId, principal!, receivedAt);
      if (!(await changeDraft(db, app, (trx) => removeAttachment(trx, app.id, params.attachmentId)))) {
        throw new AppError('ATTACHMENT_NOT_FOUND', params.attachmentId);
      }
      return { status: 204 };
    },
  });
}
