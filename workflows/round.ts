import {
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Deadline } from '../activities/round.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { reviewWorkflowId } from '../domain/workflow-ids.js';
import { graceMs, historyNearlyFull, RETRY } from './budget.js';
import { LIST_BATCH_SIZES, ROUND_LIST_TIMEOUTS, ROUND_STEP_TIMEOUTS } from '../domain/activity-timeouts.js';
import { superviseChildren } from './children.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { reviewWorkflow } from './review.js';
import { publiciseAndApprove } from './round.approval.js';
import { judgeCancellation, judgeExtension, judgeReceipt, remindersAhead } from './round.call.js';
import {
  calendarChangedSignal,
  type CancelRequest,
  cancelRoundUpdate,
  type ConfirmShortlistRequest,
  confirmShortlistUpdate,
  extendDeadlineUpdate,
  type ExtendRequest,
  getRoundQuery,
  type RoundInput,
  type RoundResult,
  type RoundStage,
  submitApplicationUpdate,
  type SubmitRequest,
  withdrawApplicationUpdate,
  type WithdrawRequest,
} from './round.messages.js';
import { freshMemory, roundState } from './round.memory.js';
import { awaitOnTimeReceipts } from './receipts.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';

/**
 * Announcements of a changed deadline say whether the previous one was an estimate (issue 14, point 13);
 * histories from before it announce without (the notice then reads as it did).
 */
export const ANNOUNCE_PREVIOUS_ESTIMATE_PATCH = 'announce-previous-estimate';

const MAIL_BATCH = LIST_BATCH_SIZES.mail;
const FORMAL_CHECK_BATCH = LIST_BATCH_SIZES.formalCheck;

const { prepareRound, recordRoundStage, recomputeDeadline, approveRound, createProjects } = proxyActivities<Activities>(
  {
    ...ROUND_STEP_TIMEOUTS,
    retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND', 'PROGRAMME_NOT_FOUND'] },
  },
);
const mail = proxyActivities<Activities>({
  ...ROUND_LIST_TIMEOUTS,
  retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND'] },
});

/**
 * Procedure 1, call for applications: one workflow per programme and year, id `round-<programme>-<year>`.
 *
 * The workflow owns the round's clock. Submissions, withdrawals, extensions and cancellation reach it as
 * Updates whose validators judge them against the deadline it holds; the API only stamps receipt times.
 * Lists live in PostgreSQL: the workflow carries ids, counts and cursors, works through recipients in
 * batches, and continues as new long before its history grows large.
 */
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
  setHandler(getRoundQuery, () => roundState(input, m));

  /** A submission or withdrawal is judged by its receipt time against the deadline this workflow holds. */
  const validateReceipt = (receivedAt: string) => {
    refuseWhileDraining();
    judgeReceipt(m, receivedAt, { opensAtMs, compression });
  };

  setHandler(
    submitApplicationUpdate,
    async (req) => {
      const result = await decide(decisions.recordSubmission, { roundId, ...req });
      if (!result.repeated) m.submissions += 1;
      return result;
    },
    { validator: (req: SubmitRequest) => validateReceipt(req.receivedAt) },
  );

  setHandler(
    withdrawApplicationUpdate,
    async (req) => {
      const result = await decide(decisions.recordWithdrawal, { roundId, ...req });
      m.withdrawals += 1;
      return result;
    },
    { validator: (req: WithdrawRequest) => validateReceipt(req.receivedAt) },
  );

  setHandler(
    extendDeadlineUpdate,
    async (req) => {
      const previous = m.deadline!;
      const result = await decide(decisions.applyExtension, { roundId, ...req, current: previous });
      if (Date.parse(result.deadline.at) > Date.parse(m.deadline!.at)) {
        adoptSchedule(result.deadline, result.reminders);
        m.jobs.push({
          kind: 'announcement',
          announcement: {
            kind: 'deadline_extended',
            occasion: result.deadline.day,
            previousAt: previous.at,
            ...(patched(ANNOUNCE_PREVIOUS_ESTIMATE_PATCH) ? { previousEstimated: previous.estimated } : {}),
            reason: req.reason,
          },
        });
      }
      return m.deadline!;
    },
    {
      validator: (req: ExtendRequest) => {
        refuseWhileDraining();
        judgeExtension(m, req, compression);
      },
    },
  );

  setHandler(
    cancelRoundUpdate,
    async (req) => {
      await decide(decisions.recordCancellation, {
        roundId,
        reason: req.reason,
        actor: req.actor,
        requestId: req.requestId,
        at: req.receivedAt,
      });
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
        judgeCancellation(m);
      },
    },
  );

  setHandler(
    confirmShortlistUpdate,
    async (req) => {
      const result = await decide(decisions.confirmShortlist, { roundId, ...req });
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
  // A failed review or publicity child: staff are emailed and the round waits for their retry.
  const children = superviseChildren();

  // ---- Helpers -------------------------------------------------------------------------------------
  /** Read through a function: a Handler may cancel the round while the main loop awaits an activity. */
  function cancelled(): boolean {
    return m.stage === 'cancelled';
  }

  function setStage(stage: RoundStage) {
    if (stage !== m.stage) log.info('stage changed', { stage });
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
    m.reminders = remindersAhead(m, deadline.day, reminders, opensAtMs, wall, Date.now());
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
          announcement: {
            kind: 'deadline_changed',
            occasion: r.deadline.day,
            previousAt: previous.at,
            ...(patched(ANNOUNCE_PREVIOUS_ESTIMATE_PATCH) ? { previousEstimated: previous.estimated } : {}),
          },
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
      // Submissions received in time but not yet delivered (their sender died, Temporal was out of reach) are
      // waited for; those accepted within the grace window finish recording before the check reads them.
      await awaitOnTimeReceipts(
        { updates: [submitApplicationUpdate.name, withdrawApplicationUpdate.name] },
        (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) <= deadlineMs(),
      );
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
      m.review = await children.run(() =>
        executeChild(reviewWorkflow, {
          workflowId: reviewWorkflowId(roundId),
          args: [
            { subjectKind: 'round', subjectId: roundId, programme: input.programme, year: input.year, compression },
          ],
        }),
      );
      await enterStage(m.review.items > 0 ? 'shortlist_pending' : 'closed');
      continue;
    }

    if (m.stage === 'shortlist_confirmed') {
      await enterStage('publicity');
      continue;
    }

    if (m.stage === 'publicity') {
      await publiciseAndApprove(input, m, { approveRound, createProjects }, children);
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
