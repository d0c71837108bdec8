import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { decidePendingExtension, requestExtensionOnce } from '../db/repositories/project.extension.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import { projectWorkflowId } from '../domain/workflow-ids.js';
import { projectExtensionDecided } from '../mail/templates.js';
import { decisionRecorder } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { projectContext, projectMail, type ExtensionDecision, type ExtensionRequest } from './project.js';
import { refuse } from './refusal.js';

/** A project's one extension (延期): the applicant's request and the staff's decision. */
export function createProjectExtensionActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  return {
    /**
     * The applicant asks for the one extension (at most the programme's maximum). Keyed by its Update: a retry
     * after the commit returns the recorded answer, not EXTENSION_USED.
     *
     * @throws `ApplicationFailure` EXTENSION_USED when the project already asked for one.
     */
    requestExtension: decision(async (input: ExtensionRequest, { trx }): Promise<{ status: 'pending' }> => {
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
      log.info('project extension requested', { projectId: input.projectId, months: input.months });
      return { status: 'pending' };
    }),

    /**
     * Staff approve or refuse the extension, with a reason; approved, the project ends later (by the months
     * asked for, from its original end). The applicant is told. Keyed by its Update; an extension no longer
     * pending is not decided (nor announced) again.
     *
     * @throws `ApplicationFailure` PROJECT_NOT_FOUND when there is no such project.
     */
    decideExtension: decision(
      async (input: ExtensionDecision, { trx, enqueue }): Promise<{ approved: boolean; endsOn: string }> => {
        const p = await projectContext(trx, input.projectId);
        const months = p.extensionMonths ?? 0;
        const endsOn = input.approve ? sameDayMonthsLater(p.endsOn, months) : (p.extendedTo ?? p.endsOn);
        const pending = await decidePendingExtension(trx, p.id, {
          approve: input.approve,
          reason: input.reason,
          extendedTo: endsOn,
        });
        if (!pending) return { approved: input.approve, endsOn };
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
        await enqueue({
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
        });
        log.info('extension decided', { projectId: p.id, approved: input.approve, months, endsOn });
        return { approved: input.approve, endsOn };
      },
    ),
  };
}
