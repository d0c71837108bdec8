import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalendarRepository } from '../../db/repositories/calendar.js';
import { insertRound } from '../../db/repositories/round.js';
import {
  fileObjectionUpdate,
  resolveObjectionUpdate,
  type PublicityMemory,
} from '../../workflows/publicity.messages.js';
import type { PublicityWorkflow } from '../../workflows/publicity.messages.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Procedure 3 over real calendar durations on the time-skipping server: a 5-working-day period around
 * 劳动节 by an arrangement the test enters; receipt time at the last minute; a pending objection holds the
 * period open (staff reminded on the next working morning); an upheld objection leads to 递补 and a full
 * re-publicity of the change.
 */
const TASK_QUEUE = 'ronghe-publicity-ts';
const ROUND = 'round-brand_project-2027';
const PUBLICITY = `publicity-${ROUND}`;

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE });
});

afterAll(async () => {
  await stack?.stop();
});

const skipTo = (shanghai: string) => stack.skipTo(shanghai);

const iso = (shanghai: string) => new Date(shanghai).toISOString();

function objection(publicityId: string, entryId: string, receivedAt: string, name: string) {
  return {
    publicityId,
    entryId,
    name,
    unit: '河南某研究院',
    phone: '0371-12345678',
    email: `${name}@objector.example`,
    onBehalfOfUnit: false,
    facts: '该项目申报材料与实际情况不符，请予核查。',
    evidence: [],
    receivedAt,
  };
}

async function refusalOf(promise: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause as unknown as { type?: string; message: string };
}

describe('publicity over real calendar durations (time-skipping server)', () => {
  it('ends at 24:00 on the 5th working day by the entered arrangement, takes an objection at 23:59 and refuses one at 00:00:01, and publicises a 递补 for a full period', async () => {
    // Staff enter 2027's 劳动节: 05-01..05-05 off, Sat 05-08 worked (调休).
    await new CalendarRepository(stack.database.db).enterOfficialArrangement({
      year: 2027,
      holidays: ['01', '02', '03', '04', '05'].map((d) => ({ date: `2027-05-${d}`, name: '劳动节' })),
      workdays: [{ date: '2027-05-08', name: '劳动节' }],
      enteredBy: 'staff:test',
    });
    await insertRound(stack.database.db, {
      id: ROUND,
      programme: 'brand_project',
      year: 2027,
      titleZh: '2027年度产教融合品牌项目申报',
      opensAt: new Date('2027-03-01T01:00:00Z'),
      launchedBy: 'staff:test',
    });
    // Five reviewed applications: ranks 1–3 shortlisted, 4–5 below the line.
    const apps = await stack.database
      .db('applications')
      .insert(
        ['zzu', 'henu', 'hpu', 'haust', 'htu'].map((institution, i) => ({
          round_id: ROUND,
          institution_id: institution,
          status: i < 3 ? 'shortlisted' : 'not_shortlisted',
          title_zh: `品牌项目 ${i + 1}`,
          field_key: 'next_gen_it',
          draft: '{}',
          received_at: new Date(`2027-03-0${i + 2}T02:00:00Z`),
        })),
      )
      .returning<{ id: string }[]>('id');
    const [review] = await stack.database
      .db('reviews')
      .insert({
        subject_kind: 'round',
        subject_id: ROUND,
        programme: 'brand_project',
        rubric: '[]',
        experts_per_item: 3,
        status: 'completed',
      })
      .returning<{ id: string }[]>('id');
    await stack.database.db('review_results').insert(
      apps.map((a, i) => ({
        review_id: review!.id,
        item_kind: 'application',
        item_id: a.id,
        valid_scores: 3,
        score: 90 - i,
        rank: i + 1,
        recommended: i < 3,
        confirmed: i < 3,
      })),
    );

    // Published on Thu 2027-04-29: 04-29, 04-30, (05-01..05 off), 05-06, 05-07 and the 调休 Sat 05-08.
    await skipTo('2027-04-29T10:00:00+08:00');
    const handle: WorkflowHandle<PublicityWorkflow> = await stack.env.client.workflow.start<PublicityWorkflow>(
      'publicityWorkflow',
      {
        workflowId: PUBLICITY,
        taskQueue: TASK_QUEUE,
        args: [{ subjectKind: 'round', subjectId: ROUND, programme: 'brand_project', year: 2027 }],
      },
    );
    const state = () => handle.query<PublicityMemory>('getPublicity');
    const first = await eventually(async () =>
      (await state()).stage === 'open' ? (await state()).current : undefined,
    );
    expect(first).toMatchObject({
      firstDay: '2027-04-29',
      lastDay: '2027-05-08',
      endsAt: '2027-05-09T00:00:00+08:00',
      estimated: false,
      entries: 3,
    });
    const entries = await stack.database
      .db('publicity_entries')
      .where({ publicity_id: first.publicityId })
      .orderBy('rank')
      .select<{ id: string; item_id: string }[]>('id', 'item_id');

    // An objection in the middle of the period, dismissed.
    await skipTo('2027-04-30T15:00:00+08:00');
    const a = await handle.executeUpdate(fileObjectionUpdate, {
      args: [objection(first.publicityId, entries[0]!.id, iso('2027-04-30T15:00:00+08:00'), 'wang')],
    });
    await handle.executeUpdate(resolveObjectionUpdate, {
      args: [{ objectionId: a.objectionId, outcome: 'dismissed', reason: '经核查不属实', actor: 'staff:test' }],
    });

    // The last minute of the 5th working day: received 23:59 → accepted; received 00:00:01 → refused.
    await skipTo('2027-05-08T23:59:00+08:00');
    const b = await handle.executeUpdate(fileObjectionUpdate, {
      args: [objection(first.publicityId, entries[1]!.id, iso('2027-05-08T23:59:00+08:00'), 'zhao')],
    });
    expect(b.repeated).toBe(false);
    await skipTo('2027-05-09T00:00:01+08:00');
    const late = await refusalOf(
      handle.executeUpdate(fileObjectionUpdate, {
        args: [objection(first.publicityId, entries[2]!.id, iso('2027-05-09T00:00:01+08:00'), 'qian')],
      }),
    );
    expect(late.type).toBe('PUBLICITY_CLOSED');
    expect(late.message).toContain('2027年5月8日 24:00');

    // The period may not close with an objection pending: staff are reminded on the next working morning
    // (Mon 05-10 — Sun 05-09 is no working day).
    await skipTo('2027-05-09T12:00:00+08:00');
    expect((await state()).stage).toBe('awaiting_resolution');
    expect(
      (
        await stack.database
          .db('publicity_periods')
          .where({ id: first.publicityId })
          .first<{ status: string }>('status')
      ).status,
    ).toBe('open');
    const reminders = () =>
      stack.database.db('email_outbox').where({ purpose: 'objections_pending' }).pluck('idempotency_key') as Promise<
        string[]
      >;
    expect(await reminders()).toEqual([]);
    await skipTo('2027-05-10T09:01:00+08:00');
    await eventually(async () => ((await reminders()).length === 1 ? true : undefined));
    expect((await reminders())[0]).toBe(`${PUBLICITY}/objections_pending/${first.publicityId}/2027-05-10`);

    // Upheld: the 2nd leaves the list and the 4th — the best below the line — is substituted (递补).
    await skipTo('2027-05-10T10:00:00+08:00');
    const resolved = await handle.executeUpdate(resolveObjectionUpdate, {
      args: [
        { objectionId: b.objectionId, outcome: 'upheld', reason: '经核查，申报材料与事实不符', actor: 'staff:test' },
      ],
    });
    expect(resolved).toMatchObject({ removedApplicationId: apps[1]!.id, substituteApplicationId: apps[3]!.id });
    const twice = await refusalOf(
      handle.executeUpdate(resolveObjectionUpdate, {
        args: [{ objectionId: b.objectionId, outcome: 'dismissed', reason: '再次', actor: 'staff:test' }],
      }),
    );
    expect(twice.type).toBe('ALREADY_RESOLVED');

    // The change is publicised again for a full period: from Mon 05-10 to Fri 05-14, 24:00.
    const second = await eventually(async () => {
      const s = await state();
      return s.periods.length === 2 && s.stage === 'open' ? s.current : undefined;
    });
    expect(second).toMatchObject({
      firstDay: '2027-05-10',
      lastDay: '2027-05-14',
      endsAt: '2027-05-15T00:00:00+08:00',
      entries: 1,
    });
    const secondEntries = await stack.database
      .db('publicity_entries')
      .where({ publicity_id: second.publicityId })
      .pluck('item_id');
    expect(secondEntries).toEqual([apps[3]!.id]);

    const result = await handle.result();
    expect(result).toEqual({ periods: 2, objections: 2, upheld: 1, dismissed: 1 });
    // Every objection and resolution was crashed once after its commit: one record and one email each.
    expect(stack.crashedDecisions).toMatchObject({ recordObjection: 2, recordResolution: 2 });
    const resolutionEmails = await stack.database
      .db('email_outbox')
      .whereIn('purpose', ['objection_resolved', 'entry_removed'])
      .select('purpose', 'status');
    expect(resolutionEmails.map((e: { purpose: string; status: string }) => `${e.purpose}:${e.status}`).sort()).toEqual(
      ['entry_removed:sent', 'objection_resolved:sent', 'objection_resolved:sent'],
    );
    expect(await stack.database.db('objections').whereNot({ status: 'pending' }).count('* as n')).toEqual([{ n: 2 }]);
    const periods = await stack.database
      .db('publicity_periods')
      .orderBy('published_at')
      .select<{ status: string; closed_at: Date }[]>('status', 'closed_at');
    expect(periods.map((p) => p.status)).toEqual(['closed', 'closed']);
    // The re-publicity closed by the durable timer, after 24:00 on 05-14 (and its grace window).
    expect(periods[1]!.closed_at.getTime()).toBeGreaterThanOrEqual(Date.parse('2027-05-15T00:00:00+08:00'));
  });
});
