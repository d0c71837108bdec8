import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createReceiptActivities } from '../../activities/receipts.js';
import { createApplication } from '../../db/repositories/round.applications.js';
import { formatInstantZh, formatShanghai } from '../../domain/calendar/index.js';
import { Outbox } from '../../mail/outbox.js';
import { createSmtpTransport } from '../../mail/transport.js';
import type { RoundState, RoundWorkflow } from '../../workflows/round.messages.js';
import { attachApplicationForm, insertDemoRound } from '../support/round.demo.js';
import { testLogger } from '../support/stack.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * `Idempotency-Key` (issue 13, point 3): a retried request keeps its first final answer and its first receipt
 * time. The API reaches Temporal through a proxy the test cuts: a submission received an hour before the
 * deadline cannot reach the workflow (503), and its retry under the same key, sent after the deadline, is on
 * time. A submission sent at the same moment without a key is not lost either: its receipt was written before its
 * Update, the call does not close while it is pending, even past the grace window, and the sweeper's
 * redelivery (`redeliverReceipts`) delivers it after the deadline, on time. A kept receipt the workflow refuses
 * when it is redelivered is audited and its person emailed once, and `GET /api/receipts/:receiptId` shows it to
 * its caller and staff only.
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
    // "Not now", not a final answer: with Retry-After, and never kept under the request's key (found by a fresh
    // walk: the keyed edit was refused for good although the refusal says to edit once processing finished).
    const keyedEdit = await fetch(`${stack.api!.url}/api/applications/${henu}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${henuToken}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': 'henu-edit-1',
      },
      body: JSON.stringify({ title: 'henu 改后的标题', field: 'next_gen_it' }),
    });
    expect([keyedEdit.status, keyedEdit.headers.get('retry-after')]).toEqual([409, '5']);
    expect(
      await stack.database.db('idempotency_keys').where({ key: 'henu-edit-1' }).first('status', 'response_status'),
    ).toEqual({ status: 'in_flight', response_status: null });
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
    // A submission received after the recorded deadline is refused at once, not kept for a refusal later (found by
    // a fresh walk: it was answered 503 "will be processed", then refused and emailed).
    const lateSubmission = await submit(zzuSpare, undefined);
    expect([lateSubmission.status, lateSubmission.body.code]).toEqual([409, 'DEADLINE_PASSED']);
    expect(lateSubmission.body.detail).toMatch(
      /^申报已于 2027年4月6日 24:00 截止（本次接收时间 2027年4月7日 00:03），逾期不予受理$/,
    );
    expect(
      await stack.database
        .db('update_receipts')
        .where({ caller: 'applicant:zzu', status: 'refused' })
        .select('outcome_code'),
    ).toEqual([{ outcome_code: 'DEADLINE_PASSED' }]);
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
    expect(
      await stack.database
        .db('update_receipts')
        .where({ caller: 'applicant:zzu', status: 'accepted' })
        .select('update_id'),
    ).toEqual([{ update_id: 'applicant:zzu/zzu-final-2027#1' }]);

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

describe('A kept receipt the workflow refuses when it is redelivered (time-skipping server)', () => {
  // Continues from the round the test above left past its deadline and its grace window.
  it('when a receipt received after the deadline is redelivered, then it is refused, audited, its institution emailed once, and readable by its caller and staff only', async () => {
    const db = stack.database.db;
    const zzu = await db('applications').where({ round_id: ROUND, institution_id: 'zzu' }).first<{ id: string }>('id');
    const receivedAt = new Date(await stack.nowIso());
    // A receipt whose API process died after writing it (its lease has run out); its id has "/", ":" and "#".
    const receiptId = 'applicant:zzu/zzu-after-hours#1';
    const updateArg = {
      applicationId: zzu.id,
      institutionId: 'zzu',
      receivedAt: receivedAt.toISOString(),
      actor: 'applicant:zzu',
    };
    await db('update_receipts').insert({
      update_id: receiptId,
      workflow_id: ROUND,
      update_name: 'submitApplication',
      update_arg: JSON.stringify(updateArg),
      caller: 'applicant:zzu',
      received_at: receivedAt,
      status: 'pending',
      locked_until: db.raw(`now() - interval '1 second'`),
    });
    // An objector's receipt still held by its sender: readable with its id alone, never with its contents.
    const objectionId = 'receipt/6d0c2f9e-5b8a-4c1d-9e3f-2a7b8c9d0e1f';
    await db('update_receipts').insert({
      update_id: objectionId,
      workflow_id: `publicity-${ROUND}`,
      update_name: 'fileObjection',
      update_arg: JSON.stringify({ name: '王芳', email: 'wang.fang@example.cn', phone: '13800000000' }),
      caller: 'public:王芳',
      received_at: receivedAt,
      status: 'pending',
      locked_until: db.raw(`now() + interval '1 hour'`),
    });

    const outbox = new Outbox(db, createSmtpTransport(stack.maildev.smtpUrl), stack.config.smtp.from, testLogger());
    const activities = createReceiptActivities({ db, temporal: stack.env.client, outbox } as ActivityDeps);
    const redeliverReceipts = (input: { batchSize: number }) => activities.redeliverReceipts(input);
    const sweeper = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });
    expect(await sweeper.run(redeliverReceipts, { batchSize: 10 })).toMatchObject({
      claimed: 1,
      accepted: 0,
      refused: 1,
      failed: 0,
      pending: 0,
    });
    const row = await db('update_receipts').where({ update_id: receiptId }).first<{
      status: string;
      outcome_code: string;
      outcome_message: string;
      answered_at: Date;
      redeliveries: number;
    }>();
    expect(row).toMatchObject({ status: 'refused', outcome_code: 'DEADLINE_PASSED', redeliveries: 1 });

    // Audited as a refusal of the person's request, with what, when and why.
    const refusals = await db('audit_events').where({ action: 'receipt.refused' });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ actor: 'applicant:zzu', workflow_id: ROUND, reason: row.outcome_message });
    expect(refusals[0].details).toEqual({
      updateId: receiptId,
      update: 'submitApplication',
      receivedAt: receivedAt.toISOString(),
      code: 'DEADLINE_PASSED',
      message: row.outcome_message,
    });
    expect(await db('audit_events').where({ action: 'receipt.not_notified' })).toHaveLength(0);

    // Emailed once to the institution's contact: what, when, why, the receipt id and whom to ask.
    const contact = await db('institutions').where({ id: 'zzu' }).first<{ contact_email: string }>('contact_email');
    const refusedMail = async () => (await stack.mailbox.list()).filter((e) => e.purpose === 'receipt_refused');
    const [mail] = await eventually(
      async () => {
        const found = await refusedMail();
        return found.length > 0 ? found : undefined;
      },
      { what: 'the refusal email' },
    );
    expect(mail!.to).toBe(contact.contact_email);
    expect(mail!.idempotencyKey).toBe(`${receiptId}/receipt_refused`);
    expect(mail!.subject).toContain('提交申报');
    for (const fact of [
      formatInstantZh(receivedAt),
      row.outcome_message,
      receiptId,
      '本通知所列联系人',
      '关于申报项目《',
    ]) {
      expect(mail!.text).toContain(fact);
    }
    // A second sweep finds nothing to redeliver and sends nothing again.
    expect(await sweeper.run(redeliverReceipts, { batchSize: 10 })).toMatchObject({ claimed: 0 });
    await outbox.sweep(10);
    expect(await refusedMail()).toHaveLength(1);
    expect(await db('email_outbox').where({ purpose: 'receipt_refused' })).toHaveLength(1);

    // The receipt, read by its id URL-encoded in one path segment.
    const read = async (id: string, bearer?: string) => {
      const r = await fetch(`${stack.api!.url}/api/receipts/${encodeURIComponent(id)}`, {
        headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const expected = {
      receiptId,
      update: { name: 'submitApplication', labelZh: '提交申报' },
      receivedAt: formatShanghai(receivedAt),
      status: 'refused',
      code: 'DEADLINE_PASSED',
      message: row.outcome_message,
      answeredAt: formatShanghai(row.answered_at),
      redeliveries: 1,
    };
    const own = await read(receiptId, await stack.token({ role: 'applicant', id: 'zzu' }));
    expect(own).toEqual({ status: 200, body: expected });
    const staff = await read(receiptId, await stack.token({ role: 'staff', id: 'li' }));
    expect(staff).toEqual({
      status: 200,
      body: { ...expected, workflowId: ROUND, caller: 'applicant:zzu', updateArg },
    });
    for (const other of [
      await stack.token({ role: 'applicant', id: 'henu' }),
      await stack.token({ role: 'expert', id: 'exp-001' }),
      undefined,
    ]) {
      const refused = await read(receiptId, other);
      expect([refused.status, refused.body.code]).toEqual([404, 'RECEIPT_NOT_FOUND']);
    }
    const unknown = await read('receipt/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'RECEIPT_NOT_FOUND']);
    // Unencoded, the "/" splits the id into other path segments and "#" never reaches the server.
    const raw = await fetch(`${stack.api!.url}/api/receipts/${receiptId}`);
    expect(raw.status).toBe(404);

    // The objector's receipt without a token: its state, never its contents or who made it.
    const objection = await read(objectionId);
    expect(objection).toEqual({
      status: 200,
      body: {
        receiptId: objectionId,
        update: { name: 'fileObjection', labelZh: '公示异议' },
        receivedAt: formatShanghai(receivedAt),
        status: 'pending',
        redeliveries: 0,
      },
    });
    expect(JSON.stringify(objection.body)).not.toMatch(/王芳|example\.cn|138/);
    const staffView = await read(objectionId, await stack.token({ role: 'staff', id: 'li' }));
    expect(staffView.body).toMatchObject({ caller: 'public:王芳', updateArg: { email: 'wang.fang@example.cn' } });
  });
});
