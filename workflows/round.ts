import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { SubmissionResult, WithdrawalResult } from '../activities/round.applications.js';
import type { AggregateResult } from '../activities/review.results.js';
import type { Deadline, Reminder } from '../activities/round.js';
import type { Announcement } from '../activities/round.notices.js';
import type { ConfirmShortlistResult, ShortlistAdjustment } from '../activities/round.shortlist.js';
import { formatInstantZh, shanghaiDayOf, shanghaiInstant } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor, type TimeCompression } from '../domain/compressed-time.js';
import { graceMs, historyNearlyFull, RETRY } from './budget.js';
import { busy, decide, refusal } from './failures.js';
import { memberWorkflow } from './member.js';
import { projectWorkflow } from './project.js';
import { publicityWorkflow, type PublicityResult } from './publicity.js';
import { reviewWorkflow } from './review.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';
import { memberWorkflowId, projectWorkflowId, publicityWorkflowId, reviewWorkflowId } from '../domain/workflow-ids.js';

/** Rounds approved from this version on start a member workflow per directory entry (issue 7). */
export const DIRECTORY_MEMBERS_PATCH = 'directory-members';
/** Rounds of research_project approved from this version on start a project workflow per project (issue 8). */
export const RESEARCH_PROJECTS_PATCH = 'research-projects';

/**
 * Procedure 1, call for applications: one workflow per programme and year, id `round-<programme>-<year>`.
 *
 * The workflow owns the round's clock. Submissions, withdrawals, extensions and cancellation reach it as
 * Updates whose validators judge them against the deadline it holds; the API only stamps receipt times.
 * Lists live in PostgreSQL: the workflow carries ids, counts and cursors, works through recipients in
 * batches, and continues as new long before its history grows large.
 */
export interface RoundInput {
  roundId: string;
  programme: string;
  year: number;
  /** ISO instant the call opens. */
  opensAt: string;
  deadlineDay?: string | undefined;
  launchedBy: string;
  /** Compressed time for demos and end-to-end tests; the API refuses it in production. */
  compression?: TimeCompression | undefined;
  /** Present when this run continues an earlier one. */
  resume?: RoundMemory | undefined;
}

export type RoundStage =
  | 'preparing'
  | 'scheduled'
  | 'call_open'
  | 'call_closing'
  | 'formal_check'
  | 'review'
  | 'shortlist_pending'
  | 'shortlist_confirmed'
  | 'publicity'
  /** 认定: the result is final. */
  | 'approved'
  /** Nothing passed the formal check, so nothing is reviewed: the round ends here. */
  | 'closed'
  | 'cancelled';

/** Stages after the call has closed: no cancellation, no extension, no submission. */
const PAST_CALL: readonly RoundStage[] = [
  'formal_check',
  'review',
  'shortlist_pending',
  'shortlist_confirmed',
  'publicity',
  'approved',
  'closed',
];

/** Emails owed to a list of institutions, sent a batch at a time from a cursor. */
type MailJob =
  | { kind: 'notices'; after?: string | undefined }
  | { kind: 'reminder'; reminder: Reminder; deadline: Deadline; after?: string | undefined }
  | { kind: 'announcement'; announcement: Announcement; after?: string | undefined };

/** Everything a run hands to the next when it continues as new. Small: ids, counts, cursors. */
export interface RoundMemory {
  stage: RoundStage;
  deadline: Deadline | undefined;
  /** Reminders of the current deadline still to come. */
  reminders: Reminder[];
  /** Reminder occasions done or skipped, as `<deadline day>#<k>`; a reminder is never sent twice. */
  remindersDone: string[];
  jobs: MailJob[];
  graceSeconds: number;
  eligibleInstitutions: number;
  noticesSent: number;
  remindersSent: number;
  submissions: number;
  withdrawals: number;
  formalCheck: { passed: number; failed: number };
  review: AggregateResult | undefined;
  publicity: PublicityResult | undefined;
  approved: number | undefined;
  cancellation: { reason: string; by: string } | undefined;
  calendarChanged: boolean;
  runs: number;
}

/** What the `getRound` query answers: the memory ops need, without the internal cursors. */
export type RoundState = Omit<
  RoundMemory,
  'reminders' | 'remindersDone' | 'jobs' | 'graceSeconds' | 'calendarChanged'
> & {
  roundId: string;
  programme: string;
  year: number;
  opensAt: string;
  upcomingReminders: Reminder[];
  compressed: boolean;
};

export interface RoundResult {
  roundId: string;
  stage: RoundStage;
  noticesSent: number;
  formalCheck: { passed: number; failed: number };
  review: AggregateResult | undefined;
  publicity: PublicityResult | undefined;
  approved: number | undefined;
}

export interface SubmitRequest {
  applicationId: string;
  institutionId: string;
  /** Stamped by the API when the request arrived (ISO). */
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface WithdrawRequest extends SubmitRequest {
  reason?: string | undefined;
}

export interface ExtendRequest {
  deadlineDay: string;
  reason: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface CancelRequest {
  reason: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export const getRoundQuery = defineQuery<RoundState>('getRound');
export const submitApplicationUpdate = defineUpdate<SubmissionResult, [SubmitRequest]>('submitApplication');
export const withdrawApplicationUpdate = defineUpdate<WithdrawalResult, [WithdrawRequest]>('withdrawApplication');
export const extendDeadlineUpdate = defineUpdate<Deadline, [ExtendRequest]>('extendDeadline');
export const cancelRoundUpdate = defineUpdate<{ stage: RoundStage }, [CancelRequest]>('cancelRound');
export interface ConfirmShortlistRequest {
  adjustments: ShortlistAdjustment[];
  actor: string;
  requestId?: string | undefined;
}

/** Staff confirm the recommended list, optionally adjusted (each adjustment with its reason). */
export const confirmShortlistUpdate = defineUpdate<ConfirmShortlistResult, [ConfirmShortlistRequest]>(
  'confirmShortlist',
);
/** Staff entered a year's official arrangement: open rounds compute their deadlines again. */
export const calendarChangedSignal = defineSignal<[{ calendarVersion: number }]>('calendarChanged');

const MAIL_BATCH = 200;
const FORMAL_CHECK_BATCH = 100;

const { prepareRound, recordRoundStage, recomputeDeadline, approveRound, createProjects } = proxyActivities<Activities>(
  {
    startToCloseTimeout: '1 minute',
    retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND', 'PROGRAMME_NOT_FOUND'] },
  },
);
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND'] },
});
/** Activities a person is waiting on (an Update's handler): bounded, so a refusal comes back promptly. */
const decisions = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { ...RETRY, maximumAttempts: 5 },
});

function freshMemory(): RoundMemory {
  return {
    stage: 'preparing',
    deadline: undefined,
    reminders: [],
    remindersDone: [],
    jobs: [],
    graceSeconds: 600,
    eligibleInstitutions: 0,
    noticesSent: 0,
    remindersSent: 0,
    submissions: 0,
    withdrawals: 0,
    formalCheck: { passed: 0, failed: 0 },
    review: undefined,
    publicity: undefined,
    approved: undefined,
    cancellation: undefined,
    calendarChanged: false,
    runs: 0,
  };
}

export async function roundWorkflow(input: RoundInput): Promise<RoundResult> {
  const m = input.resume ?? freshMemory();
  m.runs += 1;
  const { roundId, compression } = input;
  const opensAtMs = Date.parse(input.opensAt);
  const wall = (calendarIso: string) => wallTimeFor(Date.parse(calendarIso), compression);
  const deadlineMs = () => Date.parse(m.deadline!.at);
  /** Bumped whenever the deadline or the reminders change, so that a wait in progress starts over. */
  let schedule = 0;
  /**
   * Set when this run is about to continue as new: new Updates are turned away (the API retries them on
   * the next run, with the receipt time it stamped) so that those in flight can finish.
   */
  let draining = false;
  const refuseWhileDraining = () => {
    if (draining) throw busy('流程正在切换运行记录，请稍后重试');
  };

  // ---- What people see and do ----------------------------------------------------------------------
  setHandler(getRoundQuery, () => {
    const {
      reminders,
      remindersDone: _done,
      jobs: _jobs,
      graceSeconds: _grace,
      calendarChanged: _changed,
      ...rest
    } = m;
    return {
      ...rest,
      roundId,
      programme: input.programme,
      year: input.year,
      opensAt: input.opensAt,
      upcomingReminders: reminders,
      compressed: compression !== undefined,
    };
  });

  /** A submission or withdrawal is judged by its receipt time against the deadline this workflow holds. */
  const validateReceipt = (receivedAt: string) => {
    refuseWhileDraining();
    if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
    if (m.stage === 'preparing' || m.stage === 'scheduled') {
      throw refusal('CALL_NOT_OPEN', `申报将于 ${formatInstantZh(new Date(opensAtMs))} 开始`);
    }
    const received = calendarTimeFor(Date.parse(receivedAt), compression);
    if (Number.isNaN(received)) throw refusal('VALIDATION_FAILED', 'receivedAt is not an ISO instant');
    const deadline = new Date(deadlineMs());
    if (received > deadline.getTime()) {
      throw refusal(
        'DEADLINE_PASSED',
        `申报已于 ${formatInstantZh(deadline)} 截止（本次接收时间 ${formatInstantZh(new Date(received))}），逾期不予受理`,
      );
    }
    if (m.stage !== 'call_open' && m.stage !== 'call_closing') {
      throw refusal(
        'DEADLINE_PASSED',
        `申报已于 ${formatInstantZh(deadline)} 截止，截止后 ${Math.round(m.graceSeconds / 60)} 分钟的处理宽限期也已结束，不再受理`,
      );
    }
  };

  setHandler(
    submitApplicationUpdate,
    async (req) => {
      const result = await decide(() => decisions.recordSubmission({ roundId, ...req }));
      if (!result.repeated) m.submissions += 1;
      return result;
    },
    { validator: (req: SubmitRequest) => validateReceipt(req.receivedAt) },
  );

  setHandler(
    withdrawApplicationUpdate,
    async (req) => {
      const result = await decide(() => decisions.recordWithdrawal({ roundId, ...req }));
      m.withdrawals += 1;
      return result;
    },
    { validator: (req: WithdrawRequest) => validateReceipt(req.receivedAt) },
  );

  setHandler(
    extendDeadlineUpdate,
    async (req) => {
      const previous = m.deadline!;
      const result = await decide(() => decisions.applyExtension({ roundId, ...req, current: previous }));
      if (Date.parse(result.deadline.at) > Date.parse(m.deadline!.at)) {
        adoptSchedule(result.deadline, result.reminders);
        m.jobs.push({
          kind: 'announcement',
          announcement: {
            kind: 'deadline_extended',
            occasion: result.deadline.day,
            previousAt: previous.at,
            reason: req.reason,
          },
        });
      }
      return m.deadline!;
    },
    {
      validator: (req: ExtendRequest) => {
        refuseWhileDraining();
        if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
        const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
        if (!m.deadline || (m.stage !== 'scheduled' && m.stage !== 'call_open') || received > deadlineMs()) {
          throw refusal('CALL_CLOSED', '申报已截止，不能再延期');
        }
        const requested = shanghaiInstant(req.deadlineDay, 24);
        if (Number.isNaN(requested.getTime()) || requested.getTime() <= deadlineMs()) {
          throw refusal(
            'DEADLINE_NOT_LATER',
            `新的截止时间 ${formatInstantZh(requested)} 须晚于当前截止时间 ${formatInstantZh(new Date(deadlineMs()))}`,
          );
        }
      },
    },
  );

  setHandler(
    cancelRoundUpdate,
    async (req) => {
      await decide(() =>
        decisions.recordCancellation({
          roundId,
          reason: req.reason,
          actor: req.actor,
          requestId: req.requestId,
          at: req.receivedAt,
        }),
      );
      m.cancellation = { reason: req.reason, by: req.actor };
      m.reminders = [];
      m.jobs = [
        { kind: 'announcement', announcement: { kind: 'round_cancelled', occasion: 'cancel', reason: req.reason } },
      ];
      setStage('cancelled');
      return { stage: m.stage };
    },
    {
      validator: (_req: CancelRequest) => {
        refuseWhileDraining();
        if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
        if (PAST_CALL.includes(m.stage)) {
          throw refusal('ROUND_NOT_CANCELLABLE', '申报已截止并进入形式审查，不能撤销');
        }
      },
    },
  );

  setHandler(
    confirmShortlistUpdate,
    async (req) => {
      const result = await decide(() => decisions.confirmShortlist({ roundId, ...req }));
      await enterStage('shortlist_confirmed');
      return result;
    },
    {
      validator: (_req: ConfirmShortlistRequest) => {
        if (m.stage === 'shortlist_confirmed' || m.stage === 'publicity' || m.stage === 'approved') {
          throw refusal('SHORTLIST_CONFIRMED', '推荐名单已确认');
        }
        if (m.stage !== 'shortlist_pending') throw refusal('SHORTLIST_NOT_READY', '专家评审尚未完成，推荐名单尚未产生');
      },
    },
  );

  setHandler(calendarChangedSignal, () => {
    m.calendarChanged = true;
  });

  // ---- Helpers -------------------------------------------------------------------------------------
  /** Read through a function: a Handler may cancel the round while the main loop awaits an activity. */
  function cancelled(): boolean {
    return m.stage === 'cancelled';
  }

  function setStage(stage: RoundStage) {
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [stage] });
  }

  async function enterStage(stage: RoundStage, closed = false) {
    if (cancelled()) return;
    setStage(stage);
    await recordRoundStage({ roundId, stage, at: new Date().toISOString(), closed });
  }

  /** A new deadline and its reminders; reminders already done, already past, or before the opening are dropped. */
  function adoptSchedule(deadline: Deadline, reminders: Reminder[]) {
    m.deadline = deadline;
    const now = Date.now();
    m.reminders = reminders.filter(
      (r) => !m.remindersDone.includes(`${deadline.day}#${r.k}`) && Date.parse(r.at) >= opensAtMs && wall(r.at) > now,
    );
    schedule += 1;
  }

  const shouldContinueAsNew = historyNearlyFull;

  /** Waits until a wall-clock instant, or until something needs attention first. */
  async function waitUntilOrInterrupted(dueWallMs: number): Promise<void> {
    const seen = schedule;
    const remaining = dueWallMs - Date.now();
    if (remaining <= 0) return;
    await condition(
      () =>
        schedule !== seen || m.calendarChanged || m.jobs.length > 0 || m.stage === 'cancelled' || shouldContinueAsNew(),
      remaining,
    );
  }

  /** One batch of the first mail job; returns once the batch is sent. */
  async function runMailJob(): Promise<void> {
    const job = m.jobs[0]!;
    const cursor = { roundId, after: job.after, batchSize: MAIL_BATCH };
    const batch =
      job.kind === 'notices'
        ? await mail.sendCallNotices(cursor)
        : job.kind === 'reminder'
          ? await mail.sendCallReminders({ ...cursor, reminder: job.reminder, deadline: job.deadline })
          : await mail.sendRoundAnnouncement({ ...cursor, announcement: job.announcement });
    if (job.kind === 'notices') m.noticesSent += batch.sent + batch.alreadySent;
    if (job.kind === 'reminder') m.remindersSent += batch.sent + batch.alreadySent;
    job.after = batch.last;
    if (batch.done && m.jobs[0] === job) m.jobs.shift();
  }

  // ---- The procedure -------------------------------------------------------------------------------
  if (m.runs === 1) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [RoundYearKey.name]: [input.year],
      [StageKey.name]: [m.stage],
    });
  }

  if (m.stage === 'preparing') {
    const prepared = await prepareRound({
      roundId,
      programme: input.programme,
      year: input.year,
      opensAt: input.opensAt,
      deadlineDay: input.deadlineDay,
      launchedBy: input.launchedBy,
    });
    m.graceSeconds = prepared.graceSeconds;
    m.eligibleInstitutions = prepared.eligibleInstitutions;
    adoptSchedule(prepared.deadline, prepared.reminders);
    await enterStage('scheduled');
  }

  for (;;) {
    if (shouldContinueAsNew()) {
      draining = true;
      await condition(allHandlersFinished);
      return continueAsNew<typeof roundWorkflow>({ ...input, resume: m });
    }
    if (m.jobs.length > 0) {
      await runMailJob();
      continue;
    }
    if (m.stage === 'cancelled' || m.stage === 'approved' || m.stage === 'closed') break;

    if (m.calendarChanged && (m.stage === 'scheduled' || m.stage === 'call_open')) {
      m.calendarChanged = false;
      const previous = m.deadline!;
      const r = await recomputeDeadline({ roundId, opensAt: input.opensAt, current: previous });
      if (cancelled()) continue;
      adoptSchedule(r.deadline, r.reminders);
      if (r.moved) {
        m.jobs.push({
          kind: 'announcement',
          announcement: { kind: 'deadline_changed', occasion: r.deadline.day, previousAt: previous.at },
        });
      }
      continue;
    }
    m.calendarChanged = false;

    if (m.stage === 'scheduled') {
      if (Date.now() < wallTimeFor(opensAtMs, compression)) {
        await waitUntilOrInterrupted(wallTimeFor(opensAtMs, compression));
        continue;
      }
      await enterStage('call_open');
      m.jobs.push({ kind: 'notices' });
      continue;
    }

    if (m.stage === 'call_open') {
      const due = m.reminders[0];
      const next = due && Date.parse(due.at) < deadlineMs() ? wall(due.at) : wall(m.deadline!.at);
      if (Date.now() < next) {
        await waitUntilOrInterrupted(next);
        continue;
      }
      if (due && next === wall(due.at)) {
        m.reminders.shift();
        m.remindersDone.push(`${m.deadline!.day}#${due.k}`);
        m.jobs.push({ kind: 'reminder', reminder: due, deadline: m.deadline! });
        continue;
      }
      await enterStage('call_closing');
      continue;
    }

    if (m.stage === 'call_closing') {
      const grace = graceMs(m.graceSeconds, compression);
      const closesAt = wall(m.deadline!.at) + grace;
      if (Date.now() < closesAt) {
        await waitUntilOrInterrupted(closesAt);
        continue;
      }
      // Submissions accepted within the grace window finish recording before the check reads them.
      await condition(allHandlersFinished);
      if (m.stage !== 'call_closing') continue;
      await enterStage('formal_check', true);
      continue;
    }

    if (m.stage === 'formal_check') {
      const batch = await mail.formalCheckBatch({ roundId, batchSize: FORMAL_CHECK_BATCH });
      m.formalCheck.passed += batch.passed;
      m.formalCheck.failed += batch.failed;
      if (batch.done) await enterStage(m.formalCheck.passed > 0 ? 'review' : 'closed');
      continue;
    }

    if (m.stage === 'review') {
      // Procedure 2 as a child workflow; the round waits for its ranking.
      m.review = await executeChild(reviewWorkflow, {
        workflowId: reviewWorkflowId(roundId),
        args: [{ subjectKind: 'round', subjectId: roundId, programme: input.programme, year: input.year, compression }],
      });
      await enterStage(m.review.items > 0 ? 'shortlist_pending' : 'closed');
      continue;
    }

    if (m.stage === 'shortlist_confirmed') {
      await enterStage('publicity');
      continue;
    }

    if (m.stage === 'publicity') {
      // Procedure 3 as a child workflow; its end (every objection resolved, every 递补 publicised) is 认定.
      m.publicity = await executeChild(publicityWorkflow, {
        workflowId: publicityWorkflowId(roundId),
        args: [{ subjectKind: 'round', subjectId: roundId, programme: input.programme, year: input.year, compression }],
      });
      const approved = await approveRound({
        roundId,
        workflowId: roundId,
        today: shanghaiDayOf(new Date(calendarTimeFor(Date.now(), compression))),
        at: new Date().toISOString(),
      });
      m.approved = approved.approved;
      // Each directory entry lives on as its own member workflow, outliving the round. Rounds approved by
      // the version before directory members (histories without these child starts) replay without them.
      const admittedOn = shanghaiDayOf(new Date(calendarTimeFor(Date.now(), compression)));
      const entries = patched(DIRECTORY_MEMBERS_PATCH) ? approved.entries : [];
      for (const entry of entries) {
        try {
          await startChild(memberWorkflow, {
            workflowId: memberWorkflowId(entry.entryId),
            args: [
              {
                entryId: entry.entryId,
                programme: input.programme,
                institutionId: entry.institutionId,
                admittedOn,
                compression,
              },
            ],
            parentClosePolicy: ParentClosePolicy.ABANDON,
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      // A research project lives on as its own workflow from 立项 (rounds approved before this version did not
      // start them: their histories replay without).
      if (input.programme === 'research_project' && patched(RESEARCH_PROJECTS_PATCH)) {
        const projects = await createProjects({ roundId, today: admittedOn });
        for (const p of projects) {
          try {
            await startChild(projectWorkflow, {
              workflowId: projectWorkflowId(p.projectId),
              args: [
                { projectId: p.projectId, programme: input.programme, institutionId: p.institutionId, compression },
              ],
              parentClosePolicy: ParentClosePolicy.ABANDON,
            });
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          }
        }
      }
      await enterStage('approved');
      continue;
    }

    if (m.stage === 'shortlist_pending') {
      await condition(() => m.stage !== 'shortlist_pending' || shouldContinueAsNew());
      continue;
    }
  }

  await condition(allHandlersFinished);
  return {
    roundId,
    stage: m.stage,
    noticesSent: m.noticesSent,
    formalCheck: m.formalCheck,
    review: m.review,
    publicity: m.publicity,
    approved: m.approved,
  };
}
