import { log } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { cancelProjectReviews } from '../db/repositories/review.answers.js';
import { recordAudit } from '../db/repositories/audit.js';
import { programmeOfLaunch, programmeOfProject, type ProgrammeRow } from '../db/repositories/programmes.js';
import {
  approvedApplicationsOf,
  findProject,
  insertProjects,
  projectsOfRound,
  setProjectWorkflow,
  terminateActiveProject,
  type ProjectRow,
} from '../db/repositories/project.js';
import type { ProjectReportKind } from '../db/repositories/project.reports.js';
import { findRound } from '../db/repositories/round.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import { projectApproved, projectTerminated, type ProjectMailContext } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import { refuse } from './refusal.js';

export type { ProjectReportKind } from '../db/repositories/project.reports.js';

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

export interface ProjectReportInput extends DecisionKeyed {
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
  /** Too few valid expert scores: nothing decided yet, staff decide (`recordProjectReportGrade`). */
  awaitingGrade?: boolean;
}

/** Staff's decision on a report the experts left with too few valid scores (reason required). */
export interface ProjectReportGradeInput extends ProjectReportStep {
  passed: boolean;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ExtensionRequest extends DecisionKeyed {
  projectId: string;
  months: number;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ExtensionDecision extends DecisionKeyed {
  projectId: string;
  workflowId: string;
  approve: boolean;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/** Staff's termination (撤项) of a project, with the reason. */
export interface TerminationInput extends DecisionKeyed {
  projectId: string;
  workflowId: string;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/** A step of a project the workflow takes on its own (no Update): keyed by the activity's identity. */
export interface ProjectReportStep extends DecisionKeyed {
  projectId: string;
  workflowId: string;
  reportId: string;
}

/** A project with its programme's rules. */
export interface ProjectContext extends ProjectRow {
  /** The programme's rules (research_project). */
  rules: ProgrammeRow['rules'];
}

/**
 * The project the workflow acts on, with its programme's rules.
 *
 * @throws `ApplicationFailure` PROJECT_NOT_FOUND (non-retryable) when there is no such project.
 */
export async function projectContext(db: Db, projectId: string): Promise<ProjectContext> {
  const p = await findProject(db, projectId);
  if (!p) refuse('PROJECT_NOT_FOUND', projectId);
  return { ...p, rules: (await programmeOfProject(db, projectId))!.rules };
}

/** The part of every project email that names the project. */
export const projectMail = (p: ProjectContext): ProjectMailContext => ({
  institutionName: p.institutionName,
  projectTitle: p.title,
});

/** The programme's project rules; the SPEC's defaults (2 years, 20 working days, pass mark 60, 12 months) if unset. */
export const projectRules = (p: ProjectContext) =>
  p.rules.project ?? { durationYears: 2, reportWorkingDays: 20, passMark: 60, maxExtensionMonths: 12 };

/** A project's start (立项) and its end by termination (撤项). Reports and the extension have their own files. */
export function createProjectActivities(deps: ActivityDeps) {
  const { db, outbox } = deps;
  const decision = decisionRecorder(deps);
  return {
    /**
     * At 认定 of a research_project round: each approved application becomes a project (立项), starting today
     * for the programme's duration. Idempotent: a project per application.
     */
    async createProjects(input: {
      roundId: string;
      today: string;
    }): Promise<{ projectId: string; institutionId: string }[]> {
      const projects = await db.transaction(async (trx) => {
        const round = (await findRound(trx, input.roundId))!;
        const programme = (await programmeOfLaunch(trx, 'rounds', round.id))!;
        const years = programme.rules.project?.durationYears ?? 2;
        await insertProjects(trx, round.programme, await approvedApplicationsOf(trx, input.roundId), {
          startsOn: input.today,
          endsOn: sameDayMonthsLater(input.today, years * 12),
        });
        return projectsOfRound(trx, input.roundId);
      });
      log.info('projects created', { roundId: input.roundId, projects: projects.length });
      return projects;
    },

    /** 立项: the project's workflow takes over; the applicant is told (once). */
    async startProject(input: { projectId: string; workflowId: string }): Promise<ProjectPlan> {
      const p = await projectContext(db, input.projectId);
      await setProjectWorkflow(db, p.id, input.workflowId);
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/project_approved`,
        workflowId: input.workflowId,
        purpose: 'project_approved',
        recipient: p.contactEmail,
        ...projectApproved({ ...projectMail(p), startsOn: p.startsOn, endsOn: p.endsOn }),
      });
      const months = projectRules(p).durationYears * 12;
      return {
        startsOn: p.startsOn,
        endsOn: p.extendedTo ?? p.endsOn,
        midtermOn: sameDayMonthsLater(p.startsOn, months / 2),
      };
    },

    /**
     * Staff terminate the project (撤项) with a reason: it ends at once and nothing more is sent. Keyed by its
     * Update; a project no longer active is not terminated (nor announced) again.
     *
     * @throws `ApplicationFailure` PROJECT_NOT_FOUND when there is no such project.
     */
    terminateProject: decision(async (input: TerminationInput, { trx, enqueue }): Promise<{ status: 'terminated' }> => {
      const p = await projectContext(trx, input.projectId);
      if (!(await terminateActiveProject(trx, p.id, input.reason))) return { status: 'terminated' };
      // A review under way is cancelled with the project: from now on its scores are refused REVIEW_CLOSED.
      await cancelProjectReviews(trx, p.id);
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
      await enqueue({
        idempotencyKey: `${input.workflowId}/project_terminated`,
        workflowId: input.workflowId,
        purpose: 'project_terminated',
        recipient: p.contactEmail,
        ...projectTerminated({ ...projectMail(p), reason: input.reason }),
      });
      log.info('project terminated', { projectId: p.id });
      return { status: 'terminated' };
    }),
  };
}
