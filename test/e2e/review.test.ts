import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { enterNationalDay2027, seedRoundForReview, startRoundReview } from '../support/review.round.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Procedure 2 over real calendar durations on the time-skipping server, with the real API in front:
 * an expert declines and another misses the due date; both are replaced once; reminders reach only experts
 * with reviews still open, at 09:00 on the right working days; an under-reviewed application is flagged.
 */
const TASK_QUEUE = 'ronghe-review-ts';
const ROUND = 'round-research_project-2027';
const REVIEW = `review-${ROUND}`;

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
});

afterAll(async () => {
  await stack?.stop();
});

const skipTo = (shanghai: string) => stack.skipTo(shanghai);

async function call<T>(
  method: string,
  urlPath: string,
  expertId: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const token = await signToken({ role: 'expert', id: expertId }, stack.config.auth.secret);
  const res = await fetch(`${stack.api!.url}${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Row {
  id: string;
  item_id: string;
  expert_id: string;
  status: string;
  wave: number;
  replaces_assignment_id: string | null;
}

const rows = () =>
  stack.database
    .db('review_assignments')
    .orderBy('invited_at')
    .select<Row[]>('id', 'item_id', 'expert_id', 'status', 'wave', 'replaces_assignment_id');

async function reminders(): Promise<string[]> {
  const sent = await stack.database
    .db('email_outbox')
    .where({ workflow_id: REVIEW, purpose: 'review_reminder', status: 'sent' })
    .select<{ recipient: string; due_at: Date }[]>('recipient', 'due_at');
  return sent.map((r) => `${r.recipient.split('@')[0]} ${r.due_at.toISOString()}`).sort();
}

const rubricScores = { significance: 90, approach: 88, industry_fit: 86, team: 84 };

/**
 * The expert of a declined or timed-out assignment is refused its material: 409 `ASSIGNMENT_CLOSED`, a detail
 * naming `why`, and nothing of the application; staff still read it.
 */
async function expectMaterialClosed(a: Row, why: string): Promise<void> {
  const refused = await call<{ code: string; detail: string }>('GET', `/api/assignments/${a.id}`, a.expert_id);
  expect(refused.status).toBe(409);
  expect(refused.body.code).toBe('ASSIGNMENT_CLOSED');
  expect(refused.body.detail).toContain(why);
  expect(refused.body.detail).toContain('不能再查看评审材料');
  expect(JSON.stringify(refused.body)).not.toContain('研究项目');
  const staff = await signToken({ role: 'staff', id: 'officer-review' }, stack.config.auth.secret);
  const res = await fetch(`${stack.api!.url}/api/assignments/${a.id}`, {
    headers: { Authorization: `Bearer ${staff}` },
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { item: { title: string } }).item.title).toContain('研究项目');
}

describe('expert review over real calendar durations (time-skipping server)', () => {
  it('replaces a decline and a timeout once each, reminds only experts with open reviews at 09:00 on the right working days, and flags an under-reviewed application', async () => {
    await enterNationalDay2027(stack.database.db);
    // Two applications that passed the formal check, and a pool of five experts of their field.
    const [a1, a2] = await seedRoundForReview(stack.database.db, {
      roundId: ROUND,
      titleTag: 'A',
      experts: [1, 2, 3, 4, 5].map((n) => ({ id: `e${n}`, nameZh: `专家${n}` })),
    });

    // The review starts on Fri 2027-09-24: 10 working days (counting the 调休 days, skipping 国庆) end Tue 10-12.
    const { handle, state } = await startRoundReview(stack, {
      roundId: ROUND,
      workflowId: REVIEW,
      taskQueue: TASK_QUEUE,
    });
    expect(state.groups).toEqual([
      {
        dueDay: '2027-10-12',
        dueAt: '2027-10-13T00:00:00+08:00',
        reminders: [
          { k: 3, day: '2027-10-08', at: '2027-10-08T09:00:00+08:00' },
          { k: 1, day: '2027-10-11', at: '2027-10-11T09:00:00+08:00' },
        ],
      },
    ]);
    const first = await rows();
    expect(first).toHaveLength(6);

    // X declines an A1 review the same day; the replacement joins the same due group.
    const onA1 = first.filter((r) => r.item_id === a1!.id);
    const onA2 = first.filter((r) => r.item_id === a2!.id);
    const x = onA1[0]!;
    expect(
      (await call('POST', `/api/assignments/${x.id}/decline`, x.expert_id, { reason: '出差无法按时完成' })).status,
    ).toBe(200);
    const r1 = await eventually(async () => (await rows()).find((r) => r.replaces_assignment_id === x.id));
    expect(r1.wave).toBe(1);
    // Once declined, X no longer reads the material (issue 15, point 5): a 409 that says why, no content.
    await expectMaterialClosed(x, '已谢绝');
    // Y (on A2) never submits; Z (on A1) submits only after the first reminder; everyone else at once.
    const y = onA2.find((r) => r.expert_id !== x.expert_id)!;
    const z = onA1.find((r) => r !== x && r.expert_id !== y.expert_id)!;
    for (const r of [...first.filter((r) => r !== x && r !== y && r !== z), r1]) {
      expect((await call('PUT', `/api/assignments/${r.id}/review`, r.expert_id, { scores: rubricScores })).status).toBe(
        200,
      );
    }

    await skipTo('2027-10-08T08:59:00+08:00');
    expect(await reminders()).toEqual([]);
    await skipTo('2027-10-08T09:01:00+08:00');
    const k3 = [y.expert_id, z.expert_id].map((e) => `${e} 2027-10-08T01:00:00.000Z`).sort();
    await eventually(async () => ((await reminders()).length === 2 ? true : undefined));
    expect(await reminders()).toEqual(k3);
    expect((await call('PUT', `/api/assignments/${z.id}/review`, z.expert_id, { scores: rubricScores })).status).toBe(
      200,
    );

    await skipTo('2027-10-11T09:01:00+08:00');
    await eventually(async () => ((await reminders()).length === 3 ? true : undefined));
    expect(await reminders()).toEqual([...k3, `${y.expert_id} 2027-10-11T01:00:00.000Z`].sort());

    // Y misses 10-12 24:00: timed out (after the grace window) and replaced once; the replacement's own 10
    // working days run from Wed 10-13 to Tue 10-26.
    await skipTo('2027-10-13T00:11:00+08:00');
    const r2 = await eventually(async () => (await rows()).find((r) => r.replaces_assignment_id === y.id));
    expect((await rows()).find((r) => r.id === y.id)!.status).toBe('timed_out');
    await expectMaterialClosed(y, '已逾期');
    // The replacement never answers either: reminded on 10-21 and 10-25 at 09:00, then it times out too.
    await skipTo('2027-10-21T08:59:00+08:00');
    expect(await reminders()).toHaveLength(3);
    await skipTo('2027-10-25T09:01:00+08:00');
    await eventually(async () => ((await reminders()).length === 5 ? true : undefined));
    expect(await reminders()).toEqual(
      [
        ...k3,
        `${y.expert_id} 2027-10-11T01:00:00.000Z`,
        `${r2.expert_id} 2027-10-21T01:00:00.000Z`,
        `${r2.expert_id} 2027-10-25T01:00:00.000Z`,
      ].sort(),
    );

    const result = await handle.result();
    expect(result).toEqual({ items: 2, recommended: 1, underReviewed: 1, spread: 0 });
    const final = await rows();
    // Each lost review was replaced exactly once; the replacement that also timed out was not replaced again.
    expect(
      final
        .filter((r) => r.wave === 1)
        .map((r) => r.replaces_assignment_id)
        .sort(),
    ).toEqual([x.id, y.id].sort());
    expect(final.find((r) => r.id === r2.id)!.status).toBe('timed_out');
    const results = await stack.database
      .db('review_results')
      .orderBy('rank')
      .select<{ item_id: string; valid_scores: number; flags: string[]; recommended: boolean }[]>(
        'item_id',
        'valid_scores',
        'flags',
        'recommended',
      );
    expect(results).toEqual([
      { item_id: a1!.id, valid_scores: 3, flags: [], recommended: true },
      { item_id: a2!.id, valid_scores: 2, flags: ['under_reviewed'], recommended: false },
    ]);
    const staff = (await stack.mailbox.list()).filter((e) => e.purpose === 'review_completed');
    expect(staff).toHaveLength(1);
    expect(staff[0]!.text).toContain('有效评分不足的申报（1 项，不自动推荐）：研究项目 A2');
    const audit = await stack.database
      .db('audit_events')
      .whereIn('action', ['review.replace', 'review.timeout'])
      .select<{ action: string }[]>('action');
    expect(audit.map((a) => a.action).sort()).toEqual([
      'review.replace',
      'review.replace',
      'review.timeout',
      'review.timeout',
    ]);
  });
});
