import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, shanghaiDayOf, shanghaiInstant, type Day } from '../../domain/calendar/days.js';
import { ActivityStubs, type ActivityOutput } from '../support/activity-stubs.js';
import { startTimeSkippingEnvironment, withStubbedWorkflow } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';
import { PROCESSING_GRACE_SECONDS } from '../../workflows/budget.js';

/**
 * The publicity workflow's branching with stubbed activities on the time-skipping server: a pending objection
 * keeps the period open past its end (staff reminded each working morning) until it is resolved; an upheld
 * objection brings a substitute (递补) that is publicised again for a full period.
 */
/** The workflows' processing grace after a deadline (workflows/budget.ts), in ms. */
const GRACE_MS = PROCESSING_GRACE_SECONDS * 1000;
const PERIOD_DAYS = 5;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
});

afterAll(async () => {
  await env?.teardown();
});

/** A period published today for five days, ending 24:00 Shanghai of its last day (as `openPublicity` answers). */
function period(publicityId: string, today: Day): ActivityOutput<'openPublicity'> {
  const lastDay = addDays(today, PERIOD_DAYS - 1);
  return {
    publicityId,
    firstDay: today,
    lastDay,
    endsAt: shanghaiInstant(addDays(lastDay, 1), 0).toISOString(),
    estimated: false,
    calendarVersion: 1,
    entries: 19,
  };
}

/** 09:00 Shanghai on the first day after `after` (every day a working day, for the stub). */
function nextMorning(after: string): string {
  const day = shanghaiDayOf(new Date(after));
  const today9 = shanghaiInstant(day, 9);
  return (today9.getTime() > Date.parse(after) ? today9 : shanghaiInstant(addDays(day, 1), 9)).toISOString();
}

/** Stubs of every activity the publicity workflow calls; periods are numbered p-1, p-2, … */
function publicityStubs() {
  let opened = 0;
  return new ActivityStubs({
    openPublicity: (input) => period(`p-${++opened}`, input.today),
    recordObjection: (input) => ({ objectionId: `o-${input.entryId}`, receivedAt: input.receivedAt, repeated: false }),
    recordResolution: (input) => ({
      objectionId: input.objectionId,
      outcome: input.outcome,
      removedApplicationId: input.outcome === 'upheld' ? 'app-5' : undefined,
      substituteApplicationId: input.outcome === 'upheld' ? 'app-21' : undefined,
    }),
    nextWorkingMorning: (input) => nextMorning(input.after),
    remindStaffOfObjections: () => undefined,
    sendPublicityNotices: () => undefined,
    closePublicity: () => undefined,
  });
}

/** One publicity workflow of subject `round-<name>` on `stubs`, driven by `run`. */
function withPublicity<T>(name: string, stubs: ActivityStubs, run: (handle: WorkflowHandle) => Promise<T>): Promise<T> {
  return withStubbedWorkflow(
    env,
    {
      workflowType: 'publicityWorkflow',
      workflowId: `publicity-round-${name}`,
      args: [{ subjectKind: 'round', subjectId: `round-${name}`, programme: 'brand_project', year: 2091 }],
      activities: stubs.activities(),
    },
    run,
  );
}

/** Objections are taken once the period is open (the workflow has stored the period it opened). */
async function untilOpen(handle: WorkflowHandle): Promise<void> {
  await eventually(
    async () => ((await handle.query<{ stage: string }>('getPublicity')).stage === 'open' ? true : undefined),
    { what: 'the publicity period open' },
  );
}

const nowIso = async () => new Date(await env.currentTimeMs()).toISOString();

async function fileObjection(handle: WorkflowHandle, publicityId: string, entryId: string, receivedAt?: string) {
  return handle.executeUpdate<{ objectionId: string }, [unknown]>('fileObjection', {
    args: [
      {
        publicityId,
        entryId,
        name: '张明',
        unit: '河南某职业技术学院',
        phone: '0371-66668888',
        email: 'zhang.ming@objector.example',
        onBehalfOfUnit: false,
        facts: '该项目申报材料中的合作企业协议与实际不符。',
        evidence: [],
        receivedAt: receivedAt ?? (await nowIso()),
      },
    ],
  });
}

function resolve(handle: WorkflowHandle, objectionId: string, outcome: 'upheld' | 'dismissed') {
  return handle.executeUpdate('resolveObjection', {
    args: [{ objectionId, outcome, reason: '经核查', actor: 'staff:officer-li' }],
  });
}

describe('publicity workflow (stubbed activities)', () => {
  it('when an objection is still pending at the end, then the period stays open, staff are reminded each morning, and it closes once resolved', async () => {
    const stubs = publicityStubs();
    await withPublicity('pending', stubs, async (handle) => {
      const first = await stubs.called('openPublicity');
      expect([first.parentId, first.itemIds]).toEqual([undefined, undefined]);
      await untilOpen(handle);
      const p1 = period('p-1', first.today);
      const { objectionId } = await fileObjection(handle, 'p-1', 'e-3');

      // Three days past the end: not closed; a reminder each morning.
      const closesAt = Date.parse(p1.endsAt) + GRACE_MS;
      await env.sleep(closesAt + 3 * 86_400_000 - (await env.currentTimeMs()));
      const thirdMorning = addDays(shanghaiDayOf(new Date(closesAt)), 2);
      await stubs.called('remindStaffOfObjections', (r) => r.day === thirdMorning);
      expect(stubs.inputsOf('remindStaffOfObjections').map((r) => r.day)).toEqual([
        addDays(thirdMorning, -2),
        addDays(thirdMorning, -1),
        thirdMorning,
      ]);
      expect(stubs.inputsOf('closePublicity')).toEqual([]);
      expect((await handle.query<{ stage: string; pending: number }>('getPublicity')).stage).toBe(
        'awaiting_resolution',
      );

      // Too late for a new objection: refused with the reason.
      const late = await fileObjection(handle, 'p-1', 'e-4').catch((err: unknown) => err);
      expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((late as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('PUBLICITY_CLOSED');

      const resolvedAt = await env.currentTimeMs();
      await resolve(handle, objectionId, 'dismissed');
      expect(await handle.result()).toEqual({ periods: 1, objections: 1, upheld: 0, dismissed: 1 });
      const closes = stubs.inputsOf('closePublicity');
      expect(closes.map((c) => c.publicityId)).toEqual(['p-1']);
      expect(Date.parse(closes[0]!.at)).toBeGreaterThanOrEqual(resolvedAt);
      expect(stubs.inputsOf('openPublicity')).toHaveLength(1);
    });
  });

  it('when an objection is upheld, then the substitute (递补) is publicised again for a full period before the end', async () => {
    const stubs = publicityStubs();
    await withPublicity('upheld', stubs, async (handle) => {
      await untilOpen(handle);
      const { objectionId } = await fileObjection(handle, 'p-1', 'e-5');
      const resolution = await resolve(handle, objectionId, 'upheld');
      expect(resolution).toMatchObject({ outcome: 'upheld', substituteApplicationId: 'app-21' });

      expect(await handle.result()).toEqual({ periods: 2, objections: 1, upheld: 1, dismissed: 0 });
      const [first, second] = stubs.inputsOf('openPublicity');
      expect(second).toMatchObject({ parentId: 'p-1', itemIds: ['app-21'] });
      // The second period opens once the first has ended, and runs its full length.
      expect(second!.today > period('p-1', first!.today).lastDay).toBe(true);
      const closes = stubs.inputsOf('closePublicity');
      expect(closes.map((c) => c.publicityId)).toEqual(['p-1', 'p-2']);
      expect(Date.parse(closes[1]!.at)).toBeGreaterThanOrEqual(
        Date.parse(period('p-2', second!.today).endsAt) + GRACE_MS,
      );
      expect(stubs.inputsOf('remindStaffOfObjections')).toEqual([]);
    });
  });

  it('when the period is closing, then an objection is refused whatever its receipt time, and one accepted just before is judged before the close', async () => {
    // closePublicity of p-1 waits for a gate; the second objection's recording waits for another.
    let openClose!: () => void;
    const closeGate = new Promise<void>((r) => (openClose = r));
    let closeStarted!: () => void;
    const closing = new Promise<void>((r) => (closeStarted = r));
    let openRecord!: () => void;
    const recordGate = new Promise<void>((r) => (openRecord = r));
    let recordStarted!: () => void;
    const recording = new Promise<void>((r) => (recordStarted = r));
    let opened = 0;
    const closesStarted: string[] = [];
    const stubs = new ActivityStubs({
      openPublicity: (input) => period(`p-${++opened}`, input.today),
      recordObjection: async (input) => {
        if (input.entryId === 'e-7') {
          recordStarted();
          await recordGate;
        }
        return { objectionId: `o-${input.entryId}`, receivedAt: input.receivedAt, repeated: false };
      },
      recordResolution: (input) => ({
        objectionId: input.objectionId,
        outcome: input.outcome,
        removedApplicationId: undefined,
        substituteApplicationId: undefined,
      }),
      nextWorkingMorning: (input) => nextMorning(input.after),
      remindStaffOfObjections: () => undefined,
      sendPublicityNotices: () => undefined,
      closePublicity: async (input) => {
        closesStarted.push(input.publicityId);
        closeStarted();
        await closeGate;
      },
    });
    await withPublicity('closing', stubs, async (handle) => {
      // Whatever fails, the gates open, so the worker can shut down.
      try {
        await untilOpen(handle);
        const first = await stubs.called('openPublicity');
        const p1 = period('p-1', first.today);
        const onTime = new Date(Date.parse(p1.endsAt) - 60_000).toISOString();
        const { objectionId } = await fileObjection(handle, 'p-1', 'e-6');
        await env.sleep(Date.parse(p1.endsAt) + GRACE_MS + 1000 - (await env.currentTimeMs()));
        await eventually(async () =>
          (await handle.query<{ stage: string }>('getPublicity')).stage === 'awaiting_resolution' ? true : undefined,
        );
        // An objection received before the end (a retried request keeps its first receipt time) is still taken
        // while the period awaits resolution; its recording is slow.
        const inFlight = fileObjection(handle, 'p-1', 'e-7', onTime);
        await recording;
        // The pending objection is dismissed meanwhile: the period must not close under the one being recorded.
        await resolve(handle, objectionId, 'dismissed');
        openRecord();
        const second = await inFlight;
        expect(closesStarted).toEqual([]);
        expect((await handle.query<{ stage: string; pending: number }>('getPublicity')).pending).toBe(1);
        await resolve(handle, second.objectionId, 'dismissed');
        // Now the period closes; while it is closing, even an on-time receipt is refused.
        await closing;
        const late = await fileObjection(handle, 'p-1', 'e-8', onTime).catch((err: unknown) => err);
        expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(((late as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('PUBLICITY_CLOSED');
        openClose();
        expect(await handle.result()).toEqual({ periods: 1, objections: 2, upheld: 0, dismissed: 2 });
      } finally {
        openRecord();
        openClose();
      }
    });
  });
});
