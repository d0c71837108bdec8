import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/paths.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/** The README's walkthrough, run as a user runs it, against a real stack. */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('scripts/walkthrough.sh', () => {
  it('drives a round from launch to 认定 through the API with curl; every error it provokes is problem+json with a zh-CN title', async () => {
    const child = spawn('bash', ['scripts/walkthrough.sh'], {
      cwd: projectRoot,
      // The token script checks each principal in the stack's database (as it does in npm start's).
      env: {
        ...process.env,
        API: stack.api.url,
        DATABASE_URL: stack.database.url,
        YEAR: '2027',
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('Walkthrough complete: round-teacher_station-2027 from launch to 认定.');
    const problems = [...output.matchAll(/✓ problem\+json: ([A-Z_]+) — (.+)/g)].map((m) => [m[1], m[2]]);
    expect(problems.map(([code]) => code)).toEqual([
      'ROUND_EXISTS',
      'DEADLINE_NOT_LATER',
      'LIMIT_EXCEEDED',
      'DEADLINE_PASSED',
      'VALIDATION_FAILED',
      'REAL_NAME_REQUIRED',
      'ALREADY_RESOLVED',
    ]);
    for (const [, title] of problems) expect(title).toMatch(/[\u4e00-\u9fff]/);
    const round = await stack.client.workflow.getHandle('round-teacher_station-2027').result();
    expect(round).toMatchObject({ stage: 'approved', approved: 2 });
    // Its decisions were each crashed once after their commit (the default fault), and the round still ended.
    expect(stack.crashedDecisions).toMatchObject({
      applyExtension: 1,
      confirmShortlist: 1,
      recordObjection: 1,
      recordResolution: 1,
    });
    expect(stack.crashedDecisions.recordSubmission).toBeGreaterThan(0);
  }, 400_000);
});
