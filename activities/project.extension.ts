import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { decidePendingExtension, requestExtensionOnce } from '../db/repositories/project.extension.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import { projectWorkflowId } from '../domain/workflow-ids.js';
import { projectExtensionDecided } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { projectContext, projectMail, type ExtensionDecision, type ExtensionRequest } from './project.js';
import { refuse } from './refusal.js';

/** A project's one extension (延期): the applicant's request and the staff's decision. */
export function createProjectExtensionActivities({ db, outbox }: ActivityDeps) {
  return {
    /**
     * The applicant asks for the one extension (at most the programme's maximum).
     *
     * @throws `ApplicationFailure` EXTENSION_USED when the project already asked for one.
     */
    async requestExtension(input: ExtensionRequest): Promise<{ status: 'pending' }> {
      await db.transaction(async (trx) => {
        if (!(await requestExtensionOnce(trx, input.projectId, { months: input.months, reason: input.reason }))) {
          refuse('EXTENSION_USED', '每个项目只能申请一次延期');
        }
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: 'project.extension_request',
          subjectKind: 'project',
          subjectId: input.projectId,
          reason: input.reason,
          details: { months: input.months },
          requestId: input.requestId,
          workflowId: projectWorkflowId(input.projectId),
        });
      });
      log.info('project extension requested', { projectId: input.projectId, months: input.months });
      return { status: 'pending' };
    },

    /** Staff approve or refuse the extension, with a reason; approved, the project ends later. */
    async decideExtension(input: ExtensionDecision): Promise<{ approved: boolean; endsOn: string }> {
      const p = await projectContext(db, input.projectId);
      const months = p.extensionMonths ?? 0;
      const endsOn = input.approve ? sameDayMonthsLater(p.endsOn, months) : (p.extendedTo ?? p.endsOn);
      const decidedNow = await db.transaction(async (trx) => {
        const pending = await decidePendingExtension(trx, p.id, {
          approve: input.approve,
          reason: input.reason,
          extendedTo: endsOn,
        });
        if (!pending) return false;
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: input.approve ? 'project.extension_approve' : 'project.extension_refuse',
          subjectKind: 'project',
          subjectId: p.id,
          reason: input.reason,
          details: { months, endsOn },
          requestId: input.requestId,
          workflowId: input.workflowId,
        });
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/project_extension_decided`,
            workflowId: input.workflowId,
            purpose: 'project_extension_decided',
            recipient: p.contactEmail,
            ...projectExtensionDecided({
              ...projectMail(p),
              approved: input.approve,
              months,
              endsOn,
              reason: input.reason,
            }),
          },
          trx,
        );
        return true;
      });
      if (decidedNow) log.info('extension decided', { projectId: p.id, approved: input.approve, months, endsOn });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'project_extension_decided' });
      return { approved: input.approve, endsOn };
    },
  };
}
