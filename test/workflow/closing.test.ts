import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure, QueryDefinition } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant } from '../../domain/calendar/days.js';
import { ActivityStubs, type Stubs } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';
import { PROCESSING_GRACE_SECONDS } from '../../workflows/budget.js';
import {
  changeEventUpdate,
  getEventQuery,
  recordAttendanceUpdate,
  rsvpUpdate,
} from '../../workflows/event.messages.js';
import {
  evaluationGradedSignal,
  getMemberQuery,
  submitRectificationReportUpdate,
} from '../../workflows/member.messages.js';
import { getShowcaseQuery, nominateCaseUpdate } from '../../workflows/showcase.messages.js';

/**
 * Issue 13 point 6, "closed means closed", with stubbed activities on the time-skipping server: once a stage's
 * close has begun (its close activity running), the workflow refuses a request by its state, whatever the
 * receipt time the API stamped — a request received before the due time but arriving while the close runs is
 * refused, and never recorded. Each close activity is held by a gate the test opens; each refused request
 * carries a receipt time before the due time, so only the state can refuse it; the same request sent before the
 * close began is accepted. (The publicity period's objections: test/workflow/publicity.branches.test.ts.)
 */
/** The workflows' processing grace after a deadline (workflows/budget.ts), in ms. */
const GRACE_MS = PROCESSING_GRACE_SECONDS * 1000;
/** A receipt time this long before the due time: on time by the clock, so only the workflow's state refuses. */
const ON_TIME_MS = 60_000;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

const nowMs = () => env.currentTimeMs();
const today = async () => shanghaiDayOf(new Date(await nowMs()));
/** 24:00 Shanghai at the end of the day `days` after today, ISO: a due time. */
const endOfDayAfter = async (days: number) => shanghaiInstant(addDays(await today(), days + 1), 0).toISOString();
/** A receipt time on time for `dueAt` (ISO). */
const onTimeFor = (dueAt: string) => new Date(Date.parse(dueAt) - ON_TIME_MS).toISOString();

/** Moves the test server's clock to just past `wallMs` (the close's start: its timer fires). */
async function skipPast(wallMs: number): Promise<void> {
  await env.sleep(wallMs + 1000 - (await nowMs()));
}

/**
 * A close activity's hold: the stub calls `hold()`, which marks the close as `started` and waits until the
 * test calls `release()`.
 */
function closeGate() {
  let began!: () => void;
  const started = new Promise<void>((r) => (began = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return {
    started,
    release,
    async hold(): Promise<void> {
      began();
      await released;
    },
  };
}

/**
 * Runs `run` with the gate opened afterwards whatever happens: a close left held would keep its activity
 * running and the worker from shutting down.
 */
async function releasingAfter<T>(gate: ReturnType<typeof closeGate>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    gate.release();
  }
}

/** How an Update ended: `accepted`, or the refusal's code (the failure type the workflow gave). */
async function outcomeOf(update: Promise<unknown>): Promise<string> {
  try {
    await update;
    return 'accepted';
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    return (err.cause as ApplicationFailure).type ?? 'untyped';
  }
}

/** Polls the workflow's query until `done` holds of its answer. */
function untilState<S>(
  handle: WorkflowHandle,
  query: QueryDefinition<S>,
  done: (s: S) => boolean,
  what: string,
): Promise<S> {
  return eventually(
    async () => {
      const s = await handle.query(query);
      return done(s) ? s : undefined;
    },
    { what },
  );
}

/** A showcase whose nominations close at `dueAt` with `closeNominations` held by `gate`; children run through. */
function showcaseStubs(dueAt: string, gate: ReturnType<typeof closeGate>, extra: Stubs = {}): ActivityStubs {
  const stubs: ActivityStubs = new ActivityStubs({
    openShowcase: () => ({ titleZh: '2091年度典型案例', dueAt, invited: 3, reminders: [] }),
    recordNomination: (input) => ({ caseId: `case-${input.sourceId}`, nominated: 1 }),
    closeNominations: async () => {
      await gate.hold();
      return { nominated: stubs.inputsOf('recordNomination').length };
    },
    // The review and the publicity children run through at once (nothing to review, no objection).
    prepareReview: () => ({ status: 'empty', reviewId: 'rv-1', titleZh: '评审' }),
    openPublicity: (input) => ({
      publicityId: 'p-1',
      firstDay: input.today,
      lastDay: addDays(input.today, 4),
      endsAt: shanghaiInstant(addDays(input.today, 5), 0).toISOString(),
      estimated: false,
      calendarVersion: 1,
      entries: 1,
    }),
    sendPublicityNotices: () => undefined,
    closePublicity: () => undefined,
    publishShowcase: () => ({ selected: 1 }),
    ...extra,
  });
  return stubs;
}

/** A nomination from zzu of the project `sourceId`, received at `receivedAt`. */
function nominate(handle: WorkflowHandle, sourceId: string, receivedAt: string) {
  return handle.executeUpdate(nominateCaseUpdate, {
    args: [
      {
        institutionId: 'zzu',
        sourceKind: 'project',
        sourceId,
        title: '校企共建智能制造产业学院',
        summary: '产教融合典型案例。',
        receivedAt,
        actor: 'applicant:zzu',
      },
    ],
  });
}

describe('closed means closed (stubbed activities)', () => {
  it('when the nominations are being counted, then a nomination received before the due time is refused NOMINATIONS_CLOSED and never recorded', async () => {
    const dueAt = await endOfDayAfter(2);
    const gate = closeGate();
    const stubs = showcaseStubs(dueAt, gate);
    await withStubbedWorkflow(
      env,
      {
        workflowType: 'showcaseWorkflow',
        workflowId: 'showcase-closing',
        args: [{ showcaseId: 'sc-1', year: 2091 }],
        activities: stubs.activities(),
      },
      (handle) =>
        releasingAfter(gate, async () => {
          await untilState(handle, getShowcaseQuery, (s) => s.stage === 'nominations_open', 'the call open');
          // Before the close, a nomination with the very receipt time refused below is accepted: only the state
          // differs.
          expect(await outcomeOf(nominate(handle, 'pj-early', onTimeFor(dueAt)))).toBe('accepted');

          await skipPast(Date.parse(dueAt) + GRACE_MS);
          await gate.started;
          expect(await outcomeOf(nominate(handle, 'pj-late', onTimeFor(dueAt)))).toBe('NOMINATIONS_CLOSED');

          gate.release();
          expect(await handle.result()).toMatchObject({ stage: 'published', nominated: 1 });
          expect(stubs.inputsOf('recordNomination').map((n) => n.sourceId)).toEqual(['pj-early']);
        }),
    );
  });

  it('when the event is being marked held, then an answer received before the start is refused EVENT_CLOSED and never recorded, and so is a change', async () => {
    const startsAt = await endOfDayAfter(2);
    const gate = closeGate();
    const stubs = new ActivityStubs({
      openEvent: () => ({ startsAt, placeZh: '郑州国际会展中心', version: 1, reminders: [] }),
      recordRsvp: (input) => ({ status: input.response === 'confirm' ? 'confirmed' : 'declined' }),
      changeEvent: (input) => ({
        startsAt,
        placeZh: input.placeZh ?? '郑州国际会展中心',
        version: 2,
        reminders: [],
        status: input.cancel ? 'cancelled' : 'scheduled',
      }),
      markEventHeld: () => gate.hold(),
      recordAttendance: (input) => ({ attended: input.attended.length, absent: 2 - input.attended.length }),
    });
    const rsvp = (handle: WorkflowHandle, institutionId: string, receivedAt: string) =>
      handle.executeUpdate(rsvpUpdate, {
        args: [{ institutionId, response: 'confirm', receivedAt, actor: `applicant:${institutionId}` }],
      });
    const change = (handle: WorkflowHandle, request: { placeZh?: string; cancel?: boolean }) =>
      handle.executeUpdate(changeEventUpdate, { args: [{ ...request, reason: '场地调整', actor: 'staff:li' }] });
    await withStubbedWorkflow(
      env,
      {
        workflowType: 'eventWorkflow',
        workflowId: 'event-closing',
        args: [{ eventId: 'ev-1', startsAt }],
        activities: stubs.activities(),
      },
      (handle) =>
        releasingAfter(gate, async () => {
          await untilState(handle, getEventQuery, (s) => s.stage === 'scheduled', 'the event scheduled');
          expect(await outcomeOf(rsvp(handle, 'zzu', onTimeFor(startsAt)))).toBe('accepted');
          expect(await outcomeOf(change(handle, { placeZh: '郑州大学主校区' }))).toBe('accepted');

          await skipPast(Date.parse(startsAt));
          await gate.started;
          expect(await outcomeOf(rsvp(handle, 'hnu', onTimeFor(startsAt)))).toBe('EVENT_CLOSED');
          expect(await outcomeOf(change(handle, { placeZh: '河南大学' }))).toBe('EVENT_CLOSED');
          expect(await outcomeOf(change(handle, { cancel: true }))).toBe('EVENT_CLOSED');

          gate.release();
          await untilState(handle, getEventQuery, (s) => s.stage === 'awaiting_attendance', 'the event held');
          await handle.executeUpdate(recordAttendanceUpdate, { args: [{ attended: ['zzu'], actor: 'staff:li' }] });
          expect(await handle.result()).toMatchObject({
            stage: 'closed',
            schedule: { version: 2, placeZh: '郑州大学主校区' },
          });
          expect(stubs.inputsOf('recordRsvp').map((r) => r.institutionId)).toEqual(['zzu']);
          expect(stubs.inputsOf('changeEvent').map((c) => c.placeZh)).toEqual(['郑州大学主校区']);
        }),
    );
  });

  it('when the rectification report is being closed, then a report received before the due time is refused RECTIFICATION_NOT_OPEN and never recorded', async () => {
    const dueAt = await endOfDayAfter(2);
    const gate = closeGate();
    const stubs = new ActivityStubs({
      recordMemberStatus: () => undefined,
      startRectification: () => ({
        rectificationId: 'rc-1',
        months: 6,
        dueDay: dueAt.slice(0, 10),
        dueAt,
        estimated: false,
        reminders: [],
      }),
      recordRectificationReport: (input) => ({
        rectificationId: input.rectificationId,
        receivedAt: input.receivedAt,
        resubmitted: false,
      }),
      closeRectification: async () => {
        await gate.hold();
        return { reported: true };
      },
      // The experts' re-evaluation runs through at once and the report passes.
      prepareReview: () => ({ status: 'empty', reviewId: 'rv-1', titleZh: '整改复评' }),
      decideRectification: () => ({ passed: true, score: null }),
    });
    const report = (handle: WorkflowHandle, summary: string, receivedAt: string) =>
      handle.executeUpdate(submitRectificationReportUpdate, {
        args: [{ payload: { summary }, receivedAt, actor: 'applicant:zzu' }],
      });
    await withStubbedWorkflow(
      env,
      {
        workflowType: 'memberWorkflow',
        workflowId: 'member-closing',
        args: [{ entryId: 'de-1', programme: 'brand_project', institutionId: 'zzu', admittedOn: await today() }],
        activities: stubs.activities(),
      },
      (handle) =>
        releasingAfter(gate, async () => {
          await handle.signal(evaluationGradedSignal, { evaluationId: 'ev-2091', year: 2091, grade: 'fail' });
          await untilState(
            handle,
            getMemberQuery,
            (s) => s.elimination?.stage === 'rectifying',
            'the rectification open',
          );
          expect(await outcomeOf(report(handle, '整改报告（初稿）', onTimeFor(dueAt)))).toBe('accepted');

          await skipPast(Date.parse(dueAt) + GRACE_MS);
          await gate.started;
          expect(await outcomeOf(report(handle, '整改报告（修订稿）', onTimeFor(dueAt)))).toBe(
            'RECTIFICATION_NOT_OPEN',
          );

          gate.release();
          await untilState(
            handle,
            getMemberQuery,
            (s) => s.status === 'active' && !s.elimination,
            'the member restored',
          );
          expect(stubs.inputsOf('recordRectificationReport').map((r) => r.payload.summary)).toEqual([
            '整改报告（初稿）',
          ]);
        }),
    );
  });
  it('when a nomination received in time is still undelivered past the grace window, then the count waits for it and counts it', async () => {
    const dueAt = await endOfDayAfter(2);
    const gate = closeGate();
    gate.release();
    // Two receipts the API kept: one on time, undelivered until the test delivers it; one late (never waited for).
    let onTimePending = true;
    const late = new Date(Date.parse(dueAt) + 1000).toISOString();
    const stubs = showcaseStubs(dueAt, gate, {
      // (The publicity child asks too, about its objections: none.)
      pendingReceipts: (input) =>
        input.updates.includes(nominateCaseUpdate.name)
          ? [
              ...(onTimePending ? [{ updateName: nominateCaseUpdate.name, receivedAt: onTimeFor(dueAt) }] : []),
              { updateName: nominateCaseUpdate.name, receivedAt: late },
            ]
          : [],
    });
    await withStubbedWorkflow(
      env,
      {
        workflowType: 'showcaseWorkflow',
        workflowId: 'showcase-receipts',
        args: [{ showcaseId: 'sc-2', year: 2092 }],
        activities: stubs.activities(),
      },
      async (handle) => {
        await untilState(handle, getShowcaseQuery, (s) => s.stage === 'nominations_open', 'the call open');
        expect(await outcomeOf(nominate(handle, 'pj-early', onTimeFor(dueAt)))).toBe('accepted');
        // A minute past the grace window: the count has not begun, it asks again and again.
        await skipPast(Date.parse(dueAt) + GRACE_MS + 60_000);
        expect(stubs.inputsOf('closeNominations')).toHaveLength(0);
        expect(stubs.inputsOf('pendingReceipts').length).toBeGreaterThan(2);
        // The sweeper redelivers it: judged by its receipt time, accepted; then the count runs and includes it.
        expect(await outcomeOf(nominate(handle, 'pj-redelivered', onTimeFor(dueAt)))).toBe('accepted');
        onTimePending = false;
        expect(await handle.result()).toMatchObject({ stage: 'published', nominated: 2 });
        expect(stubs.inputsOf('recordNomination').map((n) => n.sourceId)).toEqual(['pj-early', 'pj-redelivered']);
      },
    );
  });
});
