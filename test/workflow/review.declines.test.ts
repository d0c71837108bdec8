import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant, type Day } from '../../domain/calendar/days.js';
import { ActivityStubs, type ActivityOutput } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';

/**
 * Issue 13 point 5: a decline reaches the review workflow durably. The API sends it as the Update
 * `declineAssignment`, whose decision activity records it; the Update answers only once the workflow has the
 * decline, and the replacement follows from the workflow's own state — there is no separate message to lose.
 */
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

function dueGroup(today: Day, days: number) {
  const dueDay = addDays(today, days);
  return { dueDay, dueAt: shanghaiInstant(addDays(dueDay, 1), 0).toISOString(), reminders: [] };
}

const aggregate: ActivityOutput<'aggregateReview'> = { items: 2, recommended: 1, underReviewed: 0, spread: 4 };
const noChange: ActivityOutput<'closeDueAssignments'> = { timedOut: 0, replaced: 0, unreplaceable: 0, due: undefined };

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

const decline = (assignmentId: string, receivedAt: string) => ({
  assignmentId,
  reason: '出差无法按时完成',
  conflict: true,
  actor: 'expert:e1',
  requestId: 'req-1',
  receivedAt,
});

describe('a decline as an Update of the review workflow (stubbed activities)', () => {
  it('when an expert declines, then the workflow records the decline before answering and replaces it at once', async () => {
    const day = shanghaiDayOf(new Date(await env.currentTimeMs()));
    const replacementDue = dueGroup(day, 8);
    const stubs = new ActivityStubs({
      prepareReview: () => ({
        status: 'assigned',
        reviewId: 'rv-1',
        titleZh: '评审',
        items: 2,
        assignments: 6,
        maxLoad: 2,
        bound: 3,
        due: dueGroup(day, 5),
      }),
      sendReviewInvitations: () => ({ sent: 6, alreadySent: 0, last: 'as-6', done: true }),
      recordDecline: (input) => ({ assignmentId: input.assignmentId, conflictRecorded: input.conflict }),
      replaceDeclined: () => ({ timedOut: 0, replaced: 1, unreplaceable: 0, due: replacementDue }),
      closeDueAssignments: () => noChange,
      aggregateReview: () => aggregate,
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
