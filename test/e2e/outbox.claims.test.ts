import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '../../local-stack/process.js';
import { outboxMessageId, type EmailRef } from '../../mail/outbox.js';
import { OUTBOX_SWEEPER_WORKFLOW_ID } from '../../domain/workflow-ids.js';
import { recordHistories } from '../support/record-histories.js';
import { startTestStack, TEST_TASK_QUEUE, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * The claimed outbox (issue 13, point 2), on real Temporal, PostgreSQL and maildev:
 *  - rows nobody sends (left pending by a crash between a commit and its send; a claim whose sender died)
 *    are delivered by the sweeper workflow the worker started;
 *  - a row whose hand-over keeps failing is `failed` with the SMTP error after OUTBOX_MAX_ATTEMPTS, listed
 *    for staff, and resent — audited — with the same Message-ID;
 *  - two worker processes sweeping one outbox deliver every row exactly once, and both take part.
 */
const FAILING = 'always-refused@example.test';
const smtp = { refusing: true };
const refusals = { count: 0 };

let stack: TestStack;
const workers: ManagedProcess[] = [];
const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-outbox-claims-'));

beforeAll(async () => {
  stack = await startTestStack({
    decisionFaults: false,
    env: { OUTBOX_MAX_ATTEMPTS: '3', OUTBOX_RETRY_SECONDS: '1' },
    outboxFaults: {
      beforeSmtp: (email: EmailRef) => {
        if (email.recipient === FAILING && smtp.refusing) {
          refusals.count += 1;
          throw new Error('550 5.1.1 mailbox unavailable (injected)');
        }
      },
    },
  });
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await stack?.stop();
  fs.rmSync(attachmentsDir, { recursive: true, force: true });
});

interface OutboxRow {
  id: number;
  idempotency_key: string;
  message_id: string;
  status: string;
  attempts: number;
  claimed_by: string | null;
  last_error: string | null;
}

/** A row as a crash leaves it: committed with its decision, never handed to SMTP. */
function owed(key: string, recipient: string, extra: Record<string, unknown> = {}) {
  return {
    idempotency_key: key,
    message_id: outboxMessageId(key, stack.config.smtp.from),
    purpose: 'outbox_test',
    recipient,
    subject: `测试邮件 ${key}`,
    body_text: '测试',
    status: 'pending',
    ...extra,
  };
}

async function row(key: string): Promise<OutboxRow> {
  return (await stack.database.db('email_outbox').where({ idempotency_key: key }).first()) as OutboxRow;
}

async function statusBecomes(key: string, status: string): Promise<OutboxRow> {
  return eventually(
    async () => {
      const r = await row(key);
      return r.status === status ? r : undefined;
    },
    { what: `${key} ${status}` },
  );
}

const thisProcess = `${process.pid}@${os.hostname()}`;

describe('the claimed outbox and its sweeper', () => {
  it('delivers a row left pending by a crash and a claim whose sender died, each once', async () => {
    await stack.database.db('email_outbox').insert([
      owed('outbox-test/left-pending', 'left@example.test'),
      owed('outbox-test/dead-claim', 'dead@example.test', {
        status: 'sending',
        attempts: 1,
        claimed_by: '999999@gone',
        claim_token: 'lost',
        claimed_until: new Date(Date.now() - 60_000),
      }),
    ]);
    const pending = await statusBecomes('outbox-test/left-pending', 'sent');
    const dead = await statusBecomes('outbox-test/dead-claim', 'sent');
    expect([pending.attempts, dead.attempts]).toEqual([1, 2]);
    expect([pending.claimed_by, dead.claimed_by]).toEqual([thisProcess, thisProcess]);

    const emails = await stack.mailbox.waitForCount(2, { settleMs: 1_000 });
    expect(emails.map((e) => [e.idempotencyKey, e.messageId]).sort()).toEqual(
      [
        ['outbox-test/dead-claim', dead.message_id],
        ['outbox-test/left-pending', pending.message_id],
      ].sort(),
    );
  });

  it('fails a row after its last attempt, lists it for staff, and resends it, audited, with the same Message-ID', async () => {
    const key = 'outbox-test/refused';
    await stack.database.db('email_outbox').insert(owed(key, FAILING));
    const failed = await statusBecomes(key, 'failed');
    expect(failed.attempts).toBe(3);
    expect(refusals.count).toBe(3);
    expect(failed.last_error).toContain('550 5.1.1 mailbox unavailable');

    const staff = await stack.token({ role: 'staff', id: 'e2e' });
    const expert = await stack.token({ role: 'expert', id: 'exp-001' });
    expect((await stack.request('GET', '/api/outbox?status=failed', { token: expert })).status).toBe(403);
    const list = await stack.request<{ items: Record<string, unknown>[]; next: number | null }>(
      'GET',
      '/api/outbox?status=failed',
      { token: staff },
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: failed.id,
        status: 'failed',
        recipient: FAILING,
        purpose: 'outbox_test',
        attempts: 3,
        messageId: failed.message_id,
        lastError: expect.stringContaining('550 5.1.1') as unknown,
        failedAt: expect.any(String) as unknown,
      }),
    ]);
    expect(list.body.items[0]).not.toHaveProperty('body_text');

    // A resend needs a reason; a row still owed is not resent.
    const noReason = await stack.request('POST', `/api/outbox/${failed.id}/resend`, { token: staff, body: {} });
    expect(noReason.status).toBe(422);
    await stack.database
      .db('email_outbox')
      .insert(owed('outbox-test/later', 'later@example.test', { next_attempt_at: new Date(Date.now() + 3_600_000) }));
    const later = await row('outbox-test/later');
    const owedStill = await stack.request<{ code: string }>('POST', `/api/outbox/${later.id}/resend`, {
      token: staff,
      body: { reason: '测试' },
    });
    expect([owedStill.status, owedStill.body.code]).toEqual([409, 'OUTBOX_EMAIL_NOT_RESENDABLE']);
    const missing = await stack.request<{ code: string }>('POST', '/api/outbox/999999/resend', {
      token: staff,
      body: { reason: '测试' },
    });
    expect([missing.status, missing.body.code]).toEqual([404, 'OUTBOX_EMAIL_NOT_FOUND']);

    smtp.refusing = false;
    const before = (await stack.mailbox.list()).length;
    const resent = await stack.request<Record<string, unknown>>('POST', `/api/outbox/${failed.id}/resend`, {
      token: staff,
      body: { reason: '收件服务器已恢复' },
    });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ status: 'pending', attempts: 0, messageId: failed.message_id });

    const sent = await statusBecomes(key, 'sent');
    expect(sent.attempts).toBe(1);
    const emails = await stack.mailbox.waitForCount(before + 1, { settleMs: 1_000 });
    const delivered = emails.filter((e) => e.idempotencyKey === key);
    expect(delivered.map((e) => e.messageId)).toEqual([failed.message_id]);

    const audit = await stack.database.db('audit_events').where({ action: 'outbox.resend' });
    expect(audit).toEqual([
      expect.objectContaining({
        role: 'staff',
        subject_kind: 'email',
        subject_id: String(failed.id),
        reason: '收件服务器已恢复',
        details: expect.objectContaining({ messageId: failed.message_id, previousStatus: 'failed' }) as unknown,
      }),
    ]);
  });

  it('two worker processes sweeping one outbox send every row exactly once, and both send', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_TASK_QUEUE: TEST_TASK_QUEUE,
      DATABASE_URL: stack.database.url,
      SMTP_URL: stack.maildev.smtpUrl,
      ATTACHMENTS_DIR: attachmentsDir,
      OUTBOX_SWEEP_SECONDS: '1',
      OUTBOX_SWEEP_BATCH: '5',
      OUTBOX_SWEEP_PARALLELISM: '4',
    };
    const root = path.resolve(import.meta.dirname, '../..');
    for (const name of ['worker-a', 'worker-b']) {
      workers.push(ManagedProcess.start(name, process.execPath, ['--import', 'tsx', 'worker.ts'], { env, cwd: root }));
    }
    const identities = workers.map((w) => `${w.pid}@${os.hostname()}`);
    // Both processes poll the task queue for activities (Temporal names a worker `<pid>@<host>`).
    await eventually(
      async () => {
        for (const w of workers) if (!w.running) throw new Error(`${w.name} exited:\n${w.output()}`);
        const { pollers } = await stack.client.workflowService.describeTaskQueue({
          namespace: stack.config.temporal.namespace,
          taskQueue: { name: TEST_TASK_QUEUE },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        const polling = new Set((pollers ?? []).map((p) => p.identity));
        return identities.every((id) => polling.has(id)) ? true : undefined;
      },
      { what: 'both worker processes polling', timeoutMs: 5 * 60_000 },
    );
    // From now on only the two processes work.
    await stack.worker.shutdown();

    const count = 300;
    const before = (await stack.mailbox.list()).length;
    const keys = Array.from({ length: count }, (_, i) => `outbox-test/many/${String(i).padStart(3, '0')}`);
    await stack.database.db('email_outbox').insert(keys.map((k, i) => owed(k, `many-${i}@example.test`)));

    const rows = await eventually(
      async () => {
        const r = (await stack.database.db('email_outbox').whereIn('idempotency_key', keys)) as OutboxRow[];
        return r.every((x) => x.status === 'sent') ? r : undefined;
      },
      { what: `${count} rows sent` },
    );
    const emails = (await stack.mailbox.waitForCount(before + count, { settleMs: 2_000 })).filter((e) =>
      e.idempotencyKey?.startsWith('outbox-test/many/'),
    );
    const perMessageId = new Map<string, number>();
    for (const e of emails) perMessageId.set(e.messageId!, (perMessageId.get(e.messageId!) ?? 0) + 1);
    expect(perMessageId.size).toBe(count);
    expect([...perMessageId.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(emails.map((e) => e.messageId))).toEqual(new Set(rows.map((r) => r.message_id)));
    // Every row was claimed once, and both processes claimed rows.
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.claimed_by))).toEqual(new Set(identities));
    // Its run so far: sweeps on the in-process worker, then the two processes' settings and sweeps.
    await recordHistories(stack.client, { 'outbox-sweeper': OUTBOX_SWEEPER_WORKFLOW_ID });
  });
});
