import type { Db } from '../../db/knex.js';
import {
  currentAttachments,
  type ApplicationRow,
  type AttachmentRow,
} from '../../db/repositories/round.applications.js';
import { applicationVersions } from '../../db/repositories/round.views.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { z } from '../route.js';
import { draftText, oneLineText, trimmedText } from '../schemas.js';

/** How the API shows applications and their attachments: the schemas (validation and OpenAPI) and the views. */

const PersonSchema = z.object({
  staffNo: oneLineText(1, 40).openapi({ title: '工号', example: 'T2015031' }),
  name: oneLineText(1, 40).openapi({ title: '姓名', example: '王建国' }),
});

export const DraftSchema = z
  .object({
    title: draftText(100, { oneLine: true })
      .optional()
      .openapi({ title: '项目名称', example: '面向智能制造的机械类专业产教融合育人模式研究' }),
    field: trimmedText(1, 40, '所属领域不能为空；不填时请省略该项')
      .optional()
      .openapi({ title: '所属领域', example: 'high_end_equipment', description: '所属领域（industries.key）' }),
    summary: draftText(5000, { oneLine: false }).optional().openapi({ title: '项目简介' }),
    principal: PersonSchema.optional().openapi({ title: '项目负责人' }),
    members: z
      .array(
        PersonSchema.extend({
          institutionId: trimmedText(1, 60, '不能为空；与申报单位相同时请省略该项')
            .optional()
            .openapi({ title: '所在单位' }),
        }),
      )
      .max(20)
      .optional()
      .openapi({ title: '项目成员' }),
    partnerEnterpriseIds: z.array(trimmedText(1, 60)).max(20).optional().openapi({ title: '合作企业' }),
    avoidExperts: z
      .array(oneLineText(1, 40))
      .max(2, '申请回避的专家不得超过 2 名')
      .optional()
      .openapi({
        title: '申请回避的专家',
        example: ['黄洋（郑州大学）'],
        description:
          '申请回避的专家（至多 2 名），写“姓名”或“姓名（工作单位）”。保存时按人核对专家库（姓名中的空格不计）：' +
          '库中没有该姓名、或有多位同名专家而未注明工作单位的，不予保存（422）；应答不透露专家库中的姓名。',
      }),
  })
  .strict()
  .openapi('ApplicationDraft');

export const AttachmentSchema = z
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

export const ApplicationSchema = z
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

export const SubmissionSchema = z
  .object({
    applicationId: z.string(),
    status: z.literal('submitted'),
    version: z.number().int(),
    revision: z.number().int(),
    receivedAt: z.string(),
    warnings: z.array(z.string()).openapi({
      description: '须到截止后形式审查时按届时记录才能判定的规则（每条一句）；提交时即可判定的缺项不予受理',
    }),
  })
  .openapi('Submission');

export const ApplicationParams = z.object({ applicationId: z.uuid().openapi({ title: '申报书编号' }) });

/** A Shanghai ISO instant, or null. */
export function iso(d: Date | null): string | null {
  return d ? formatShanghai(d) : null;
}

/** An attachment as the API shows it. */
export function attachmentView(a: AttachmentRow) {
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

/** An application as the API shows it: the working draft, its current attachments and submitted versions. */
export async function applicationView(db: Db, app: ApplicationRow) {
  const [attachments, versions] = await Promise.all([currentAttachments(db, app.id), applicationVersions(db, app.id)]);
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
      receivedAt: formatShanghai(v.receivedAt),
    })),
  };
}
