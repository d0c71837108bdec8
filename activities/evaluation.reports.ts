import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { setEvaluationStatus } from '../db/repositories/evaluation.js';
import {
  lockReportOf,
  markMissingReports,
  reportStatusCounts,
  saveReport,
} from '../db/repositories/evaluation.reports.js';
import { decisionRecorder } from './decision.js';
import type { ActivityDeps } from './deps.js';
import type { EvaluationReportInput, EvaluationReportRecorded } from './evaluation.js';
import { refuse } from './refusal.js';

const MISSING_REASON = '未按期提交自评报告';

/** The members' self-evaluation reports (自评报告): received until the due time, then closed. */
export function createEvaluationReportActivities(deps: ActivityDeps) {
  const { db } = deps;
  const decision = decisionRecorder(deps);
  return {
    /**
     * A report the workflow accepted on time (a resubmission before the due time replaces the earlier one).
     * Keyed by its Update: a retry after the commit returns the recorded answer (not a second, "resubmitted" one).
     *
     * @throws `ApplicationFailure` NOT_EVALUATED when the member was not asked to report in this evaluation.
     */
    recordEvaluationReport: decision(
      async (input: EvaluationReportInput, { trx }): Promise<EvaluationReportRecorded> => {
        const report = await lockReportOf(trx, input.evaluationId, input.entryId);
        if (!report) refuse('NOT_EVALUATED', '该名录成员不在本次动态评价范围内');
        await saveReport(trx, report.id, input.payload, input.receivedAt);
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: report.status === 'submitted' ? 'evaluation.report_resubmit' : 'evaluation.report_submit',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          details: { evaluationId: input.evaluationId, reportId: report.id, receivedAt: input.receivedAt },
          requestId: input.requestId,
          workflowId: input.evaluationId,
        });
        const recorded = {
          reportId: report.id,
          receivedAt: input.receivedAt,
          resubmitted: report.status === 'submitted',
        };
        log.info('evaluation report recorded', {
          evaluationId: input.evaluationId,
          reportId: recorded.reportId,
          resubmitted: recorded.resubmitted,
        });
        return recorded;
      },
    ),

    /** At the due time: a member without a report is graded 不合格 (recorded, with the reason). */
    async closeEvaluationReports(input: {
      evaluationId: string;
      workflowId: string;
    }): Promise<{ submitted: number; missing: number }> {
      const closed = await db.transaction(async (trx) => {
        const missing = await markMissingReports(trx, input.evaluationId, MISSING_REASON);
        for (const m of missing) {
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.report_missing',
            subjectKind: 'directory_entry',
            subjectId: m.entryId,
            reason: '未按期提交自评报告，评价结果为不合格',
            details: { evaluationId: input.evaluationId, reportId: m.reportId },
            workflowId: input.workflowId,
          });
        }
        await setEvaluationStatus(trx, input.evaluationId, 'reports_closed');
        const counts = await reportStatusCounts(trx, input.evaluationId);
        return { submitted: counts.get('submitted') ?? 0, missing: counts.get('missing') ?? 0 };
      });
      log.info('evaluation reports closed', { evaluationId: input.evaluationId, ...closed });
      return closed;
    },
  };
}
