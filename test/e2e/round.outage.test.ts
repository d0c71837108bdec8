import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_AFTER_SECONDS } from '../../api/errors.js';
import { universityContacts } from '../support/expected.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * PostgreSQL goes away under the worker for 20 s while staff extend a call (issue 13, point 4). Before, the
 * extension's decision activity failed its five attempts inside the Update and the request came back 409
 * REQUEST_REJECTED carrying `connect ECONNREFUSED`: the extension was never applied and nobody was told.
 */
let stack: TestStack;
let staff: string;

beforeAll(async () => {
  stack = await startTestStack({ workerDatabaseProxy: true });
  staff = await stack.token({ role: 'staff', id: 'officer-wang' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };

describe('a database outage under the worker', () => {
  it('never turns a deadline extension into a refusal: it answers 200 or 503 with Retry-After, and the extension is applied once the database is back', async () => {
    const launched = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'alliance', year: 2028 },
    });
    expect(launched.status).toBe(201);
    const roundId = launched.body.roundId;
    const round = () =>
      stack.request<{
        deadline: { day: string };
        workflow: { stage: string; noticesSent: number; eligibleInstitutions: number };
      }>('GET', `/api/rounds/${roundId}`, { token: staff });
    await eventually(async () => {
      const w = (await round()).body.workflow;
      return w?.stage === 'call_open' && w.noticesSent === w.eligibleInstitutions ? true : undefined;
    });
    await stack.clearMailbox();

    stack.workerDatabase!.cut();
    const extension = stack.request<{ deadline: { day: string } } & Problem>('PUT', `/api/rounds/${roundId}/deadline`, {
      token: staff,
      body: { deadline: '2027-01-29', reason: '部分高校反映材料准备时间不足' },
    });
    // The outage lasts 20 s of wall time whatever the request does meanwhile.
    await delay(20_000);
    stack.workerDatabase!.restore();
    const answer = await extension;

    // Ours, not the officer's: a 503 that asks for a retry, or — the database came back in time — the result.
    expect([200, 503]).toContain(answer.status);
    if (answer.status === 503) {
      expect(answer.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(answer.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    } else {
      expect(answer.body.deadline.day).toBe('2027-01-29');
    }
    expect(JSON.stringify(answer.body)).not.toContain('ECONNREFUSED');

    // The Update carried on: the extension is applied and everyone eligible is told, once.
    await eventually(async () => ((await round()).body.deadline.day === '2027-01-29' ? true : undefined));
    const told = await stack.mailbox.waitForCount(universityContacts().length, { settleMs: 2_000 });
    expect(recipientPurposePairs(told)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'deadline_extended' }))),
    );
    // Nothing was audited as a refusal of the officer's request.
    const refusals = await stack.database.db('audit_events').where('action', 'like', '%refused%');
    expect(refusals).toEqual([]);
  });
});
