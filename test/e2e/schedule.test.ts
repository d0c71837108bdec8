import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LauncherWorkflow } from '../../workflows/schedule.messages.js';
import { recordHistories } from '../support/record-histories.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Yearly launches by Temporal Schedules on the dev server with real PostgreSQL and maildev: exactly one round or
 * evaluation per programme and year, however it is launched (by its Schedule, triggered, or by hand).
 */
let stack: TestStack;
let staff: string;
const run = promisify(execFile);

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };
const db = () => stack.database.db;

/** What the dev server itself says, through its own CLI. */
async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await run(inject('temporalCliPath'), [...args, '--address', stack.temporal.address], {
    timeout: 30_000,
  });
  return stdout;
}

async function workflowsStartingWith(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) {
    ids.push(`${wf.workflowId} ${wf.status.name} ${wf.runId}`);
  }
  return ids.sort();
}

describe('yearly launches by Temporal Schedules (dev server)', () => {
  it('a Schedule created through the API is in `temporal schedule list`; triggering it launches the evaluation once, however often it is triggered or launched by hand', async () => {
    const created = await stack.request<{ scheduleId: string; nextRuns: string[]; title: string }>(
      'POST',
      '/api/schedules',
      { token: staff, body: { kind: 'evaluation', programme: 'practice_base', month: 3, day: 1 } },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.scheduleId).toBe('launch-evaluation-practice_base');
    expect(created.body.title).toMatch(/^每年3月1日 09:00 启动.+年度动态评价$/);
    // The next run is 1 March 09:00 Beijing time.
    expect(created.body.nextRuns[0]).toMatch(/^\d{4}-03-01T09:00:00\+08:00$/);

    const again = await stack.request<Problem>('POST', '/api/schedules', {
      token: staff,
      body: { kind: 'evaluation', programme: 'practice_base', month: 3, day: 1 },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('SCHEDULE_EXISTS');
    const notDirectory = await stack.request<Problem>('POST', '/api/schedules', {
      token: staff,
      body: { kind: 'evaluation', programme: 'research_project', month: 3, day: 1 },
    });
    expect(notDirectory.body.code).toBe('NOT_DIRECTORY_PROGRAMME');
    const badDay = await stack.request<Problem>('POST', '/api/schedules', {
      token: staff,
      body: { kind: 'round', programme: 'brand_project', month: 2, day: 30 },
    });
    expect(badDay.status).toBe(422);
    // Issue 14, point 7: a day some years lack (29 February: the next runs would be 2028, 2032, 2036) is refused
    // with the reason, and nothing is created (the round Schedule below is then created with 201, not 409).
    const leapDay = await stack.request<Problem & { errors?: { path: string; message: string }[] }>(
      'POST',
      '/api/schedules',
      { token: staff, body: { kind: 'round', programme: 'brand_project', month: 2, day: 29 } },
    );
    expect([leapDay.status, leapDay.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(leapDay.body.detail).toContain('2月29日并非每年都有');
    expect(leapDay.body.errors).toEqual([expect.objectContaining({ path: 'day' })]);
    const april31 = await stack.request<Problem>('POST', '/api/schedules', {
      token: staff,
      body: { kind: 'round', programme: 'brand_project', month: 4, day: 31 },
    });
    expect([april31.status, april31.body.detail]).toEqual([422, expect.stringContaining('4月没有31日')]);

    const listed = await eventually(async () => {
      const out = await temporalCli('schedule', 'list');
      return out.includes('launch-evaluation-practice_base') ? out : undefined;
    });
    expect(listed).toContain('launch-evaluation-practice_base');

    // Trigger now: the launcher takes the year from the trigger time (Asia/Shanghai) and starts the evaluation.
    const year = Number(
      new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()),
    );
    const evaluationId = `evaluation-practice_base-${year}`;
    expect(
      (await stack.request('POST', '/api/schedules/launch-evaluation-practice_base/trigger', { token: staff })).status,
    ).toBe(200);
    // The programme has no members yet: the evaluation has nothing to ask and publishes at once.
    await eventually(async () => {
      const d = await stack.client.workflow.getHandle(evaluationId).describe();
      return d.status.name === 'COMPLETED' ? true : undefined;
    });
    const published = await stack.request<{ status: string; results: unknown[] }>(
      'GET',
      `/api/evaluations/${evaluationId}`,
      { token: staff },
    );
    expect(published.body).toMatchObject({ status: 'published', results: [] });

    // Triggered again, and launched by hand: nothing starts twice.
    expect(
      (await stack.request('POST', '/api/schedules/launch-evaluation-practice_base/trigger', { token: staff })).status,
    ).toBe(200);
    const manual = await stack.request<Problem>('POST', '/api/evaluations', {
      token: staff,
      body: { programme: 'practice_base', year },
    });
    expect(manual.status).toBe(409);
    expect(manual.body.code).toBe('EVALUATION_EXISTS');

    const launchers = await eventually(async () => {
      const ids = await workflowsStartingWith('launcher-launch-evaluation-practice_base');
      return ids.length === 2 && ids.every((i) => i.includes(' COMPLETED ')) ? ids : undefined;
    });
    const results = await Promise.all(
      launchers.map((l) => {
        const [id, , runId] = l.split(' ');
        return stack.client.workflow.getHandle<LauncherWorkflow>(id!, runId).result();
      }),
    );
    expect(results.map((r) => r.outcome).sort(), JSON.stringify(results)).toEqual(['refused', 'started']);
    expect(results.find((r) => r.outcome === 'refused')).toMatchObject({ code: 'EVALUATION_EXISTS', year });
    expect(
      (await workflowsStartingWith('evaluation-practice_base-')).map((w) => w.split(' ').slice(0, 2).join(' ')),
    ).toEqual([`${evaluationId} COMPLETED`]);
    expect(await db()('evaluations').where({ programme: 'practice_base' }).count<{ n: string }[]>('* as n')).toEqual([
      { n: 1 },
    ]);
    const audits = await db()('audit_events')
      .whereIn('subject_id', ['launch-evaluation-practice_base', evaluationId])
      .orderBy('id')
      .select<{ action: string; actor: string; reason: string | null }[]>('action', 'actor', 'reason');
    expect(audits.map((a) => `${a.action} ${a.actor}`)).toEqual(
      expect.arrayContaining([
        'schedule.create staff:officer-li',
        'schedule.trigger staff:officer-li',
        'evaluation.launch schedule:launch-evaluation-practice_base',
        'schedule.launch_refused schedule:launch-evaluation-practice_base',
      ]),
    );
    expect(audits.filter((a) => a.action === 'evaluation.launch')).toHaveLength(1);

    // A round launched by hand first: the Schedule's trigger then starts nothing.
    const round = await stack.request('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'brand_project', year },
    });
    expect(round.status, JSON.stringify(round.body)).toBe(201);
    const roundSchedule = await stack.request('POST', '/api/schedules', {
      token: staff,
      body: { kind: 'round', programme: 'brand_project', month: 9, day: 1, hour: 10 },
    });
    expect(roundSchedule.status).toBe(201);
    expect(
      (await stack.request('POST', '/api/schedules/launch-round-brand_project/trigger', { token: staff })).status,
    ).toBe(200);
    const roundLauncher = await eventually(async () => {
      const ids = await workflowsStartingWith('launcher-launch-round-brand_project');
      return ids.length === 1 && ids[0]!.includes(' COMPLETED ') ? ids[0]!.split(' ')[0]! : undefined;
    });
    expect(await stack.client.workflow.getHandle<LauncherWorkflow>(roundLauncher).result()).toMatchObject({
      outcome: 'refused',
      code: 'ROUND_EXISTS',
    });

    // Pause (a reason required), list, resume.
    expect(
      (await stack.request('POST', '/api/schedules/launch-round-brand_project/pause', { token: staff, body: {} }))
        .status,
    ).toBe(422);
    const paused = await stack.request<{ paused: boolean; note: string }>(
      'POST',
      '/api/schedules/launch-round-brand_project/pause',
      { token: staff, body: { reason: '今年改为秋季统一部署' } },
    );
    expect(paused.body).toMatchObject({ paused: true, note: 'staff:officer-li：今年改为秋季统一部署' });
    const all = await eventually(async () => {
      const r = await stack.request<{ items: { scheduleId: string; paused: boolean }[] }>('GET', '/api/schedules', {
        token: staff,
      });
      return r.body.items.length === 2 ? r.body.items : undefined;
    });
    expect(all.map((s) => [s.scheduleId, s.paused])).toEqual([
      ['launch-evaluation-practice_base', false],
      ['launch-round-brand_project', true],
    ]);
    const resumed = await stack.request<{ paused: boolean }>(
      'POST',
      '/api/schedules/launch-round-brand_project/resume',
      {
        token: staff,
      },
    );
    expect(resumed.body.paused).toBe(false);
    expect(
      (await stack.request<Problem>('POST', '/api/schedules/launch-round-nowhere/trigger', { token: staff })).body.code,
    ).toBe('SCHEDULE_NOT_FOUND');
    await recordHistories(stack.client, {
      'launcher-evaluation-practice_base': launchers[results.findIndex((r) => r.outcome === 'started')]!.split(' ')[0]!,
      'launcher-round-brand_project-refused': roundLauncher,
    });
  });
});
