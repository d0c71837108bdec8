import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createReceiptActivities } from '../../activities/receipts.js';
import { createApplication } from '../../db/repositories/round.applications.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import type { RoundState, RoundWorkflow } from '../../workflows/round.messages.js';
import { attachApplicationForm, insertDemoRound } from '../support/round.demo.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * `Idempotency-Key` (issue 13, point 3): a retried request keeps its first final answer and its first receipt
 * time. The API reaches Temporal through a proxy the test cuts: a submission received an hour before the
 * deadline cannot reach the workflow (503), and its retry under the same key, sent after the deadline, is on
 * time. A submission sent at the same moment without a key is not lost either: its receipt was written before its
 * Update, the call does not close while it is pending, even past the grace window, and the sweeper's
 * redelivery (`redeliverReceipts`) delivers it after the deadline, on time.
 */
const TASK_QUEUE = 'ronghe-idempotency';
const ROUND = 'round-demo_university-2027';

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true, apiTemporalProxy: true });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };
type Submission = { applicationId: string; status: string; receivedAt: string; version: number };

async function draftWithForm(institutionId: string): Promise<string> {
  const app = await createApplication(stack.database.db, {
    roundId: ROUND,
    institutionId,
    createdBy: `applicant:${institutionId}`,
    draft: {
      title: `${institutionId} 产教融合示范高校建设方案`,
      field: 'next_gen_it',
      summary:
        '以新一代信息技术为牵引，联合企业共建现代产业学院与研发中心，推动人才培养与产业需求对接，形成可复制推广的校企协同育人机制。',
    },
  });
  await attachApplicationForm(stack.database.db, stack.attachments, app.id, institutionId);
  return app.id;
}

describe('Idempotency-Key over a network failure at the deadline (time-skipping server)', () => {
  it('accepts, after the deadline, the retry of a submission first received before it, with its first receipt time; replays the answer; refuses the key for another request', async () => {
    const input = await insertDemoRound(stack.database.db);
    const zzu = await draftWithForm('zzu');
    const henu = await draftWithForm('henu');
    const zzuSpare = await draftWithForm('zzu');
    const handle = await stack.env.client.workflow.start<RoundWorkflow>('roundWorkflow', {
      workflowId: ROUND,
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    const state = () => handle.query<RoundState>('getRound');
    const deadline = await eventually(async () => {
      const s = await state();
      return s.stage === 'scheduled' ? s.deadline : undefined;
    });
    await stack.skipTo('2027-03-15T09:01:00+08:00');
    await eventually(async () => ((await state()).stage === 'call_open' ? true : undefined));

    const token = await stack.token({ role: 'applicant', id: 'zzu' });
    const henuToken = await stack.token({ role: 'applicant', id: 'henu' });
    const submit = (applicationId: string, key: string | undefined, bearer = token) =>
      fetch(`${stack.api!.url}/api/applications/${applicationId}/submit`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bearer}`, ...(key ? { 'Idempotency-Key': key } : {}) },
      }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as Submission & Problem }));
    type ReceiptRow = { update_id: string; caller: string; status: string; received_at: Date };
    const receipts = () =>
      stack.database.db('update_receipts').select<ReceiptRow[]>('update_id', 'caller', 'status', 'received_at');

    // An hour before the deadline the network between the API and Temporal fails: ours, so 503.
    await stack.skipTo('2027-04-06T23:00:00+08:00');
    const before = Date.parse(await stack.nowIso());
    stack.apiTemporal!.cut();
    const failed = await submit(zzu, 'zzu-final-2027');
    const after = Date.parse(await stack.nowIso());
    expect([failed.status, failed.body.code]).toEqual([503, 'RECEIPT_KEPT']);
    expect(failed.headers.get('retry-after')).toBe('5');
    const receipt = await stack.database.db('idempotency_keys').where({ key: 'zzu-final-2027' }).first();
    expect(receipt).toMatchObject({ caller: 'applicant:zzu', status: 'in_flight' });
    const firstReceipt: Date = receipt.received_at;
    expect(firstReceipt.getTime()).toBeGreaterThanOrEqual(before);
    expect(firstReceipt.getTime()).toBeLessThanOrEqual(after);
    // Without a key: also 503, and its receipt is kept, pending, with the Update it travels in.
    const keyless = await submit(henu, undefined, henuToken);
    expect([keyless.status, keyless.body.code, keyless.body.title]).toEqual([
      503,
      'RECEIPT_KEPT',
      '请求已收到并留存，将自动处理',
    ]);
    expect(keyless.body.detail).toContain('无需重复提交');
    const pending = await receipts();
    expect(pending.map((r) => [r.caller, r.status]).sort()).toEqual([
      ['applicant:henu', 'pending'],
      ['applicant:zzu', 'pending'],
    ]);
    const henuReceipt = pending.find((r) => r.caller === 'applicant:henu')!;
    expect(henuReceipt.update_id).toMatch(/^receipt\//);
    expect((keyless.body as unknown as { receiptId: string }).receiptId).toBe(henuReceipt.update_id);
    // The submission is of the draft as received: while it is pending, the draft cannot change under it (the
    // applicant might otherwise edit after the deadline and have the edit stored under the on-time receipt).
    const edit = (applicationId: string, bearer: string, title: string) =>
      stack.request<Problem>('PUT', `/api/applications/${applicationId}`, {
        token: bearer,
        body: { title, field: 'next_gen_it' },
      });
    const pinned = await edit(henu, henuToken, 'henu 改后的标题');
    expect([pinned.status, pinned.body.code]).toEqual([409, 'SUBMISSION_IN_PROGRESS']);
    expect((await edit(zzuSpare, token, 'zzu 另一项申报（修订）')).status).toBe(200);
    expect(
      await stack.database.db('update_receipts').where({ update_id: henuReceipt.update_id }).first(),
    ).toMatchObject({
      update_arg: expect.objectContaining({ revision: 2 }),
    });

    // The network is back after the deadline (inside the 10-minute processing grace): the retry is on time.
    await stack.skipTo('2027-04-07T00:03:00+08:00');
    expect(Date.parse(await stack.nowIso())).toBeGreaterThan(Date.parse(deadline.at));
    // An edit received after the deadline is refused by its receipt time, the engine still out of reach.
    const late = await edit(zzuSpare, token, 'zzu 截止后的修改');
    expect([late.status, late.body.code]).toEqual([409, 'CALL_CLOSED']);
    stack.apiTemporal!.restore();
    // As a client told Retry-After would: try again once the API reaches Temporal (its gRPC channel reconnects
    // with backoff after the cut).
    await eventually(async () => ((await stack.request('GET', '/healthz')).status === 200 ? true : undefined), {
      what: 'the API to reach Temporal again',
    });
    const retried = await submit(zzu, 'zzu-final-2027');
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ applicationId: zzu, status: 'submitted', version: 1 });
    expect(retried.body.receivedAt).toBe(formatShanghai(firstReceipt));

    // The same key again: the first final answer, replayed; nothing submitted twice.
    const replayed = await submit(zzu, 'zzu-final-2027');
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(retried.body);
    expect((await state()).submissions).toBe(1);
    expect(await stack.database.db('update_receipts').where({ caller: 'applicant:zzu' }).first()).toMatchObject({
      update_id: 'applicant:zzu/zzu-final-2027#1',
      status: 'accepted',
    });

    // The grace window ends, and the call does not close: a receipt received in time is still undelivered.
    await stack.skipTo('2027-04-07T00:20:00+08:00');
    expect((await state()).stage).toBe('call_closing');
    const polls = (await handle.fetchHistory()).events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'pendingReceipts',
    ).length;
    expect(polls).toBeGreaterThan(1);

    // The keyless receipt's holder is gone (its lease has run out): the sweeper's redelivery brings it in on time.
    await stack.database
      .db('update_receipts')
      .where({ caller: 'applicant:henu' })
      .update({
        locked_until: stack.database.db.raw(`now() - interval '1 second'`),
      });
    const activities = createReceiptActivities({ db: stack.database.db, temporal: stack.env.client } as ActivityDeps);
    const redeliverReceipts = (input: { batchSize: number }) => activities.redeliverReceipts(input);
    const sweeper = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });
    const swept = await sweeper.run(redeliverReceipts, { batchSize: 10 });
    expect(swept).toMatchObject({ claimed: 1, accepted: 1, refused: 0, failed: 0, pending: 0 });
    expect((await state()).submissions).toBe(2);
    const delivered = await stack.database
      .db('applications')
      .where({ id: henu })
      .first<{ status: string; received_at: Date }>('status', 'received_at');
    expect(delivered.status).toBe('submitted');
    expect(delivered.received_at).toEqual(henuReceipt.received_at);
    expect(delivered.received_at.getTime()).toBeLessThan(Date.parse(deadline.at));
    expect(await receipts()).toContainEqual({ ...henuReceipt, status: 'accepted' });
    const audit = await stack.database.db('audit_events').where({ action: 'receipt.redelivered' });
    expect(audit).toHaveLength(1);
    expect(audit[0].details).toMatchObject({ updateId: henuReceipt.update_id, outcome: 'accepted' });
    // Nothing is left to redeliver, and a second sweep sends nothing twice; the call closes with both.
    expect(await sweeper.run(redeliverReceipts, { batchSize: 10 })).toMatchObject({ claimed: 0 });
    await stack.skipTo('2027-04-07T00:21:00+08:00');
    await eventually(async () => ((await state()).stage !== 'call_closing' ? true : undefined), {
      what: 'the call to close',
    });

    // The same key for another request is refused, never dropped; a fresh request after the deadline is late.
    const reused = await submit(henu, 'zzu-final-2027');
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const tooLate = await submit(zzu, 'zzu-late');
    expect([tooLate.status, tooLate.body.code]).toEqual([409, 'DEADLINE_PASSED']);
  });
});
