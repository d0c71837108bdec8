import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DueGroup } from '../activities/review.js';
import type { AggregateResult } from '../activities/review.results.js';
import { shanghaiDayOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, historyNearlyFull, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { LIST_BATCH_SIZES, REVIEW_TIMEOUTS } from '../domain/activity-timeouts.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';
import {
  assignmentDeclinedSignal,
  declineAssignmentUpdate,
  type DeclineRequest,
  getReviewQuery,
  retryAssignmentSignal,
  type ReviewMemory,
  type ReviewStage,
  type ReviewWorkflowInput,
} from './review.messages.js';

const MAIL_BATCH = LIST_BATCH_SIZES.mail;
const acts = proxyActivities<Activities>({
  ...REVIEW_TIMEOUTS,
  retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND', 'EVALUATION_NOT_FOUND', 'REVIEW_NOT_FOUND'] },
});

function freshMemory(): ReviewMemory {
  return {
    stage: 'assigning',
    reviewId: undefined,
    titleZh: undefined,
    groups: [],
    remindersDone: [],
    jobs: [],
    invitationsAfter: undefined,
    declines: false,
    attempts: 0,
    retry: false,
    counts: { assignments: 0, timedOut: 0, replaced: 0, unreplaceable: 0 },
    result: undefined,
    runs: 0,
  };
}

/**
 * Procedure 2, expert review: a reusable child workflow, id `review-<subject>`, of a round's applications, a
 * year's evaluation reports or one rectification report. Assigns k experts per item
 * (回避, field, balanced load), invites them, reminds those with reviews still open, replaces once on a
 * decline or a missed due date, then aggregates, ranks within the quota and reports to staff. Per-review
 * decisions (accept, scores) are recorded by the API against the due time this workflow fixed; a decline is an
 * Update recorded by this workflow's decision activity, so no decline the API answered can miss its replacement.
 */
export async function reviewWorkflow(input: ReviewWorkflowInput): Promise<AggregateResult> {
  const m = input.resume ?? freshMemory();
  m.runs += 1;
  const workflowId = workflowInfo().workflowId;
  const { compression } = input;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  // Reviews received by the due time may finish recording before the sweep.
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  /** Today on the review's calendar (compressed time maps the wall clock back onto it). */
  const today = () => shanghaiDayOf(new Date(calendarTimeFor(Date.now(), compression)));

  setHandler(getReviewQuery, () => ({
    subjectId: input.subjectId,
    stage: m.stage,
    reviewId: m.reviewId,
    titleZh: m.titleZh,
    groups: m.groups,
    attempts: m.attempts,
    counts: m.counts,
    result: m.result,
    runs: m.runs,
  }));
  /** Set when this run is about to continue as new: Updates are turned away (the API retries them). */
  let draining = false;
  setHandler(
    declineAssignmentUpdate,
    async (req) => {
      const declined = await decide(decisions.recordDecline, { ...req, workflowId });
      m.declines = true;
      return declined;
    },
    {
      validator: (_req: DeclineRequest) => {
        if (draining) throw busy('流程正在切换运行记录，请稍后重试');
        if (m.stage === 'aggregating' || m.stage === 'done') throw refusal('ASSIGNMENT_CLOSED', '该评审已结束');
      },
    },
  );
  setHandler(assignmentDeclinedSignal, () => {
    m.declines = true;
  });
  setHandler(retryAssignmentSignal, () => {
    m.retry = true;
  });

  const setStage = (stage: ReviewStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [stage] });
  };

  /** A new due group, keeping only reminders still ahead. */
  const addGroup = (group: DueGroup) => {
    if (m.groups.some((g) => g.dueDay === group.dueDay)) return;
    const now = Date.now();
    m.groups.push({ ...group, reminders: group.reminders.filter((r) => wall(r.at) > now) });
    m.groups.sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  };

  const shouldContinueAsNew = historyNearlyFull;

  if (m.runs === 1) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [RoundYearKey.name]: [input.year],
      [StageKey.name]: [m.stage],
    });
  }

  for (;;) {
    if (shouldContinueAsNew()) {
      draining = true;
      await condition(allHandlersFinished);
      return continueAsNew<typeof reviewWorkflow>({ ...input, resume: m });
    }

    if (m.stage === 'assigning') {
      m.attempts += 1;
      const r = await acts.prepareReview({
        workflowId,
        subjectKind: input.subjectKind,
        subjectId: input.subjectId,
        today: today(),
      });
      m.reviewId = r.reviewId;
      m.titleZh = r.titleZh;
      if (r.status === 'empty') {
        m.result = { items: 0, recommended: 0, underReviewed: 0, spread: 0 };
        setStage('done');
        break;
      }
      if (r.status === 'blocked') {
        await acts.notifyReviewBlocked({
          workflowId,
          reviewId: r.reviewId,
          attempt: m.attempts,
          explanation: r.explanation,
          titleZh: r.titleZh,
        });
        setStage('assignment_blocked');
        continue;
      }
      m.counts.assignments = r.assignments;
      addGroup(r.due);
      setStage('inviting');
      continue;
    }

    if (m.stage === 'assignment_blocked') {
      m.retry = false;
      await condition(() => m.retry || shouldContinueAsNew());
      if (m.retry) setStage('assigning');
      continue;
    }

    if (m.stage === 'inviting') {
      const batch = await acts.sendReviewInvitations({
        workflowId,
        reviewId: m.reviewId!,
        due: m.groups[0]!,
        after: m.invitationsAfter,
        batchSize: MAIL_BATCH,
      });
      m.invitationsAfter = batch.last;
      if (batch.done) setStage('reviewing');
      continue;
    }

    if (m.stage === 'reviewing') {
      if (m.declines) {
        m.declines = false;
        const r = await acts.replaceDeclined({ workflowId, reviewId: m.reviewId!, today: today() });
        m.counts.replaced += r.replaced;
        m.counts.unreplaceable += r.unreplaceable;
        if (r.due) addGroup(r.due);
        continue;
      }
      if (m.jobs.length > 0) {
        const job = m.jobs[0]!;
        const batch = await acts.sendReviewReminders({
          workflowId,
          reviewId: m.reviewId!,
          due: job.group,
          reminder: job.reminder,
          after: job.after,
          batchSize: MAIL_BATCH,
        });
        job.after = batch.last;
        if (batch.done) m.jobs.shift();
        continue;
      }
      if (m.groups.length === 0) {
        setStage('aggregating');
        continue;
      }
      // The next thing due: a reminder of some group, or the close of the earliest group.
      const now = Date.now();
      let next = Infinity;
      for (const g of m.groups) {
        for (const r of g.reminders) next = Math.min(next, wall(r.at));
        next = Math.min(next, wall(g.dueAt) + grace);
      }
      if (now < next) {
        await condition(() => m.declines || shouldContinueAsNew(), next - now);
        continue;
      }
      const group = m.groups.find((g) => g.reminders.some((r) => wall(r.at) <= now) || wall(g.dueAt) + grace <= now)!;
      const reminder = group.reminders.find((r) => wall(r.at) <= now);
      if (reminder) {
        group.reminders = group.reminders.filter((r) => r !== reminder);
        const key = `${group.dueDay}#${reminder.k}`;
        if (!m.remindersDone.includes(key)) {
          m.remindersDone.push(key);
          m.jobs.push({ group, reminder });
        }
        continue;
      }
      m.groups = m.groups.filter((g) => g !== group);
      const r = await acts.closeDueAssignments({
        workflowId,
        reviewId: m.reviewId!,
        dueDay: group.dueDay,
        today: today(),
        at: new Date().toISOString(),
      });
      m.counts.timedOut += r.timedOut;
      m.counts.replaced += r.replaced;
      m.counts.unreplaceable += r.unreplaceable;
      if (r.due) addGroup(r.due);
      continue;
    }

    if (m.stage === 'aggregating') {
      m.result = await acts.aggregateReview({ workflowId, reviewId: m.reviewId! });
      setStage('done');
      continue;
    }

    if (m.stage === 'done') break;
  }
  await condition(allHandlersFinished);
  return m.result!;
}
