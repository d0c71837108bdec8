import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { setProjectStatus } from '../db/repositories/project.js';
import {
  findReport,
  lockReport,
  openReport,
  overdueAlreadyFlagged,
  reportReviewResult,
  saveReport,
  saveReportOutcome,
} from '../db/repositories/project.reports.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { projectWorkflowId } from '../domain/workflow-ids.js';
import {
  projectReportOverdue,
  projectReportReminder,
  projectReportRequest,
  projectReportResult,
  staffGradeNeeded,
} from '../mail/templates.js';
import { tooFewScoresReason } from '../domain/review/scoring.js';
import { decisionRecorder, type DecisionTx } from './decision.js';
import { refuse } from './refusal.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import {
  projectContext,
  projectMail,
  projectRules,
  type OpenedReport,
  type ProjectReportGradeInput,
  type ProjectReportInput,
  type ProjectReportKind,
  type ProjectReportStep,
  type ReportDecision,
} from './project.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';

/** A project's midterm and final reports: asked for, reminded, received, flagged when overdue, decided. */
export function createProjectReportActivities(deps: ActivityDeps) {
  const { db, outbox, calendar, staffEmail } = deps;
  const decision = decisionRecorder(deps);

  /**
   * Records a report's outcome (by the experts or by staff) with the project's status, its audit row and the
   * letter to the applicant, in the decision's transaction.
   */
  const settle = async (
    input: ProjectReportStep,
    { trx, enqueue }: DecisionTx,
    d: {
      p: Awaited<ReturnType<typeof projectContext>>;
      r: Awaited<ReturnType<typeof lockReport>>;
      passed: boolean;
      reason: string | null;
      score: number | null;
      validScores: number;
    },
  ): Promise<ReportDecision> => {
    const { p, r, passed, reason, score, validScores } = d;
    const mayResubmit = r.kind === 'final' && r.attempt === 1 && !passed;
    await saveReportOutcome(trx, input.reportId, { passed, reason, score, validScores });
    const status = r.kind === 'final' ? (passed ? 'completed' : r.attempt > 1 ? 'failed' : 'active') : 'active';
    await setProjectStatus(trx, p.id, status);
    await recordAudit(trx, {
      actor: 'system:project',
      role: 'system',
      action: `project.${r.kind}_${passed ? 'pass' : 'fail'}`,
      subjectKind: 'project',
      subjectId: p.id,
      reason: reason ?? undefined,
      details: { reportId: input.reportId, attempt: r.attempt, score, validScores, status },
      workflowId: input.workflowId,
    });
    await enqueue({
      idempotencyKey: `${input.workflowId}/project_report_result/${input.reportId}`,
      workflowId: input.workflowId,
      purpose: 'project_report_result',
      recipient: p.contactEmail,
      ...projectReportResult({ ...projectMail(p), kind: r.kind, passed, score, reason, mayResubmit }),
    });
    log.info('project report decided', { projectId: p.id, reportId: input.reportId, passed, score });
    return { passed, score, mayResubmit };
  };

  return {
    /** Asks for a report, due in N working days from today (24:00), with reminders 7/3/1 working days before. */
    async openProjectReport(input: {
      projectId: string;
      workflowId: string;
      kind: ProjectReportKind;
      attempt: number;
      today: string;
    }): Promise<OpenedReport> {
      const p = await projectContext(db, input.projectId);
      const { calendar: cal } = await calendar.snapshot();
      const due = cal.period(input.today, projectRules(p).reportWorkingDays);
      const report = await openReport(db, {
        projectId: p.id,
        kind: input.kind,
        attempt: input.attempt,
        dueDay: due.lastDay,
        dueAt: due.endsAt,
      });
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_report_request/${report.id}`,
        workflowId: input.workflowId,
        purpose: 'project_report_request',
        recipient: p.contactEmail,
        ...projectReportRequest({
          signInUrl: signInUrlOf(deps),
          ...projectMail(p),
          kind: input.kind,
          attempt: input.attempt,
          due: report.dueAt,
          dueEstimated: due.estimated,
        }),
      });
      return {
        reportId: report.id,
        kind: input.kind,
        attempt: input.attempt,
        dueAt: due.endsAtIso,
        reminders: cal.remindersBefore(report.dueDay, p.rules.call.reminderWorkingDaysBefore),
      };
    },

    /** A reminder of a report not yet received. */
    async sendProjectReminder(input: {
      projectId: string;
      workflowId: string;
      reportId: string;
      reminder: Reminder;
    }): Promise<'sent' | 'not_needed'> {
      const p = await projectContext(db, input.projectId);
      const r = await findReport(db, input.reportId);
      if (r.receivedAt || p.status !== 'active') return 'not_needed';
      const { calendar: cal } = await calendar.snapshot();
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_report_reminder/${input.reportId}/${input.reminder.k}`,
        workflowId: input.workflowId,
        purpose: 'project_report_reminder',
        recipient: p.contactEmail,
        dueAt: new Date(input.reminder.at),
        ...projectReportReminder({
          signInUrl: signInUrlOf(deps),
          ...projectMail(p),
          kind: r.kind,
          due: r.dueAt,
          dueEstimated: cal.arrangement(Number(r.dueDay.slice(0, 4))).estimated,
          workingDaysLeft: input.reminder.k,
        }),
      });
      return 'sent';
    },

    /**
     * A report the workflow accepted (a late one is marked late); a resubmission before review replaces it.
     * Keyed by its Update: a retry after the commit returns the recorded answer (not a second submission).
     */
    recordProjectReport: decision(
      async (input: ProjectReportInput, { trx }): Promise<{ reportId: string; receivedAt: string; late: boolean }> => {
        const r = await lockReport(trx, input.reportId, input.projectId);
        const late = new Date(input.receivedAt).getTime() > r.dueAt.getTime();
        await saveReport(trx, input.reportId, { payload: input.payload, receivedAt: input.receivedAt, late });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: r.receivedAt ? 'project.report_resubmit' : 'project.report_submit',
          subjectKind: 'project',
          subjectId: input.projectId,
          details: { reportId: input.reportId, kind: r.kind, attempt: r.attempt, receivedAt: input.receivedAt, late },
          requestId: input.requestId,
          workflowId: projectWorkflowId(input.projectId),
        });
        const resubmitted = r.receivedAt !== null;
        log.info('project report recorded', {
          projectId: input.projectId,
          reportId: input.reportId,
          late,
          resubmitted,
        });
        return { reportId: input.reportId, receivedAt: input.receivedAt, late };
      },
    ),

    /**
     * A report past its due time without arriving: staff are told once (they may terminate the project). Taken
     * by the workflow on its own, keyed by the activity's identity; a report already flagged is not flagged again.
     *
     * @throws `ApplicationFailure` PROJECT_NOT_FOUND when there is no such project.
     */
    flagOverdueReport: decision(async (input: ProjectReportStep, { trx, enqueue }): Promise<void> => {
      const p = await projectContext(trx, input.projectId);
      if (await overdueAlreadyFlagged(trx, p.id, input.reportId)) return;
      const r = await findReport(trx, input.reportId);
      await recordAudit(trx, {
        actor: 'system:project',
        role: 'system',
        action: 'project.report_overdue',
        subjectKind: 'project',
        subjectId: p.id,
        reason: `${r.kind === 'midterm' ? '中期检查报告' : '结项报告'}已于 ${formatInstantZh(r.dueAt)} 截止，逾期未交`,
        details: { reportId: input.reportId, kind: r.kind },
        workflowId: input.workflowId,
      });
      await enqueue({
        idempotencyKey: `${input.workflowId}/project_report_overdue/${input.reportId}`,
        workflowId: input.workflowId,
        purpose: 'project_report_overdue',
        recipient: staffEmail,
        ...projectReportOverdue({ signInUrl: signInUrlOf(deps), ...projectMail(p), kind: r.kind, due: r.dueAt }),
      });
      log.info('project report overdue', { projectId: p.id, reportId: input.reportId, kind: r.kind });
    }),

    /**
     * The experts' review decides the report: 通过 at or above the pass mark; the applicant is told why. With
     * fewer valid scores than the review's minimum (3) nothing is decided — nobody fails for the experts'
     * absence: staff are emailed that a decision is needed and the answer says `awaitingGrade` (the workflow
     * then waits for `recordProjectReportGrade`). Taken by the workflow on its own, keyed by the activity's
     * identity: a retry after the commit returns the recorded decision; a report already decided keeps its
     * outcome.
     *
     * @throws `ApplicationFailure` PROJECT_NOT_FOUND when there is no such project.
     */
    decideProjectReport: decision(async (input: ProjectReportStep, tx): Promise<ReportDecision> => {
      const p = await projectContext(tx.trx, input.projectId);
      const passMark = projectRules(p).passMark;
      const r = await lockReport(tx.trx, input.reportId);
      const { score, validScores, minValidScores } = await reportReviewResult(tx.trx, input.reportId);
      if (r.outcome) {
        const passed = r.outcome === 'passed';
        return { passed, score, mayResubmit: r.kind === 'final' && r.attempt === 1 && !passed };
      }
      if (validScores < minValidScores) {
        const reason = tooFewScoresReason(validScores, minValidScores);
        await recordAudit(tx.trx, {
          actor: 'system:project',
          role: 'system',
          action: 'project.report_awaiting_grade',
          subjectKind: 'project',
          subjectId: p.id,
          reason,
          details: { reportId: input.reportId, kind: r.kind, score, validScores, minValidScores },
          workflowId: input.workflowId,
        });
        await tx.enqueue({
          idempotencyKey: `${input.workflowId}/project_report_grade_needed/${input.reportId}`,
          workflowId: input.workflowId,
          purpose: 'project_report_grade_needed',
          recipient: staffEmail,
          ...staffGradeNeeded({
            signInUrl: signInUrlOf(deps),
            what: `项目“${p.title}”的${r.kind === 'midterm' ? '中期检查报告' : '结项报告'}`,
            valid: validScores,
            min: minValidScores,
          }),
        });
        log.info('project report awaits a staff grade', { projectId: p.id, reportId: input.reportId, validScores });
        return { passed: false, score, mayResubmit: false, awaitingGrade: true };
      }
      const passed = score !== null && score >= passMark;
      const reason = passed
        ? null
        : score === null
          ? '没有有效的专家评分'
          : `专家评审平均分 ${Number(score.toFixed(2))} 分，低于 ${passMark} 分`;
      return settle(input, tx, { p, r, passed, reason, score, validScores });
    }),

    /**
     * Staff decide a report the experts left with too few valid scores: 通过 or not, with a reason; the
     * applicant is told, as after the experts' decision. Keyed by its Update: a retry after the commit returns
     * the recorded answer.
     *
     * @throws `ApplicationFailure` PROJECT_NOT_FOUND; GRADE_NOT_PENDING when the report is decided already.
     */
    recordProjectReportGrade: decision(async (input: ProjectReportGradeInput, tx): Promise<ReportDecision> => {
      const p = await projectContext(tx.trx, input.projectId);
      const r = await lockReport(tx.trx, input.reportId);
      if (r.outcome) refuse('GRADE_NOT_PENDING', '该报告已有评审结果');
      const { score, validScores } = await reportReviewResult(tx.trx, input.reportId);
      await recordAudit(tx.trx, {
        actor: input.actor,
        role: 'staff',
        action: 'project.report_staff_grade',
        subjectKind: 'project',
        subjectId: p.id,
        reason: input.reason,
        details: { reportId: input.reportId, kind: r.kind, passed: input.passed },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
      return settle(input, tx, {
        p,
        r,
        passed: input.passed,
        reason: `工作人员认定：${input.reason}`,
        score,
        validScores,
      });
    }),
  };
}
