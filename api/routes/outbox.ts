import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { findOutboxEntry, listOutbox, requeueOutboxEntry, type OutboxEntry } from '../../db/repositories/outbox.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { queryInteger, trimmedText } from '../schemas.js';

export interface OutboxRouteDeps {
  db: Db;
}

const statuses = ['pending', 'sending', 'sent', 'failed'] as const;

const OutboxEntrySchema = z
  .object({
    id: z.number().int(),
    status: z.enum(statuses).openapi({
      description:
        'pending 待发送；sending 正在发送（已被某个发送者认领）；sent 已发送；failed 多次发送失败，待人工重发',
    }),
    recipient: z.string(),
    purpose: z.string().openapi({ example: 'call_notice' }),
    subject: z.string(),
    workflowId: z.string().nullable(),
    messageId: z.string().openapi({ description: '由幂等键导出，重发时不变' }),
    attempts: z.number().int().openapi({ description: '本轮交给 SMTP 的次数（重发时清零）' }),
    lastError: z.string().nullable().openapi({ description: '最近一次发送失败时 SMTP 的错误' }),
    claimedBy: z.string().nullable().openapi({ description: '最近认领该邮件的发送者（<pid>@<主机名>）' }),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable().openapi({ description: '待发送邮件的下一次尝试时间' }),
    sentAt: z.string().nullable(),
    failedAt: z.string().nullable(),
  })
  .openapi('OutboxEmail');

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function view(e: OutboxEntry): z.infer<typeof OutboxEntrySchema> {
  return {
    ...e,
    createdAt: e.createdAt.toISOString(),
    lastAttemptAt: iso(e.lastAttemptAt),
    nextAttemptAt: iso(e.nextAttemptAt),
    sentAt: iso(e.sentAt),
    failedAt: iso(e.failedAt),
  };
}

const OutboxParams = z.object({ id: queryInteger({ min: 1 }).openapi({ title: '邮件编号', example: 42 }) });

/** Staff's view of the email outbox (no body text) and the resend of a failed or sent email. */
export function outboxRoutes(routes: ApiRoutes, { db }: OutboxRouteDeps): void {
  routes.add({
    method: 'get',
    path: '/api/outbox',
    summary: '邮件发件箱：按状态查看（不含正文）',
    description: '多次发送失败的邮件（status=failed）附 SMTP 错误，可由工作人员重发。按 id 排序分页。',
    tags: ['邮件'],
    access: ['staff', 'ops'],
    query: z.object({
      status: z.enum(statuses).optional().openapi({ title: '发送状态' }),
      after: queryInteger({ min: 0, optional: true }).openapi({
        title: '分页起点',
        description: '分页：上一页最后一条的 id',
      }),
      limit: queryInteger({ min: 1, max: 500, default: 100 }).openapi({ title: '每页条数' }),
    }),
    responses: {
      200: {
        description: '邮件列表（按 id 排序）',
        schema: z.object({ items: z.array(OutboxEntrySchema), next: z.number().int().nullable() }),
      },
    },
    async handler({ query }) {
      const rows = await listOutbox(db, { status: query.status, after: query.after, limit: query.limit });
      return {
        status: 200,
        body: { items: rows.map(view), next: rows.length === query.limit ? rows.at(-1)!.id : null },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/outbox/:id/resend',
    summary: '重发邮件（须说明理由）',
    description:
      '将发送失败或已发送的邮件重新置为待发送、尝试次数清零，由发件箱巡检尽快发出。邮件内容与 Message-ID 保持不变，' +
      '收件人的邮件客户端据此识别为同一封邮件。记入审计日志。',
    tags: ['邮件'],
    access: ['staff', 'ops'],
    params: OutboxParams,
    body: z
      .object({ reason: trimmedText(2, 500, '请说明理由').openapi({ title: '理由' }) })
      .strict()
      .openapi('ResendEmail'),
    responses: { 200: { description: '已置为待发送', schema: OutboxEntrySchema } },
    errors: ['OUTBOX_EMAIL_NOT_FOUND', 'OUTBOX_EMAIL_NOT_RESENDABLE'],
    async handler({ params, body, principal, req }) {
      const entry = await db.transaction(async (trx) => {
        const before = await findOutboxEntry(trx, params.id);
        if (!before) throw new AppError('OUTBOX_EMAIL_NOT_FOUND', String(params.id));
        const after = await requeueOutboxEntry(trx, params.id);
        if (!after) {
          throw new AppError('OUTBOX_EMAIL_NOT_RESENDABLE', `邮件 ${params.id} 当前状态为 ${before.status}`);
        }
        await recordAudit(trx, {
          actor: principal!.actor,
          role: 'staff',
          action: 'outbox.resend',
          subjectKind: 'email',
          subjectId: String(params.id),
          reason: body.reason,
          details: {
            messageId: before.messageId,
            purpose: before.purpose,
            previousStatus: before.status,
            previousAttempts: before.attempts,
            lastError: before.lastError,
          },
          workflowId: before.workflowId ?? undefined,
          requestId: requestIdOf(req),
        });
        return after;
      });
      return { status: 200, body: view(entry) };
    },
  });
}
