import fs from 'node:fs';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collegeContacts, universityContacts } from '../support/expected.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

let stack: TestStack;
let staff: string;

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'e2e-officer' });
});

afterAll(async () => {
  await stack?.stop();
});

interface Launched {
  roundId: string;
  runId: string;
  titleZh: string;
}

describe('launching a round (the thin vertical slice)', () => {
  it('when staff launch demo_college 2027, then one workflow runs with its search attributes and memo, and every eligible college gets the call notice exactly once', async () => {
    const res = await stack.request<Launched>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'demo_college', year: 2027 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/api/rounds/round-demo_college-2027');
    expect(res.body).toMatchObject({ roundId: 'round-demo_college-2027', titleZh: '2027年度产教融合示范学院申报' });

    const expected = collegeContacts().map((to) => ({ to, purpose: 'call_notice' }));
    const emails = await stack.mailbox.waitForCount(expected.length);
    expect(recipientPurposePairs(emails)).toEqual(recipientPurposePairs(expected));
    for (const email of emails) {
      expect(email.idempotencyKey).toBe(`round-demo_college-2027/call_notice/${email.idempotencyKey?.split('/')[2]}`);
      expect(email.subject).toBe('【申报通知】2027年度产教融合示范学院申报');
      expect(email.text).toContain('申报截止：');
    }
    expect(new Set(emails.map((e) => e.messageId)).size).toBe(emails.length);

    const listed = await eventually(
      async () => {
        const found = [];
        for await (const wf of stack.client.workflow.list({ query: "Programme='demo_college' AND RoundYear=2027" }))
          found.push(wf);
        return found.length > 0 ? found : undefined;
      },
      { what: 'the round in the visibility store' },
    );
    expect(listed.map((w) => w.workflowId)).toEqual(['round-demo_college-2027']);
    expect(listed[0]!.memo).toEqual({ title: '2027年度产教融合示范学院申报' });

    const round = await stack.request<{
      status: string;
      deadline: { estimated: boolean; calendarVersion: number };
      workflow: { stage: string; noticesSent: number };
    }>('GET', '/api/rounds/round-demo_college-2027', { token: staff });
    expect(round.status).toBe(200);
    expect(round.body.workflow).toMatchObject({ stage: 'call_open', noticesSent: expected.length });
    expect(round.body.deadline.calendarVersion).toBeGreaterThan(0);

    const audit = await stack.database.db('audit_events').where({ subject_id: 'round-demo_college-2027' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'staff:e2e-officer', role: 'staff', action: 'round.launch' });
  });

  it('when two launches of the same programme and year race, then exactly one is created (201) and the other gets 409 ROUND_EXISTS', async () => {
    const body = { programme: 'practice_base', year: 2027 };
    const [a, b] = await Promise.all([
      stack.request('POST', '/api/rounds', { token: staff, body }),
      stack.request('POST', '/api/rounds', { token: staff, body }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const refused = (a.status === 409 ? a : b).body as { code: string; title: string };
    expect(refused.code).toBe('ROUND_EXISTS');
    expect(refused.title).toBe('该项目类别本年度的申报批次已存在');
    expect((a.status === 409 ? a : b).contentType).toContain('application/problem+json');

    const runs = await eventually(async () => {
      const found = [];
      for await (const wf of stack.client.workflow.list({ query: "WorkflowId='round-practice_base-2027'" }))
        found.push(wf);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toHaveLength(1);
    expect(await stack.database.db('rounds').where({ programme: 'practice_base', year: 2027 })).toHaveLength(1);
  });

  it('when a round has completed, then relaunching it is refused and its history replays with the current code', async () => {
    // Compressed time: the call's 20 working days pass in about two seconds of wall time.
    const launched = await stack.request<Launched>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'alliance', year: 2027, timeScale: 1_500_000 },
    });
    expect(launched.status).toBe(201);
    const handle = stack.client.workflow.getHandle('round-alliance-2027');
    await expect(handle.result()).resolves.toMatchObject({
      stage: 'closed',
      noticesSent: universityContacts().length,
    });

    const again = await stack.request<{ code: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'alliance', year: 2027 },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ROUND_EXISTS');

    // Replaying the completed history with today's code guards determinism.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') } },
      history,
    );

    const round = await stack.request<{ status: string; workflow: { status: string } }>(
      'GET',
      '/api/rounds/round-alliance-2027',
      {
        token: staff,
      },
    );
    expect(round.body).toMatchObject({ status: 'closed', workflow: { status: 'COMPLETED' } });
  });

  it('when Temporal no longer holds a past round (its retention dropped the history), then the database row still refuses a relaunch', async () => {
    // A round from years ago: its row is all that is left.
    await stack.database.db('rounds').insert({
      id: 'round-brand_project-2024',
      programme: 'brand_project',
      year: 2024,
      title_zh: '2024年度产教融合品牌项目申报',
      status: 'call_closed',
      opens_at: new Date('2024-03-01T01:00:00Z'),
      launched_by: 'staff:archive',
      rules_version: 1,
    });
    const relaunch = await stack.request<{ code: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'brand_project', year: 2024 },
    });
    expect(relaunch.status).toBe(409);
    expect(relaunch.body.code).toBe('ROUND_EXISTS');
    await expect(stack.client.workflow.getHandle('round-brand_project-2024').describe()).rejects.toThrow(/not found/i);
  });
});

describe('the API surface', () => {
  it('answers /healthz with both dependencies up', async () => {
    const res = await stack.request<{ status: string; checks: Record<string, { status: string }> }>('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks.temporal!.status).toBe('ok');
    expect(res.body.checks.database!.status).toBe('ok');
  });

  it('publishes its OpenAPI document and the Swagger UI', async () => {
    const doc = await stack.request<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/openapi.json',
    );
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/rounds',
        '/api/rounds/{roundId}',
        '/api/calendar/period',
        '/api/calendar/reminder',
        '/api/calendar/years/{year}',
        '/healthz',
      ]),
    );
    expect(doc.body.paths['/api/rounds']!.post).toBeDefined();
    const ui = await fetch(`${stack.api.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });

  it.each([
    ['no token', undefined, { programme: 'demo_university', year: 2028 }, 401, 'UNAUTHENTICATED'],
    ['an applicant token', 'applicant', { programme: 'demo_university', year: 2028 }, 403, 'FORBIDDEN'],
    ['an unknown programme', 'staff', { programme: 'nope', year: 2028 }, 422, 'VALIDATION_FAILED'],
    ['a year out of range', 'staff', { programme: 'demo_university', year: 1999 }, 422, 'VALIDATION_FAILED'],
    ['an unknown field', 'staff', { programme: 'demo_university', year: 2028, extra: 1 }, 422, 'VALIDATION_FAILED'],
    [
      'a deadline before the opening',
      'staff',
      { programme: 'demo_university', year: 2028, opensAt: '2027-03-01T09:00:00+08:00', deadline: '2027-02-01' },
      422,
      'DEADLINE_INVALID',
    ],
    [
      'the showcase programme',
      'staff',
      { programme: 'typical_case', year: 2028 },
      409,
      'PROGRAMME_NOT_OPEN_FOR_ROUNDS',
    ],
  ])(
    'when a launch comes with %s, then it is refused as problem+json with a zh-CN title',
    async (_what, who, body, status, code) => {
      const token =
        who === 'staff' ? staff : who === 'applicant' ? await stack.token({ role: 'applicant', id: 'zzu' }) : undefined;
      const res = await stack.request<{ code: string; title: string; status: number }>('POST', '/api/rounds', {
        ...(token ? { token } : {}),
        body,
      });
      expect(res.status).toBe(status);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.code).toBe(code);
      expect(res.body.status).toBe(status);
      expect(res.body.title).toMatch(/[\u4e00-\u9fff]/);
    },
  );

  it('refuses malformed JSON, unknown routes and bad tokens as problem+json', async () => {
    const malformed = await stack.request<{ code: string }>('POST', '/api/rounds', {
      token: staff,
      raw: '{"programme":',
    });
    expect([malformed.status, malformed.body.code]).toEqual([400, 'MALFORMED_JSON']);
    const unknown = await stack.request<{ code: string }>('GET', '/api/nothing-here', { token: staff });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    const forged = await stack.request<{ code: string }>('GET', '/api/rounds/round-demo_college-2027', {
      token: `${staff}x`,
    });
    expect([forged.status, forged.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    const missing = await stack.request<{ code: string }>('GET', '/api/rounds/round-brand_project-2031', {
      token: staff,
    });
    expect([missing.status, missing.body.code]).toEqual([404, 'ROUND_NOT_FOUND']);
  });
});
