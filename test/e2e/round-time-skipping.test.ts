import fs from 'node:fs';
import os from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSearchAttributes } from '../../infra/temporal-server.js';
import { startMaildev, type RunningMaildev } from '../../infra/maildev.js';
import { freePort } from '../../infra/ports.js';
import { loadConfig } from '../../platform/config.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { startWorker, type RunningWorker } from '../../worker.js';
import type { RoundInput, RoundResult, RoundState } from '../../workflows/round.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { universityContacts } from '../support/expected.js';
import { Mailbox, recipientPurposePairs } from '../support/mailbox.js';
import { testLogger, withFreshPorts } from '../support/stack.js';
import { eventually } from '../support/wait.js';

const TASK_QUEUE = 'ronghe-time-skipping';

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let maildev: RunningMaildev;
let worker: RunningWorker;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
  // The test server knows no custom search attributes until told.
  await ensureSearchAttributes(env.connection, 'default');
  database = await createTestDatabase();
  maildev = await withFreshPorts(async () => startMaildev({ smtpPort: await freePort(), webPort: await freePort() }));
  worker = await startWorker({
    temporalAddress: 'time-skipping',
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    db: database.db,
    attachments: new AttachmentStore(os.tmpdir(), 1024),
    smtpUrl: maildev.smtpUrl,
    mailFrom: loadConfig({ NODE_ENV: 'test' }).smtp.from,
    logger: testLogger(),
    workflowBundle: { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') },
  });
});

afterAll(async () => {
  await worker?.shutdown();
  await env?.teardown();
  await maildev?.stop();
  await database?.drop();
});

describe('a round over real calendar durations (time-skipping server)', () => {
  it('when a round opens in a future year, then notices go out at the opening and the call closes at 24:00 on the computed deadline, on the durable clock', async () => {
    const input: RoundInput = {
      roundId: 'round-demo_university-2027',
      programme: 'demo_university',
      year: 2027,
      opensAt: '2027-03-01T09:00:00+08:00',
      launchedBy: 'staff:test',
    };
    // Started without the API, so without its row: the workflow's first activity writes it.
    const handle = await env.client.workflow.start<(i: RoundInput) => Promise<RoundResult>>('roundWorkflow', {
      workflowId: input.roundId,
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    const mailbox = new Mailbox(maildev.apiUrl);

    // Before the opening: the deadline is computed, nothing is sent.
    const scheduled = await eventually(async () => {
      const s = await handle.query<RoundState>('getRound');
      return s.stage === 'scheduled' ? s : undefined;
    });
    // 20 working days from Mon 2027-03-01; 2027 has no official arrangement yet, so the date is an estimate.
    expect(scheduled).toMatchObject({
      deadlineDay: '2027-03-26',
      deadlineAt: '2027-03-27T00:00:00+08:00',
      deadlineEstimated: true,
    });
    expect(await mailbox.list()).toEqual([]);

    // Skip to one minute after the opening.
    await env.sleep(Date.parse(input.opensAt) + 60_000 - (await env.currentTimeMs()));
    const open = await eventually(async () => {
      const s = await handle.query<RoundState>('getRound');
      return s.noticesSent === universityContacts().length ? s : undefined;
    });
    expect(open.stage).toBe('call_open');
    const emails = await mailbox.waitForCount(universityContacts().length);
    expect(recipientPurposePairs(emails)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'call_notice' }))),
    );
    // An estimated deadline says so in every notice.
    expect(emails[0]!.subject).toContain('（预计）');
    expect(emails[0]!.text).toContain('申报截止：2027年3月26日 24:00（预计');

    await expect(handle.result()).resolves.toMatchObject({ stage: 'call_closed' });
    const row = await database.db('rounds').where({ id: input.roundId }).first();
    expect(row).toMatchObject({
      status: 'call_closed',
      title_zh: '2027年度产教融合示范高校申报',
      launched_by: 'staff:test',
      deadline_day: '2027-03-26',
      deadline_estimated: true,
    });
    // Closed by the durable timer at 24:00 Shanghai time on the deadline day — not a moment before.
    const closedAt = (row as { closed_at: Date }).closed_at.getTime();
    const deadline = Date.parse('2027-03-27T00:00:00+08:00');
    expect(closedAt).toBeGreaterThanOrEqual(deadline);
    expect(closedAt - deadline).toBeLessThan(5_000);
  });
});
