import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import type { ApplicationRow } from '../../db/repositories/round.applications.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { submitApplicationUpdate, withdrawApplicationUpdate } from '../../workflows/round.messages.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt } from '../workflow-calls.js';
import { z, type ApiRoutes } from '../route.js';
import { lateByRecord, loadOwned, loadRound, pinnedSubmission } from './round.applications.access.js';
import { ApplicationParams, SubmissionSchema } from './round.applications.views.js';

export interface SubmissionRouteDeps {
  db: Db;
  temporal: Client;
  clock: Clock;
}

/**
 * Takes a submission or withdrawal in: the applicant's own application, and its receipt time, stamped when the
 * request arrived and kept in the audit log; the workflow judges the request by it, however long processing
 * takes.
 */
async function receive(
  db: Db,
  received: Date,
  request: { applicationId: string; principal: Principal; req: Request; operation: 'submit' | 'withdraw' },
): Promise<{ app: ApplicationRow; requestId: string | undefined; receivedAt: string }> {
  const app = await loadOwned(db, request.applicationId, request.principal, true);
  const requestId = requestIdOf(request.req);
  const receivedAt = received.toISOString();
  await recordAudit(db, {
    actor: request.principal.actor,
    role: 'applicant',
    action: 'application.receipt',
    subjectKind: 'application',
    subjectId: app.id,
    details: { receivedAt, revision: app.revision, operation: request.operation },
    requestId,
    workflowId: app.roundId,
  });
  return { app, requestId, receivedAt };
}

/** The audit subject of an application's refused submission or withdrawal. */
function refused(app: ApplicationRow, action: string, requestId: string | undefined) {
  return { action, subjectKind: 'application', subjectId: app.id, requestId, workflowId: app.roundId };
}

/**
 * How a submission or withdrawal travels to its round (`deliverReceipt`'s options): under the request's Update id;
 * a round gone is `CALL_CLOSED`; with Temporal out of reach, one received (`receivedAt`, ISO) after the recorded
 * deadline is refused at once (`lateByRecord`).
 */
function delivery(
  db: Db,
  app: ApplicationRow,
  r: { updateId: string | undefined; caller: string; receivedAt: string },
) {
  return {
    updateId: r.updateId,
    caller: r.caller,
    whenEnded: () => new AppError('CALL_CLOSED', '申报已截止'),
    provenRefusal: async () => lateByRecord(await loadRound(db, app.roundId), new Date(r.receivedAt)),
  };
}

/** Submitting and withdrawing an application: the receipt time is stamped here, the round workflow decides. */
export function submissionRoutes(routes: ApiRoutes, deps: SubmissionRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'post',
    path: '/api/applications/:applicationId/submit',
    summary: '提交申报（截止前可重复提交，生成新版本）',
    description:
      '接收时间由服务器记录；流程按该时间与截止时间比较，截止前收到的提交即使稍后处理也予受理，' +
      '受理的是接收时的申报书版本（处理完成前不能修改）。' +
      '可带 Idempotency-Key 请求头，重试不会重复提交。项目名称、所属领域、简介字数、负责人和必需附件等在提交时即按形式审查要求检查，' +
      '不符合的不予受理（422 FORMAL_CHECK_FAILED，problems 逐项列明），什么也不保存。' +
      '限报数量、个人限项与禁止申报期在提交时检查，形式审查时按届时记录复核（warnings 说明）。',
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
      'FORMAL_CHECK_FAILED',
      'DRAFT_CHANGED',
      'RECEIPT_KEPT',
    ],
    async handler({ params, principal, req, receivedAt: receipt, updateId }) {
      const { app, requestId, receivedAt } = await receive(db, receipt, {
        applicationId: params.applicationId,
        principal: principal!,
        req,
        operation: 'submit',
      });
      const result = await auditRefusal(db, principal!, refused(app, 'application.submit_refused', requestId), () =>
        deliverReceipt(
          deps,
          app.roundId,
          submitApplicationUpdate,
          // The revision it is received with, pinned under the draft's lock with the receipt (see changeDraft).
          async (trx) => ({
            applicationId: app.id,
            institutionId: app.institutionId,
            receivedAt,
            actor: principal!.actor,
            requestId,
            revision: await pinnedSubmission(trx, app.id),
          }),
          delivery(db, app, { updateId, caller: principal!.actor, receivedAt }),
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
    body: z.object({ reason: z.string().trim().max(500).optional().openapi({ title: '撤回原因' }) }).strict(),
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
      'RECEIPT_KEPT',
    ],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      const { app, requestId, receivedAt } = await receive(db, receipt, {
        applicationId: params.applicationId,
        principal: principal!,
        req,
        operation: 'withdraw',
      });
      const result = await auditRefusal(db, principal!, refused(app, 'application.withdraw_refused', requestId), () =>
        deliverReceipt(
          deps,
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
          delivery(db, app, { updateId, caller: principal!.actor, receivedAt }),
        ),
      );
      return { status: 200, body: { ...result, withdrawnAt: formatShanghai(new Date(result.withdrawnAt)) } };
    },
  });
}
