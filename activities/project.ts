import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { findProgramme, type ProgrammeRow } from '../db/repositories/programmes.js';
import { findProject, type ProjectRow } from '../db/repositories/project.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import {
  projectApproved,
  projectExtensionDecided,
  projectReportOverdue,
  projectReportReminder,
  projectReportRequest,
  projectReportResult,
  projectTerminated,
  type ProjectMailContext,
} from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import type { Reminder } from './round.js';
import { refuse } from './refusal.js';
import { projectWorkflowId } from '../domain/workflow-ids.js';

export type ProjectReportKind = 'midterm' | 'final';

export interface ProjectPlan {
  startsOn: string;
  endsOn: string;
  /** The day the midterm report is asked for: halfway through the original duration. */
  midtermOn: string;
}

export interface OpenedReport {
  reportId: string;
  kind: ProjectReportKind;
  attempt: number;
  /** 24:00 Asia/Shanghai on the due day, ISO with +08:00. */
  dueAt: string;
  reminders: Reminder[];
}

export interface ProjectReportInput {
  projectId: string;
  reportId: string;
  payload: { summary: string; outcomes?: string[] | undefined };
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ReportDecision {
  passed: boolean;
  score: number | null;
  /** A final report that did not pass may be resubmitted once. */
  mayResubmit: boolean;
}

export interface ExtensionRequest {
  projectId: string;
  months: number;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ExtensionDecision {
  projectId: string;
  workflowId: string;
  approve: boolean;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

interface ProjectContext extends ProjectRow {
  /** The programme's rules (research_project). */
  rules: ProgrammeRow['rules'];
}

async function projectContext(db: Db, projectId: string): Promise<ProjectContext> {
  const p = await findProject(db, projectId);
  if (!p) refuse('PROJECT_NOT_FOUND', projectId);
  return { ...p, rules: (await findProgramme(db, p.programme))!.rules };
}

const mailOf = (p: ProjectContext): ProjectMailContext => ({
  institutionName: p.institutionName,
  projectTitle: p.title,
});

const projectRules = (p: ProjectContext) =>
  p.rules.project ?? { durationYears: 2, reportWorkingDays: 20, passMark: 60, maxExtensionMonths: 12 };

export function createProjectActivities({ db, outbox, calendar, staffEmail }: ActivityDeps) {
  return {
    /**
     * At 认定 of a research_project round: each approved application becomes a project (立项), starting today
     * for the programme's duration. Idempotent: a project per application.
     */
    async createProjects(input: {
      roundId: string;
      today: string;
    }): Promise<{ projectId: string; institutionId: string }[]> {
      return db.transaction(async (trx) => {
        const round = await trx('rounds').where({ id: input.roundId }).first<{ programme: string }>('programme');
        const programme = (await findProgramme(trx, round.programme))!;
        const years = programme.rules.project?.durationYears ?? 2;
        const approved = await trx('applications as a')
          .leftJoin('application_members as m', (j) => {
            j.on('m.application_id', 'a.id').andOnVal('m.role', 'principal');
          })
          .where({ 'a.round_id': input.roundId, 'a.status': 'approved' })
          .orderBy('a.id')
          .select<
            {
              id: string;
              institution_id: string;
              title_zh: string;
              field_key: string | null;
              person_id: string | null;
            }[]
          >('a.id', 'a.institution_id', 'a.title_zh', 'a.field_key', 'm.person_id');
        if (approved.length > 0) {
          await trx('projects')
            .insert(
              approved.map((a) => ({
                application_id: a.id,
                institution_id: a.institution_id,
                principal_person_id: a.person_id,
                title_zh: a.title_zh,
                status: 'active',
                starts_on: input.today,
                ends_on: sameDayMonthsLater(input.today, years * 12),
                programme: round.programme,
                field_key: a.field_key,
              })),
            )
            .onConflict('application_id')
            .ignore();
        }
        const rows = await trx('projects as p')
          .join('applications as a', 'a.id', 'p.application_id')
          .where('a.round_id', input.roundId)
          .orderBy('p.id')
          .select<{ id: string; institution_id: string }[]>('p.id', 'p.institution_id');
        return rows.map((r) => ({ projectId: r.id, institutionId: r.institution_id }));
      });
    },

    /** 立项: the project's workflow takes over; the applicant is told (once). */
    async startProject(input: { projectId: string; workflowId: string }): Promise<ProjectPlan> {
      const p = await projectContext(db, input.projectId);
      await db('projects').where({ id: p.id }).update({ workflow_id: input.workflowId });
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_approved`,
        workflowId: input.workflowId,
        purpose: 'project_approved',
        recipient: p.contactEmail,
        ...projectApproved({ ...mailOf(p), startsOn: p.startsOn, endsOn: p.endsOn }),
      });
      const months = projectRules(p).durationYears * 12;
      return {
        startsOn: p.startsOn,
        endsOn: p.extendedTo ?? p.endsOn,
        midtermOn: sameDayMonthsLater(p.startsOn, months / 2),
      };
    },

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
      await db('project_reports')
        .insert({
          project_id: p.id,
          kind: input.kind,
          attempt: input.attempt,
          due_day: due.lastDay,
          due_at: due.endsAt,
        })
        .onConflict(['project_id', 'kind', 'attempt'])
        .ignore();
      const report = await db('project_reports')
        .where({ project_id: p.id, kind: input.kind, attempt: input.attempt })
        .first<{ id: string; due_day: string; due_at: Date }>('id', 'due_day', 'due_at');
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_report_request/${report.id}`,
        workflowId: input.workflowId,
        purpose: 'project_report_request',
        recipient: p.contactEmail,
        ...projectReportRequest({
          ...mailOf(p),
          kind: input.kind,
          attempt: input.attempt,
          due: report.due_at,
          dueEstimated: due.estimated,
        }),
      });
      return {
        reportId: report.id,
        kind: input.kind,
        attempt: input.attempt,
        dueAt: due.endsAtIso,
        reminders: p.rules.call.reminderWorkingDaysBefore.map((k) => {
          const r = cal.workingDaysBefore(report.due_day, k);
          return { k, day: r.day, at: r.atIso };
        }),
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
      const r = await db('project_reports')
        .where({ id: input.reportId })
        .first<{ kind: ProjectReportKind; received_at: Date | null; due_at: Date; due_day: string }>(
          'kind',
          'received_at',
          'due_at',
          'due_day',
        );
      if (r.received_at || p.status !== 'active') return 'not_needed';
      const { calendar: cal } = await calendar.snapshot();
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_report_reminder/${input.reportId}/${input.reminder.k}`,
        workflowId: input.workflowId,
        purpose: 'project_report_reminder',
        recipient: p.contactEmail,
        dueAt: new Date(input.reminder.at),
        ...projectReportReminder({
          ...mailOf(p),
          kind: r.kind,
          due: r.due_at,
          dueEstimated: cal.arrangement(Number(r.due_day.slice(0, 4))).estimated,
          workingDaysLeft: input.reminder.k,
        }),
      });
      return 'sent';
    },

    /** A report the workflow accepted (a late one is marked late); a resubmission before review replaces it. */
    async recordProjectReport(
      input: ProjectReportInput,
    ): Promise<{ reportId: string; receivedAt: string; late: boolean }> {
      return db.transaction(async (trx) => {
        const r = await trx('project_reports')
          .where({ id: input.reportId, project_id: input.projectId })
          .forUpdate()
          .first<{ due_at: Date; received_at: Date | null; kind: string; attempt: number }>(
            'due_at',
            'received_at',
            'kind',
            'attempt',
          );
        const late = new Date(input.receivedAt).getTime() > r.due_at.getTime();
        await trx('project_reports')
          .where({ id: input.reportId })
          .update({ payload: JSON.stringify(input.payload), received_at: input.receivedAt, late });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: r.received_at ? 'project.report_resubmit' : 'project.report_submit',
          subjectKind: 'project',
          subjectId: input.projectId,
          details: { reportId: input.reportId, kind: r.kind, attempt: r.attempt, receivedAt: input.receivedAt, late },
          requestId: input.requestId,
          workflowId: projectWorkflowId(input.projectId),
        });
        return { reportId: input.reportId, receivedAt: input.receivedAt, late };
      });
    },

    /** A report past its due time without arriving: staff are told once (they may terminate the project). */
    async flagOverdueReport(input: { projectId: string; workflowId: string; reportId: string }): Promise<void> {
      const p = await projectContext(db, input.projectId);
      const r = await db('project_reports')
        .where({ id: input.reportId })
        .first<{ kind: ProjectReportKind; due_at: Date }>('kind', 'due_at');
      await db.transaction(async (trx) => {
        const seen = await trx('audit_events')
          .where({ action: 'project.report_overdue', subject_id: p.id })
          .whereRaw(`details ->> 'reportId' = ?`, [input.reportId])
          .first<{ id: string } | undefined>('id');
        if (seen) return;
        await recordAudit(trx, {
          actor: 'system:project',
          role: 'system',
          action: 'project.report_overdue',
          subjectKind: 'project',
          subjectId: p.id,
          reason: `${r.kind === 'midterm' ? '中期检查报告' : '结项报告'}已于 ${formatInstantZh(r.due_at)} 截止，逾期未交`,
          details: { reportId: input.reportId, kind: r.kind },
          workflowId: input.workflowId,
        });
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/project_report_overdue/${input.reportId}`,
            workflowId: input.workflowId,
            purpose: 'project_report_overdue',
            recipient: staffEmail,
            ...projectReportOverdue({ ...mailOf(p), kind: r.kind, due: r.due_at }),
          },
          trx,
        );
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'project_report_overdue' });
    },

    /** The experts' review decides the report: 通过 at or above the pass mark; the applicant is told why. */
    async decideProjectReport(input: {
      projectId: string;
      workflowId: string;
      reportId: string;
    }): Promise<ReportDecision> {
      const p = await projectContext(db, input.projectId);
      const passMark = projectRules(p).passMark;
      const result = await db('review_results as rr')
        .join('reviews as r', 'r.id', 'rr.review_id')
        .where({ 'r.subject_kind': 'project_report', 'r.subject_id': input.reportId })
        .first<{ score: string | null; valid_scores: number } | undefined>('rr.score', 'rr.valid_scores');
      const score = result?.score === null || result?.score === undefined ? null : Number(result.score);
      const passed = score !== null && score >= passMark;
      return db
        .transaction(async (trx) => {
          const r = await trx('project_reports')
            .where({ id: input.reportId })
            .forUpdate()
            .first<{ kind: ProjectReportKind; attempt: number; outcome: string | null; outcome_reason: string | null }>(
              'kind',
              'attempt',
              'outcome',
              'outcome_reason',
            );
          const mayResubmit = r.kind === 'final' && r.attempt === 1 && !passed;
          if (r.outcome) return { passed: r.outcome === 'passed', score, mayResubmit };
          const reason = passed
            ? null
            : score === null
              ? '没有有效的专家评分'
              : `专家评审平均分 ${Number(score.toFixed(2))} 分，低于 ${passMark} 分`;
          await trx('project_reports')
            .where({ id: input.reportId })
            .update({
              outcome: passed ? 'passed' : 'failed',
              outcome_reason: reason,
              score,
              valid_scores: result?.valid_scores ?? 0,
              decided_at: trx.fn.now(),
            });
          const status = r.kind === 'final' ? (passed ? 'completed' : r.attempt > 1 ? 'failed' : 'active') : 'active';
          await trx('projects').where({ id: p.id }).update({ status });
          await recordAudit(trx, {
            actor: 'system:project',
            role: 'system',
            action: `project.${r.kind}_${passed ? 'pass' : 'fail'}`,
            subjectKind: 'project',
            subjectId: p.id,
            reason: reason ?? undefined,
            details: {
              reportId: input.reportId,
              attempt: r.attempt,
              score,
              validScores: result?.valid_scores ?? 0,
              status,
            },
            workflowId: input.workflowId,
          });
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/project_report_result/${input.reportId}`,
              workflowId: input.workflowId,
              purpose: 'project_report_result',
              recipient: p.contactEmail,
              ...projectReportResult({ ...mailOf(p), kind: r.kind, passed, score, reason, mayResubmit }),
            },
            trx,
          );
          return { passed, score, mayResubmit };
        })
        .then(async (d) => {
          await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'project_report_result' });
          return d;
        });
    },

    /** The applicant asks for the one extension (at most the programme's maximum). */
    async requestExtension(input: ExtensionRequest): Promise<{ status: 'pending' }> {
      return db.transaction(async (trx) => {
        const n = await trx('projects')
          .where({ id: input.projectId })
          .whereNull('extension_status')
          .update({ extension_status: 'pending', extension_months: input.months, extension_reason: input.reason });
        if (n === 0) refuse('EXTENSION_USED', '每个项目只能申请一次延期');
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
        return { status: 'pending' as const };
      });
    },

    /** Staff approve or refuse the extension, with a reason; approved, the project ends later. */
    async decideExtension(input: ExtensionDecision): Promise<{ approved: boolean; endsOn: string }> {
      const p = await projectContext(db, input.projectId);
      const months = p.extensionMonths ?? 0;
      const endsOn = input.approve ? sameDayMonthsLater(p.endsOn, months) : (p.extendedTo ?? p.endsOn);
      await db.transaction(async (trx) => {
        const n = await trx('projects')
          .where({ id: p.id, extension_status: 'pending' })
          .update({
            extension_status: input.approve ? 'approved' : 'refused',
            extension_decision_reason: input.reason,
            ...(input.approve ? { extended_to: endsOn, extension_used: true } : {}),
          });
        if (n === 0) return;
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
            ...projectExtensionDecided({ ...mailOf(p), approved: input.approve, months, endsOn, reason: input.reason }),
          },
          trx,
        );
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'project_extension_decided' });
      return { approved: input.approve, endsOn };
    },

    /** Staff terminate the project (撤项) with a reason: it ends at once and nothing more is sent. */
    async terminateProject(input: {
      projectId: string;
      workflowId: string;
      reason: string;
      actor: string;
      requestId?: string | undefined;
    }): Promise<{ status: 'terminated' }> {
      const p = await projectContext(db, input.projectId);
      await db.transaction(async (trx) => {
        const n = await trx('projects')
          .where({ id: p.id, status: 'active' })
          .update({ status: 'terminated', terminated_reason: input.reason });
        if (n === 0) return;
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'project.terminate',
          subjectKind: 'project',
          subjectId: p.id,
          reason: input.reason,
          requestId: input.requestId,
          workflowId: input.workflowId,
        });
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/project_terminated`,
            workflowId: input.workflowId,
            purpose: 'project_terminated',
            recipient: p.contactEmail,
            ...projectTerminated({ ...mailOf(p), reason: input.reason }),
          },
          trx,
        );
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'project_terminated' });
      return { status: 'terminated' };
    },
  };
}
