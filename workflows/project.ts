import {
  allHandlersFinished,
  CancellationScope,
  condition,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { shanghaiDayOf, shanghaiInstant, yearOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { superviseChildren } from './children.js';
import { decide, decisions, refusal } from './failures.js';
import { reviewWorkflow } from './review.js';
import { InstitutionIdKey, ProgrammeKey, StageKey } from './search-attributes.js';
import {
  decideExtensionUpdate,
  type ExtensionDecisionInput,
  type ExtensionRequestInput,
  getProjectQuery,
  gradeProjectReportUpdate,
  type ProjectInput,
  type ProjectReportGradeRequest,
  type ProjectMemory,
  type ProjectReportRequest,
  type ProjectStage,
  requestExtensionUpdate,
  submitProjectReportUpdate,
  terminateProjectUpdate,
  type TerminateRequest,
} from './project.messages.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: RETRY });

const ENDED: readonly ProjectStage[] = ['completed', 'failed', 'terminated'];

/**
 * A research project after 立项 (one workflow per project, id `project-<projectId>`, started at 认定 of a
 * research_project round): the 立项 notice; at the midpoint the 中期检查 (report due in working days,
 * reminders to a project without one, expert review, result recorded); at the end the 结项 (final report,
 * expert review → 通过 / 不通过 with reasons; 不通过 may resubmit once). One extension of at most a year on
 * application, decided by staff; overdue reports are flagged to staff; staff may terminate (撤项), after which
 * nothing more is sent. Dates are computed in activities.
 */
export async function projectWorkflow(input: ProjectInput): Promise<ProjectMemory> {
  const { projectId, compression } = input;
  const workflowId = workflowInfo().workflowId;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  const today = () => shanghaiDayOf(calendarNow());
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  const m: ProjectMemory = {
    stage: 'starting',
    plan: undefined,
    next: 'midterm',
    report: undefined,
    extension: 'none',
    results: [],
  };
  const ended = () => ENDED.includes(m.stage);
  const setStage = (stage: ProjectStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [`project_${stage}`] });
  };
  const closed = () => refusal('PROJECT_CLOSED', '项目已结项、未通过结项或已撤项');

  setHandler(getProjectQuery, () => m);
  // A failed review child: staff are emailed and the project waits for their retry (or its termination).
  const children = superviseChildren();

  setHandler(
    submitProjectReportUpdate,
    async (req) => {
      const r = m.report!;
      const { kind: _kind, ...rest } = req;
      const recorded = await decide(decisions.recordProjectReport, { ...rest, projectId, reportId: r.reportId });
      r.received = true;
      return recorded;
    },
    {
      validator: (req: ProjectReportRequest) => {
        if (ended()) throw closed();
        if (m.stage !== 'reporting' || !m.report || m.report.kind !== req.kind) {
          throw refusal(
            'PROJECT_REPORT_NOT_OPEN',
            `当前不受理${req.kind === 'midterm' ? '中期检查报告' : '结项报告'}${m.report ? `（待交：${m.report.kind === 'midterm' ? '中期检查报告' : '结项报告'}）` : ''}`,
          );
        }
      },
    },
  );

  setHandler(
    requestExtensionUpdate,
    (req) =>
      decide(decisions.requestExtension, { ...req, projectId }).then((r) => {
        m.extension = 'pending';
        return r;
      }),
    {
      validator: (_req: ExtensionRequestInput) => {
        if (ended()) throw closed();
        if (m.extension !== 'none') throw refusal('EXTENSION_USED', '每个项目只能申请一次延期');
        if (m.next === 'final' && m.stage !== 'running') {
          throw refusal('PROJECT_REPORT_NOT_OPEN', '结项已经开始，不能再申请延期');
        }
      },
    },
  );

  setHandler(
    decideExtensionUpdate,
    async (req) => {
      const r = await decide(decisions.decideExtension, { ...req, projectId, workflowId });
      m.extension = r.approved ? 'approved' : 'refused';
      if (r.approved) m.plan = { ...m.plan!, endsOn: r.endsOn };
      return r;
    },
    {
      validator: (_req: ExtensionDecisionInput) => {
        if (ended()) throw closed();
        if (m.extension !== 'pending') throw refusal('EXTENSION_NOT_PENDING', '没有待审批的延期申请');
      },
    },
  );

  setHandler(
    terminateProjectUpdate,
    async (req) => {
      const r = await decide(decisions.terminateProject, { ...req, projectId, workflowId });
      setStage('terminated');
      return r;
    },
    {
      validator: (_req: TerminateRequest) => {
        if (ended()) throw closed();
      },
    },
  );

  setHandler(
    gradeProjectReportUpdate,
    async (req) => {
      const r = await decide(decisions.recordProjectReportGrade, {
        ...req,
        projectId,
        workflowId,
        reportId: m.report!.reportId,
      });
      m.staffDecision = r;
      return r;
    },
    {
      validator: (_req: ProjectReportGradeRequest) => {
        if (ended()) throw closed();
        if (m.stage !== 'awaiting_grade' || !m.report || m.staffDecision) {
          throw refusal('GRADE_NOT_PENDING', '该项目没有待工作人员认定的报告');
        }
      },
    },
  );

  upsertSearchAttributes({
    [ProgrammeKey.name]: [input.programme],
    [InstitutionIdKey.name]: [input.institutionId],
  });
  m.plan = await acts.startProject({ projectId, workflowId });
  setStage('running');

  while (!ended()) {
    if (m.stage === 'running') {
      // Wait for the day the next report is asked for (09:00), or a change of plan (an extension).
      const day = m.next === 'midterm' ? m.plan.midtermOn : m.plan.endsOn;
      const at = wallTimeFor(shanghaiInstant(day, 9).getTime(), compression);
      if (Date.now() < at) {
        const endsOn = m.plan.endsOn;
        await condition(() => ended() || m.plan!.endsOn !== endsOn, at - Date.now());
        continue;
      }
      const attempt = m.results.filter((r) => r.kind === m.next).length + 1;
      const opened = await acts.openProjectReport({ projectId, workflowId, kind: m.next, attempt, today: today() });
      const now = Date.now();
      m.report = {
        ...opened,
        reminders: opened.reminders.filter((r) => wall(r.at) > now),
        received: false,
        overdueFlagged: false,
      };
      setStage('reporting');
      continue;
    }

    if (m.stage === 'reporting') {
      const r = m.report!;
      const now = Date.now();
      const reminder = r.reminders[0];
      if (reminder && wall(reminder.at) <= now) {
        r.reminders.shift();
        if (!r.received) await acts.sendProjectReminder({ projectId, workflowId, reportId: r.reportId, reminder });
        continue;
      }
      const closesAt = wall(r.dueAt) + grace;
      if (now >= closesAt) {
        if (!r.received) {
          if (!r.overdueFlagged) {
            r.overdueFlagged = true;
            await acts.flagOverdueReport({ projectId, workflowId, reportId: r.reportId });
          }
          // A late report is still reviewed (and marked late); staff may terminate meanwhile.
          await condition(() => ended() || r.received);
          continue;
        }
        await condition(allHandlersFinished);
        setStage('reviewing');
        continue;
      }
      await condition(() => ended(), Math.min(reminder ? wall(reminder.at) : Infinity, closesAt) - now);
      continue;
    }

    // m.stage === 'reviewing'
    const r = m.report!;
    // Terminated during the review, the review is cancelled too: nobody is reminded of a closed project.
    const scope = new CancellationScope();
    const review = scope.run(() =>
      children.run(() =>
        executeChild(reviewWorkflow, {
          workflowId: `review-project-report-${r.reportId}`,
          args: [
            {
              subjectKind: 'project_report',
              subjectId: r.reportId,
              programme: input.programme,
              year: yearOf(today()),
              compression,
            },
          ],
        }),
      ),
    );
    const outcome = await Promise.race([
      review.then(() => 'reviewed' as const),
      condition(ended).then(() => 'ended' as const),
    ]);
    if (outcome === 'ended') {
      scope.cancel();
      await review.catch(() => undefined);
    }
    if (ended()) break;
    let decided = await acts.decideProjectReport({ projectId, workflowId, reportId: r.reportId });
    // Too few valid expert scores: nothing was decided; staff are asked and decide (never failed for that).
    if (decided.awaitingGrade && patched('project-report-staff-grade')) {
      setStage('awaiting_grade');
      await condition(() => ended() || m.staffDecision !== undefined);
      await condition(allHandlersFinished);
      if (ended()) break;
      decided = m.staffDecision!;
      m.staffDecision = undefined;
    }
    m.results.push({ kind: r.kind, attempt: r.attempt, passed: decided.passed, score: decided.score });
    m.report = undefined;
    if (r.kind === 'midterm') {
      // The midterm result is recorded; the project runs on to its end either way (staff may terminate).
      m.next = 'final';
      setStage('running');
    } else if (decided.passed) {
      setStage('completed');
    } else if (decided.mayResubmit) {
      const opened = await acts.openProjectReport({ projectId, workflowId, kind: 'final', attempt: 2, today: today() });
      const now = Date.now();
      m.report = {
        ...opened,
        reminders: opened.reminders.filter((x) => wall(x.at) > now),
        received: false,
        overdueFlagged: false,
      };
      setStage('reporting');
    } else {
      setStage('failed');
    }
  }

  await condition(allHandlersFinished);
  return m;
}
