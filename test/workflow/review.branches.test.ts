import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant, type Day } from '../../domain/calendar/days.js';
import { ActivityStubs, type ActivityOutput, type Stubs } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';
import { PROCESSING_GRACE_SECONDS } from '../../workflows/budget.js';

/**
 * The review workflow's branching with stubbed activities on the time-skipping server: a decline is replaced
 * at once, an assignment past its due date is closed (and replaced, or counted unreplaceable), a blocked
 * assignment waits for staff's retry. The stubs answer what the real activities answer; the database and the
 * mail are not involved (the end-to-end tests cover them).
 */
/** The workflows' processing grace after a deadline (workflows/budget.ts), in ms. */
const GRACE_MS = PROCESSING_GRACE_SECONDS * 1000;
const DAY_MS = 86_400_000;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

/** A due group `days` Shanghai days after `today`: due at 24:00 (ISO with +08:00), reminders as given. */
function dueGroup(today: Day, days: number, reminderDaysBefore: number[] = []) {
  const dueDay = addDays(today, days);
  return {
    dueDay,
    dueAt: shanghaiInstant(addDays(dueDay, 1), 0).toISOString(),
    reminders: reminderDaysBefore.map((k) => ({
      k,
      day: addDays(dueDay, -k),
      at: shanghaiInstant(addDays(dueDay, -k), 9).toISOString(),
    })),
  };
}

const aggregate: ActivityOutput<'aggregateReview'> = { items: 2, recommended: 1, underReviewed: 0, spread: 4 };
const noChange: ActivityOutput<'closeDueAssignments'> = { timedOut: 0, replaced: 0, unreplaceable: 0, due: undefined };

/** Six assignments of two applications, due as given. */
function assigned(reviewId: string, due: ReturnType<typeof dueGroup>): ActivityOutput<'prepareReview'> {
  const titleZh = '2091年度产教融合品牌项目评审';
  return { status: 'assigned', reviewId, titleZh, items: 2, assignments: 6, maxLoad: 2, bound: 3, due };
}

/** Stubs of every activity the review workflow calls; `overrides` replace some. */
function reviewStubs(today: Day, overrides: Stubs = {}) {
  return new ActivityStubs({
    prepareReview: () => assigned('rv-1', dueGroup(today, 5)),
    notifyReviewBlocked: () => undefined,
    sendReviewInvitations: () => ({ sent: 6, alreadySent: 0, last: 'as-6', done: true }),
    sendReviewReminders: () => ({ sent: 2, alreadySent: 0, last: 'as-2', done: true }),
    replaceDeclined: () => noChange,
    closeDueAssignments: () => noChange,
    aggregateReview: () => aggregate,
    ...overrides,
  });
}

interface ReviewState {
  stage: string;
  attempts: number;
  counts: { assignments: number; timedOut: number; replaced: number; unreplaceable: number };
}

/** One review workflow of subject `round-<name>` on `stubs`, driven by `run`. */
function withReview<T>(name: string, stubs: ActivityStubs, run: (handle: WorkflowHandle) => Promise<T>): Promise<T> {
  return withStubbedWorkflow(
    env,
    {
      workflowType: 'reviewWorkflow',
      workflowId: `review-round-${name}`,
      args: [{ subjectKind: 'round', subjectId: `round-${name}`, programme: 'brand_project', year: 2091 }],
      activities: stubs.activities(),
    },
    run,
  );
}

const today = async () => shanghaiDayOf(new Date(await env.currentTimeMs()));

describe('review workflow (stubbed activities)', () => {
  it('when an expert declines, then a replacement is invited at once and its own due date is closed too', async () => {
    const day = await today();
    const replacementDue = dueGroup(day, 8);
    const stubs = reviewStubs(day, {
      replaceDeclined: () => ({ timedOut: 0, replaced: 1, unreplaceable: 0, due: replacementDue }),
    });
    await withReview('decline', stubs, async (handle) => {
      await stubs.called('sendReviewInvitations');
      await handle.signal('assignmentDeclined', { assignmentId: 'as-3' });
      const replaced = await stubs.called('replaceDeclined');
      expect(replaced).toMatchObject({ reviewId: 'rv-1', today: day });
      // The replacement came before any due date passed.
      expect(stubs.inputsOf('closeDueAssignments')).toEqual([]);

      expect(await handle.result()).toEqual(aggregate);
      const closes = stubs.inputsOf('closeDueAssignments');
      expect(closes.map((c) => c.dueDay)).toEqual([addDays(day, 5), replacementDue.dueDay]);
      expect(Date.parse(closes[1]!.at)).toBeGreaterThanOrEqual(Date.parse(replacementDue.dueAt) + GRACE_MS);
      expect(stubs.inputsOf('replaceDeclined')).toHaveLength(1);
      const state = await handle.query<ReviewState>('getReview');
      expect(state).toMatchObject({ stage: 'done', counts: { assignments: 6, replaced: 1, timedOut: 0 } });
    });
  });

  it('when an expert lets the due date pass, then the assignment is closed after the grace, replaced, and the replacement closed in turn', async () => {
    const day = await today();
    const first = dueGroup(day, 5, [1]);
    const second = dueGroup(day, 9);
    const stubs = reviewStubs(day, {
      prepareReview: () => assigned('rv-2', first),
      closeDueAssignments: (input) =>
        input.dueDay === first.dueDay
          ? { timedOut: 1, replaced: 1, unreplaceable: 0, due: second }
          : { timedOut: 1, replaced: 0, unreplaceable: 1, due: undefined },
    });
    await withReview('timeout', stubs, async (handle) => {
      expect(await handle.result()).toEqual(aggregate);
      expect(stubs.names()).toEqual([
        'prepareReview',
        'sendReviewInvitations',
        'sendReviewReminders',
        'closeDueAssignments',
        'closeDueAssignments',
        'aggregateReview',
      ]);
      expect(stubs.inputsOf('sendReviewReminders')[0]).toMatchObject({
        reviewId: 'rv-2',
        reminder: first.reminders[0],
      });
      const closes = stubs.inputsOf('closeDueAssignments');
      expect(closes.map((c) => c.dueDay)).toEqual([first.dueDay, second.dueDay]);
      // Closed once the due time and the processing grace had passed, not before.
      expect(Date.parse(closes[0]!.at)).toBeGreaterThanOrEqual(Date.parse(first.dueAt) + GRACE_MS);
      expect(Date.parse(closes[0]!.at)).toBeLessThan(Date.parse(first.dueAt) + GRACE_MS + DAY_MS);
      expect(stubs.inputsOf('replaceDeclined')).toEqual([]);
      const state = await handle.query<ReviewState>('getReview');
      expect(state.counts).toEqual({ assignments: 6, timedOut: 2, replaced: 1, unreplaceable: 1 });
    });
  });

  it('when no assignment is possible, then staff are told and the review waits for their retry', async () => {
    const day = await today();
    let attempt = 0;
    const stubs = reviewStubs(day, {
      prepareReview: () =>
        ++attempt === 1
          ? { status: 'blocked', reviewId: 'rv-3', titleZh: '评审', explanation: '专家库中该领域专家不足' }
          : assigned('rv-3', dueGroup(day, 5)),
    });
    await withReview('blocked', stubs, async (handle) => {
      const told = await stubs.called('notifyReviewBlocked');
      expect(told).toMatchObject({ reviewId: 'rv-3', attempt: 1, explanation: '专家库中该领域专家不足' });
      // Nobody is invited until staff retry.
      await env.sleep(3 * DAY_MS);
      expect(stubs.inputsOf('sendReviewInvitations')).toEqual([]);
      expect(stubs.inputsOf('prepareReview')).toHaveLength(1);
      await handle.signal('retryAssignment');
      expect(await handle.result()).toEqual(aggregate);
      expect(stubs.inputsOf('prepareReview')).toHaveLength(2);
      expect((await handle.query<ReviewState>('getReview')).attempts).toBe(2);
    });
  });
});

/** An expert's decline as the API sends it. */
const decline = (assignmentId: string, receivedAt: string) => ({
  assignmentId,
  reason: '出差无法按时完成',
  conflict: true,
  actor: 'expert:e1',
  requestId: 'req-1',
  receivedAt,
});

/**
 * Issue 13 point 5: a decline reaches the review workflow durably. The API sends it as the Update
 * `declineAssignment`, whose decision activity records it; the Update answers only once the workflow has the
 * decline, and the replacement follows from the workflow's own state — there is no separate message to lose.
 */
describe('a decline as an Update of the review workflow (stubbed activities)', () => {
  it('when an expert declines, then the workflow records the decline before answering and replaces it at once', async () => {
    const day = await today();
    const replacementDue = dueGroup(day, 8);
    const stubs = reviewStubs(day, {
      recordDecline: (input) => ({ assignmentId: input.assignmentId, conflictRecorded: input.conflict }),
      replaceDeclined: () => ({ timedOut: 0, replaced: 1, unreplaceable: 0, due: replacementDue }),
    });
    await withReview('decline-update', stubs, async (handle) => {
      await stubs.called('sendReviewInvitations');
      const receivedAt = new Date(await env.currentTimeMs()).toISOString();
      // Fails before this change: the workflow has no `declineAssignment` Update (WorkflowUpdateFailedError).
      const answer = await handle.executeUpdate('declineAssignment', {
        args: [decline('as-3', receivedAt)],
        updateId: 'decline-as-3',
      });
      expect(answer).toEqual({ assignmentId: 'as-3', conflictRecorded: true });
      // Recorded by the workflow's decision activity, keyed by the Update.
      expect(stubs.inputsOf('recordDecline')).toEqual([
        { ...decline('as-3', receivedAt), workflowId: 'review-round-decline-update', updateId: 'decline-as-3' },
      ]);
      // The replacement follows before any due date, without any other message.
      expect(await stubs.called('replaceDeclined')).toMatchObject({ reviewId: 'rv-1', today: day });
      expect(stubs.inputsOf('closeDueAssignments')).toEqual([]);

      expect(await handle.result()).toEqual(aggregate);
      expect(stubs.inputsOf('closeDueAssignments').map((c) => c.dueDay)).toEqual([
        addDays(day, 5),
        replacementDue.dueDay,
      ]);
    });
  });
});
