import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant } from '../../domain/calendar/days.js';
import { ActivityStubs } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 13 point 8 on the showcase (a parent of a review and a publicity child), stubbed activities on the
 * time-skipping server: the review child fails (its first activity refuses non-retryably, as on bad data);
 * the showcase does not fail — staff are emailed once, it waits, and staff's `retryChild` runs the review
 * again, after which the showcase completes.
 */
const DAY_MS = 86_400_000;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

describe('a failed child workflow (stubbed activities)', () => {
  it('when the review child fails, then staff are emailed, the showcase waits, and their retry runs the review again to completion', async () => {
    const today = shanghaiDayOf(new Date(await env.currentTimeMs()));
    let prepared = 0;
    let opened = 0;
    const stubs = new ActivityStubs({
      openShowcase: () => ({
        titleZh: '2091年度典型案例',
        dueAt: shanghaiInstant(addDays(today, 2), 0).toISOString(),
        invited: 3,
        reminders: [],
      }),
      closeNominations: () => ({ nominated: 2 }),
      prepareReview: () => {
        prepared += 1;
        if (prepared === 1) {
          throw ApplicationFailure.create({ type: 'REVIEW_NOT_FOUND', message: '评审数据缺失', nonRetryable: true });
        }
        return { status: 'empty', reviewId: 'rv-1', titleZh: '评审' };
      },
      openPublicity: (input) => ({
        publicityId: `p-${++opened}`,
        firstDay: input.today,
        lastDay: addDays(input.today, 4),
        endsAt: shanghaiInstant(addDays(input.today, 5), 0).toISOString(),
        estimated: false,
        calendarVersion: 1,
        entries: 2,
      }),
      nextWorkingMorning: (input) => shanghaiInstant(addDays(shanghaiDayOf(new Date(input.after)), 1), 9).toISOString(),
      remindStaffOfObjections: () => undefined,
      sendPublicityNotices: () => undefined,
      closePublicity: () => undefined,
      publishShowcase: () => ({ selected: 2 }),
      notifyChildFailed: () => undefined,
      recordChildRetry: () => undefined,
    });
    await withStubbedWorkflow(
      env,
      {
        workflowType: 'showcaseWorkflow',
        workflowId: 'showcase-2091',
        args: [{ showcaseId: 'showcase-2091', year: 2091 }],
        activities: stubs.activities(),
      },
      async (handle) => {
        // Past the nominations' due time: the review child starts, and fails.
        await env.sleep(3 * DAY_MS);
        // Before this change the showcase failed with its child: then this ends with "FAILED". (Polled through
        // describe(): a pending result() would let the test server skip time.)
        const told = await eventually(async () => {
          const notice = stubs.inputsOf('notifyChildFailed')[0];
          if (notice) return notice;
          const { status } = await handle.describe();
          return status.name === 'RUNNING' ? undefined : status.name;
        });
        expect(told).toMatchObject({
          workflowId: 'showcase-2091',
          childWorkflowId: 'review-showcase-2091',
          childType: 'reviewWorkflow',
          failures: 1,
          reason: '评审数据缺失',
        });
        // It waits (once the notice is in its history), without failing or running the review again, until staff retry.
        await eventually(async () => (await handle.query('getFailedChild')) ?? undefined, { what: 'the failed child' });
        await env.sleep(3 * DAY_MS);
        expect((await handle.describe()).status.name).toBe('RUNNING');
        expect(prepared).toBe(1);
        expect(stubs.inputsOf('notifyChildFailed')).toHaveLength(1);
        expect(await handle.query('getFailedChild')).toMatchObject({
          childWorkflowId: 'review-showcase-2091',
          failures: 1,
        });
        // A retry naming another child is refused.
        const wrong = await handle
          .executeUpdate('retryChild', { args: [{ childWorkflowId: 'publicity-showcase-2091', actor: 'staff:li' }] })
          .catch((err: unknown) => err);
        expect(wrong).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(((wrong as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('CHILD_NOT_FAILED');

        const retried = await handle.executeUpdate('retryChild', {
          args: [{ actor: 'staff:li', requestId: 'req-9' }],
          updateId: 'retry-1',
        });
        expect(retried).toEqual({ childWorkflowId: 'review-showcase-2091', failures: 1 });
        expect(stubs.inputsOf('recordChildRetry')).toEqual([
          {
            workflowId: 'showcase-2091',
            childWorkflowId: 'review-showcase-2091',
            failures: 1,
            actor: 'staff:li',
            requestId: 'req-9',
            updateId: 'retry-1',
          },
        ]);
        expect(await handle.result()).toMatchObject({ stage: 'published', selected: 2 });
        expect(prepared).toBe(2);
        expect(await handle.query('getFailedChild')).toBeNull();
      },
    );
  });
});
