import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant, type Day } from '../../domain/calendar/days.js';
import { reviewWorkflowId } from '../../domain/workflow-ids.js';
import { ActivityStubs, type ActivityOutput, type Stubs } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';
import { PROCESSING_GRACE_SECONDS } from '../../workflows/budget.js';

/**
 * The round workflow's branching with stubbed activities on the time-skipping server: the call closes at its
 * deadline (after the processing grace), the formal check runs, and the applications that passed go to the
 * review child workflow; nothing passed → the round closes without a review.
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

const aggregate: ActivityOutput<'aggregateReview'> = { items: 2, recommended: 2, underReviewed: 0, spread: 3 };

/** 24:00 Shanghai at the end of `day`, ISO. */
const endOf = (day: Day) => shanghaiInstant(addDays(day, 1), 0).toISOString();

/** Stubs of every activity a round calls up to 认定 (and its review and publicity children). */
function roundStubs(opensDay: Day, overrides: Stubs = {}) {
  const deadlineDay = addDays(opensDay, 10);
  return new ActivityStubs({
    prepareRound: () => ({
      titleZh: '2091年度产教融合品牌项目申报',
      deadline: { day: deadlineDay, at: endOf(deadlineDay), estimated: false, calendarVersion: 1, source: 'calendar' },
      reminders: [],
      eligibleInstitutions: 3,
      graceSeconds: GRACE_MS / 1000,
    }),
    recordRoundStage: () => undefined,
    sendCallNotices: () => ({ sent: 3, alreadySent: 0, last: 'zzu', done: true }),
    recordSubmission: (input) => ({
      applicationId: input.applicationId,
      version: 1,
      revision: 1,
      receivedAt: input.receivedAt,
      warnings: [],
      repeated: false,
    }),
    formalCheckBatch: () => ({ passed: 2, failed: 1, done: true }),
    prepareReview: (input) => {
      const dueDay = addDays(input.today, 5);
      const due = { dueDay, dueAt: endOf(dueDay), reminders: [] };
      return {
        status: 'assigned',
        reviewId: 'rv-1',
        titleZh: '评审',
        items: 2,
        assignments: 6,
        maxLoad: 2,
        bound: 3,
        due,
      };
    },
    sendReviewInvitations: () => ({ sent: 6, alreadySent: 0, last: 'as-6', done: true }),
    closeDueAssignments: () => ({ timedOut: 0, replaced: 0, unreplaceable: 0, due: undefined }),
    aggregateReview: () => aggregate,
    confirmShortlist: () => ({ shortlisted: 2, adjusted: 0 }),
    openPublicity: (input) => {
      const lastDay = addDays(input.today, 4);
      const endsAt = endOf(lastDay);
      return {
        publicityId: 'p-1',
        firstDay: input.today,
        lastDay,
        endsAt,
        estimated: false,
        calendarVersion: 1,
        entries: 2,
      };
    },
    sendPublicityNotices: () => undefined,
    closePublicity: () => undefined,
    approveRound: () => ({ approved: 2, directoryEntries: 2, entries: [] }),
    ...overrides,
  });
}

function withRound<T>(
  roundId: string,
  opensAt: string,
  stubs: ActivityStubs,
  run: (handle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  return withStubbedWorkflow(
    env,
    {
      workflowType: 'roundWorkflow',
      workflowId: roundId,
      args: [{ roundId, programme: 'brand_project', year: 2091, opensAt, launchedBy: 'staff:officer-li' }],
      activities: stubs.activities(),
    },
    run,
  );
}

const submit = async (handle: WorkflowHandle, applicationId: string) =>
  handle.executeUpdate<{ applicationId: string; version: number }, [unknown]>('submitApplication', {
    args: [
      {
        applicationId,
        institutionId: 'zzu',
        receivedAt: new Date(await env.currentTimeMs()).toISOString(),
        actor: 'applicant:zzu',
      },
    ],
  });

/** Lets the test server's clock run to `instant` (ms), firing every timer on the way. */
const skipTo = async (instant: number) => env.sleep(Math.max(0, instant - (await env.currentTimeMs())));

describe('round workflow (stubbed activities)', () => {
  it('when the deadline and its grace pass, then the call closes, the formal check runs and the review child ranks what passed; confirmed and publicised, the round is approved', async () => {
    const opensAt = new Date(await env.currentTimeMs()).toISOString();
    const opensDay = shanghaiDayOf(new Date(opensAt));
    const stubs = roundStubs(opensDay);
    const roundId = 'round-brand_project-2091';
    await withRound(roundId, opensAt, stubs, async (handle) => {
      await stubs.called('sendCallNotices');
      expect(await submit(handle, 'app-1')).toMatchObject({ applicationId: 'app-1', version: 1 });
      expect(stubs.inputsOf('formalCheckBatch')).toEqual([]);

      const deadlineAt = Date.parse(endOf(addDays(opensDay, 10)));
      await skipTo(deadlineAt + GRACE_MS + DAY_MS);
      const closed = await stubs.called('recordRoundStage', (s) => s.stage === 'formal_check');
      expect(closed.closed).toBe(true);
      expect(Date.parse(closed.at)).toBeGreaterThanOrEqual(deadlineAt + GRACE_MS);
      expect(Date.parse(closed.at)).toBeLessThan(deadlineAt + GRACE_MS + DAY_MS);
      expect(await stubs.called('formalCheckBatch')).toMatchObject({ roundId });
      // Too late: the workflow refuses with the reason.
      const late = await submit(handle, 'app-2').catch((err: unknown) => err);
      expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((late as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('DEADLINE_PASSED');

      // The review child of the round's applications.
      const review = await stubs.called('prepareReview');
      expect(review).toMatchObject({ workflowId: reviewWorkflowId(roundId), subjectKind: 'round', subjectId: roundId });
      await skipTo(Date.parse(endOf(addDays(review.today, 5))) + GRACE_MS + DAY_MS);
      await stubs.called('recordRoundStage', (s) => s.stage === 'shortlist_pending');

      await handle.executeUpdate('confirmShortlist', { args: [{ adjustments: [], actor: 'staff:officer-li' }] });
      expect(await handle.result()).toEqual({
        roundId,
        stage: 'approved',
        noticesSent: 3,
        formalCheck: { passed: 2, failed: 1 },
        review: aggregate,
        publicity: { periods: 1, objections: 0, upheld: 0, dismissed: 0 },
        approved: 2,
      });
      const stages = stubs.inputsOf('recordRoundStage').map((s) => s.stage);
      // The confirmation Update records 'shortlist_confirmed' while the main loop already records 'publicity'
      // in the same workflow task: the two activities run side by side, in either order.
      expect(stages.slice(0, 6)).toEqual([
        'scheduled',
        'call_open',
        'call_closing',
        'formal_check',
        'review',
        'shortlist_pending',
      ]);
      expect([...stages.slice(6, 8)].sort()).toEqual(['publicity', 'shortlist_confirmed']);
      expect(stages.slice(8)).toEqual(['approved']);
    });
  });

  it('when nothing passes the formal check, then the round closes without a review', async () => {
    const opensAt = new Date(await env.currentTimeMs()).toISOString();
    const stubs = roundStubs(shanghaiDayOf(new Date(opensAt)), {
      formalCheckBatch: () => ({ passed: 0, failed: 2, done: true }),
    });
    await withRound('round-brand_project-2092', opensAt, stubs, async (handle) => {
      expect(await handle.result()).toMatchObject({ stage: 'closed', formalCheck: { passed: 0, failed: 2 } });
      expect(stubs.inputsOf('prepareReview')).toEqual([]);
      expect(stubs.inputsOf('recordRoundStage').map((s) => s.stage)).toEqual([
        'scheduled',
        'call_open',
        'call_closing',
        'formal_check',
        'closed',
      ]);
    });
  });
});
