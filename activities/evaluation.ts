import { log } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  findEvaluation,
  markEvaluationOpen,
  markEvaluationPublished,
  type EvaluationRow,
} from '../db/repositories/evaluation.js';
import {
  countReports,
  gradedMembers,
  reportingMembers,
  requestReportsFromActiveMembers,
} from '../db/repositories/evaluation.reports.js';
import { programmeOfLaunch, type ProgrammeRow } from '../db/repositories/programmes.js';
import { formatShanghai } from '../domain/calendar/index.js';
import { gradeZh, type EvaluationGrade } from '../domain/programmes.js';
import { evaluationReminder, evaluationRequest, evaluationResult } from '../mail/templates.js';
import type { DecisionKeyed } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { mailPage, type BatchCursor, type BatchResult } from './mailing.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import { refuse } from './refusal.js';

/** When the self-evaluation reports are due, and when members without one are reminded. */
export interface ReportDue {
  day: string;
  /** 24:00 Asia/Shanghai on `day`, ISO with +08:00. */
  at: string;
  estimated: boolean;
  calendarVersion: number;
  reminders: Reminder[];
}

export interface OpenEvaluationResult {
  titleZh: string;
  due: ReportDue;
  members: number;
}

export interface EvaluationReportInput extends DecisionKeyed {
  evaluationId: string;
  entryId: string;
  payload: { summary: string; indicators?: Record<string, string | number> | undefined };
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface EvaluationReportRecorded {
  reportId: string;
  receivedAt: string;
  /** True when this replaced an earlier report (allowed until the due time). */
  resubmitted: boolean;
}

export interface GradeCounts {
  excellent: number;
  good: number;
  pass: number;
  fail: number;
  /** Reports no expert could score: staff decide; never graded 不合格 for the experts' failure. */
  ungraded: number;
}

export interface StaffGradeInput extends DecisionKeyed {
  evaluationId: string;
  entryId: string;
  grade: EvaluationGrade;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface MemberGrade {
  entryId: string;
  grade: EvaluationGrade | null;
}

const DEFAULT_REPORT_WORKING_DAYS = 20;

/**
 * The evaluation the workflow acts on, with its programme.
 *
 * @throws `ApplicationFailure` EVALUATION_NOT_FOUND (non-retryable) when there is no such evaluation.
 */
export async function evaluationContext(
  db: Db,
  evaluationId: string,
): Promise<{ evaluation: EvaluationRow; programme: ProgrammeRow }> {
  const evaluation = await findEvaluation(db, evaluationId);
  if (!evaluation) refuse('EVALUATION_NOT_FOUND', evaluationId);
  const programme = (await programmeOfLaunch(db, 'evaluations', evaluationId))!;
  return { evaluation, programme };
}

/**
 * The year's evaluation as its members see it: opened, requested, reminded, told their grade. Receiving reports
 * is in `evaluation.reports.ts`, grading in `evaluation.grading.ts`.
 */
export function createEvaluationActivities({ db, outbox, calendar, publicBaseUrl }: ActivityDeps) {
  const dueOf = (evaluation: EvaluationRow) => ({
    at: evaluation.reportDueAt!,
    estimated: evaluation.estimated ?? false,
  });

  return {
    /**
     * Opens the year's evaluation: every member active today is asked for a report, due in N working days
     * (the SPEC's counting rule, calendar version recorded). Idempotent: a retry finds what it did.
     */
    async openEvaluation(input: {
      evaluationId: string;
      workflowId: string;
      today: string;
    }): Promise<OpenEvaluationResult> {
      const { evaluation, programme } = await evaluationContext(db, input.evaluationId);
      const workingDays = programme.rules.directory?.evaluationReportWorkingDays ?? DEFAULT_REPORT_WORKING_DAYS;
      const reminderKs = programme.rules.call.reminderWorkingDaysBefore;
      const { version, calendar: cal } = await calendar.snapshot();
      const opened = await db.transaction(async (trx) => {
        let day = evaluation.reportDueDay;
        let at = evaluation.reportDueAt ? formatShanghai(evaluation.reportDueAt) : undefined;
        let estimated = evaluation.estimated ?? false;
        let calendarVersion = evaluation.calendarVersion ?? version;
        let openedNow = false;
        if (!day || !at) {
          const period = cal.period(input.today, workingDays);
          day = period.lastDay;
          at = period.endsAtIso;
          estimated = period.estimated;
          calendarVersion = version;
          const active = await requestReportsFromActiveMembers(trx, evaluation.id, evaluation.programme);
          await markEvaluationOpen(trx, evaluation.id, { day, at: new Date(at), estimated, calendarVersion: version });
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.open',
            subjectKind: 'evaluation',
            subjectId: evaluation.id,
            details: { members: active, dueDay: day, estimated, calendarVersion: version },
            workflowId: input.workflowId,
          });
          openedNow = true;
        }
        const result: OpenEvaluationResult = {
          titleZh: evaluation.titleZh,
          due: {
            day,
            at,
            estimated,
            calendarVersion,
            reminders: cal.remindersBefore(day, reminderKs),
          },
          members: await countReports(trx, evaluation.id),
        };
        return { result, openedNow };
      });
      if (opened.openedNow) {
        log.info('evaluation opened', {
          evaluationId: evaluation.id,
          members: opened.result.members,
          dueDay: opened.result.due.day,
        });
      }
      return opened.result;
    },

    /** The request for a report, to every member of the evaluation (a batch at a time). */
    async sendEvaluationRequests(
      input: { evaluationId: string; workflowId: string } & BatchCursor,
    ): Promise<BatchResult> {
      const { evaluation, programme } = await evaluationContext(db, input.evaluationId);
      const rows = await reportingMembers(db, evaluation.id, input);
      const due = dueOf(evaluation);
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'evaluation_request' }, input, rows, (r) => ({
        key: `${input.workflowId}/evaluation_request/${r.id}`,
        recipient: r.contactEmail,
        email: evaluationRequest({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          institutionName: r.institutionName,
          programmeName: programme.nameZh,
          entryTitle: r.title,
          evaluationTitle: evaluation.titleZh,
          due: due.at,
          dueEstimated: due.estimated,
        }),
      }));
    },

    /** A reminder k working days before the due day, only to members that have not reported. */
    async sendEvaluationReminders(
      input: { evaluationId: string; workflowId: string; reminder: Reminder } & BatchCursor,
    ): Promise<BatchResult> {
      const { evaluation, programme } = await evaluationContext(db, input.evaluationId);
      const rows = await reportingMembers(db, evaluation.id, input, { onlyRequested: true });
      const due = dueOf(evaluation);
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'evaluation_reminder' }, input, rows, (r) => ({
        key: `${input.workflowId}/evaluation_reminder/${input.reminder.k}/${r.id}`,
        recipient: r.contactEmail,
        dueAt: new Date(input.reminder.at),
        email: evaluationReminder({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          institutionName: r.institutionName,
          programmeName: programme.nameZh,
          entryTitle: r.title,
          evaluationTitle: evaluation.titleZh,
          due: due.at,
          dueEstimated: due.estimated,
          workingDaysLeft: input.reminder.k,
        }),
      }));
    },

    /**
     * After the publicity period: the results are final. Each member is told its grade (a batch at a time);
     * on the last batch the evaluation is marked published.
     */
    async publishEvaluationResults(
      input: { evaluationId: string; workflowId: string; at: string } & BatchCursor,
    ): Promise<BatchResult & { grades: MemberGrade[] }> {
      const { evaluation, programme } = await evaluationContext(db, input.evaluationId);
      const rows = await gradedMembers(db, evaluation.id, input);
      const result = await mailPage(
        outbox,
        { workflowId: input.workflowId, purpose: 'evaluation_result' },
        input,
        rows.filter((r) => r.grade),
        (r) => ({
          key: `${input.workflowId}/evaluation_result/${r.id}`,
          recipient: r.contactEmail,
          email: evaluationResult({
            institutionName: r.institutionName,
            programmeName: programme.nameZh,
            entryTitle: r.title,
            evaluationTitle: evaluation.titleZh,
            gradeZh: gradeZh[r.grade!],
            score: r.score,
            reason: r.gradeReason,
          }),
        }),
      );
      const done = rows.length < input.batchSize;
      if (done) {
        const publishedNow = await db.transaction(async (trx) => {
          if (!(await markEvaluationPublished(trx, evaluation.id, new Date(input.at)))) return false;
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.publish',
            subjectKind: 'evaluation',
            subjectId: evaluation.id,
            workflowId: input.workflowId,
          });
          return true;
        });
        if (publishedNow) log.info('evaluation results published', { evaluationId: evaluation.id });
      }
      return {
        ...result,
        last: rows.at(-1)?.id ?? input.after,
        done,
        grades: rows.map((r) => ({ entryId: r.entryId, grade: r.grade })),
      };
    },
  };
}
