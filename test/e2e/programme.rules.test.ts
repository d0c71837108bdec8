import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundContext } from '../../db/repositories/round.rules.js';
import { shanghaiDayOf } from '../../domain/calendar/index.js';
import { staffAccessToken } from '../support/accounts.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 16, point 2: a programme's rules are versioned, and a round keeps the version it was launched with. On the
 * real stack (Temporal, PostgreSQL): a round is launched, the administrator changes the rules (a limit and the
 * call's working days), the running round keeps applying the old version while a round launched after applies
 * the new one — its deadline is counted with the new working days.
 */
let stack: TestStack;
let officer: string;
let admin: string;

beforeAll(async () => {
  stack = await startTestStack();
  officer = await stack.token({ role: 'staff', id: 'rules-officer' });
  admin = (
    await staffAccessToken(stack.database.db, { email: 'rules.admin@ronghe.example', staffRole: 'administrator' })
  ).token;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Programme {
  rulesVersion: number;
  rules: { limits: { perApplicant: number; perUniversity: number }; call: { workingDays: number } } & Record<
    string,
    unknown
  >;
}
interface Round {
  rulesVersion: number;
  opensAt: string;
  deadline: { day: string } | null;
}
type Problem = { code: string; detail: string; errors?: { path: string; message: string }[] };

async function launchedRound(year: number): Promise<Round> {
  const launched = await stack.request('POST', '/api/rounds', {
    token: officer,
    body: { programme: 'demo_college', year },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  // The workflow computes the deadline from the rules it applies (prepareRound).
  return eventually(
    async () => {
      const round = await stack.request<Round>('GET', `/api/rounds/round-demo_college-${year}`, { token: officer });
      return round.body.deadline ? round.body : undefined;
    },
    { what: `the ${year} round's deadline` },
  );
}

describe("a programme's rules are versioned; a round keeps the version it was launched with", () => {
  it('changes a limit and the call period: the running round keeps version 1, a new round applies version 2', async () => {
    const before = await stack.request<Programme>('GET', '/api/programmes/demo_college', { token: officer });
    expect(before.status).toBe(200);
    expect(before.body.rulesVersion).toBe(1);
    expect(before.body.rules.limits).toEqual({ perApplicant: 1, perUniversity: 2 });
    expect(before.body.rules.call.workingDays).toBe(20);

    const running = await launchedRound(2027);
    expect(running.rulesVersion).toBe(1);

    const changed = {
      ...before.body.rules,
      limits: { perApplicant: 1, perUniversity: 3 },
      call: { ...before.body.rules.call, workingDays: 30 },
    };
    // Only the administrator changes rules; a change that does not hold together names what is wrong.
    const byOfficer = await stack.request<Problem>('PUT', '/api/programmes/demo_college/rules', {
      token: officer,
      body: { baseVersion: 1, reason: '试图修改', rules: changed },
    });
    expect(byOfficer.status).toBe(403);
    const rubric = (before.body.rules.rubric as { key: string; nameZh: string; weight: number }[]).map((c, i) =>
      i === 0 ? { ...c, weight: c.weight - 1 } : c,
    );
    const badWeights = await stack.request<Problem>('PUT', '/api/programmes/demo_college/rules', {
      token: admin,
      body: { baseVersion: 1, reason: '调整权重', rules: { ...changed, rubric } },
    });
    expect([badWeights.status, badWeights.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(badWeights.body.errors).toEqual([
      expect.objectContaining({ path: 'rules.rubric', message: '评审指标的权重之和应为 100，现为 99' }),
    ]);

    const put = await stack.request<Programme>('PUT', '/api/programmes/demo_college/rules', {
      token: admin,
      body: { baseVersion: 1, reason: '2028 年起每校限报 3 项，申报期延长至 30 个工作日', rules: changed },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.rulesVersion).toBe(2);
    // A change based on the old version again: refused, never silently applied over the other.
    const stale = await stack.request<Problem>('PUT', '/api/programmes/demo_college/rules', {
      token: admin,
      body: { baseVersion: 1, reason: '另一项修改', rules: before.body.rules },
    });
    expect([stale.status, stale.body.code]).toEqual([409, 'RULES_VERSION_CONFLICT']);

    // The same rules again are no change: the answer is the current version, and no version is recorded.
    const current = await stack.request<Programme>('GET', '/api/programmes/demo_college', { token: officer });
    const same = await stack.request<Programme>('PUT', '/api/programmes/demo_college/rules', {
      token: admin,
      body: { baseVersion: 2, reason: '原样保存', rules: current.body.rules },
    });
    expect([same.status, same.body.rulesVersion]).toEqual([200, 2]);

    const versions = await stack.request<{
      versions: { version: number; reason: string; changedBy: string; source: string }[];
    }>('GET', '/api/programmes/demo_college/rules/versions', { token: officer });
    expect(versions.body.versions.map((v) => [v.version, v.source])).toEqual([
      [2, 'api'],
      [1, 'seed'],
    ]);
    expect(versions.body.versions[0]).toMatchObject({
      reason: '2028 年起每校限报 3 项，申报期延长至 30 个工作日',
      changedBy: expect.stringContaining('staff:administrator'),
    });

    // The running round: still version 1, its limits those of version 1.
    const kept = await stack.request<Round>('GET', '/api/rounds/round-demo_college-2027', { token: officer });
    expect(kept.body.rulesVersion).toBe(1);
    expect((await roundContext(stack.database.db, 'round-demo_college-2027'))!.rules.limits.perUniversity).toBe(2);

    // A round launched now: version 2, its limit and its call period those of version 2.
    const next = await launchedRound(2028);
    expect(next.rulesVersion).toBe(2);
    expect((await roundContext(stack.database.db, 'round-demo_college-2028'))!.rules.limits.perUniversity).toBe(3);
    // Each deadline is its own opening day plus the call's working days of the version it applies.
    const period = async (round: Round, workingDays: number) =>
      (
        await stack.request<{ lastDay: string }>(
          'GET',
          `/api/calendar/period?opens=${shanghaiDayOf(new Date(round.opensAt))}&workingDays=${workingDays}`,
        )
      ).body.lastDay;
    expect(running.deadline!.day).toBe(await period(running, 20));
    expect(next.deadline!.day).toBe(await period(next, 30));
  }, 240_000);

  it('a round launched with its own adjustments: refused when they do not hold together with the rules, shown on the round when they do', async () => {
    const refused = await stack.request<Problem>('POST', '/api/rounds', {
      token: officer,
      body: { programme: 'demo_college', year: 2031, rules: { limits: { perApplicant: 3, perUniversity: 1 } } },
    });
    expect([refused.status, refused.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(refused.body.errors?.map((e) => e.path)).toEqual(['rules.limits.perUniversity']);
    expect(await stack.database.db('rounds').where({ id: 'round-demo_college-2031' }).first()).toBeUndefined();

    const launched = await stack.request('POST', '/api/rounds', {
      token: officer,
      body: { programme: 'demo_college', year: 2031, rules: { limits: { perUniversity: 4 } } },
    });
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    const round = await stack.request<{ ruleAdjustments: unknown }>('GET', '/api/rounds/round-demo_college-2031', {
      token: officer,
    });
    expect(round.body.ruleAdjustments).toEqual({ limits: { perUniversity: 4 } });
  }, 120_000);
});
