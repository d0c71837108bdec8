import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { signToken, type TokenSubject } from '../../api/auth.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { startMaildev, type RunningMaildev } from '../../local-stack/maildev.js';
import { freePort } from '../../local-stack/ports.js';
import { ensureSearchAttributes } from '../../platform/temporal.js';
import { loadConfig, type Config } from '../../platform/config.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { installRuntime, startWorker, type RunningWorker } from '../../worker.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { Mailbox } from './mailbox.js';
import { apiRequest, testLogger, withFreshPorts, type ApiResponse } from './stack.js';

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  config: Config;
  database: TestDatabase;
  maildev: RunningMaildev;
  mailbox: Mailbox;
  attachments: AttachmentStore;
  worker: RunningWorker;
  /** The real API in front, when asked for; it stamps receipts by the test server's clock. */
  api: RunningApi | undefined;
  token(subject: TokenSubject): Promise<string>;
  /** A request to the API (started with `api: true`). */
  request<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string | undefined; body?: unknown },
  ): Promise<ApiResponse<T>>;
  /** Moves the test server's clock forward to a Shanghai wall time (it never goes back). */
  skipTo(shanghai: string): Promise<void>;
  /** The test server's "now", ISO. */
  nowIso(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * For tests over real calendar durations: the time-skipping test server, a private database and maildev,
 * the worker (and optionally the API) — all stopped by `stop()`.
 */
export async function startTimeSkippingStack(options: {
  taskQueue: string;
  api?: boolean;
}): Promise<TimeSkippingStack> {
  // Our logger (warnings only) for the SDK, before the test environment installs its chatty default.
  installRuntime(testLogger());
  const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0', TEMPORAL_TASK_QUEUE: options.taskQueue });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
  // The test server knows no custom search attributes until told.
  await ensureSearchAttributes(env.connection, 'default');
  const database = await createTestDatabase();
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-ts-attachments-'));
  const attachments = new AttachmentStore(attachmentsDir, 1024 * 1024);
  const maildev = await withFreshPorts(async () =>
    startMaildev({ smtpPort: await freePort(), webPort: await freePort() }),
  );
  const worker = await startWorker({
    temporalAddress: 'time-skipping',
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    db: database.db,
    attachments,
    smtpUrl: maildev.smtpUrl,
    mailFrom: config.smtp.from,
    staffEmail: config.staffEmail,
    logger: testLogger(),
    workflowBundle: { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') },
  });
  // The API stamps receipts by the test server's clock: the offset is re-read whenever the test moves time.
  let offsetMs = (await env.currentTimeMs()) - Date.now();
  const syncClock = async () => {
    offsetMs = (await env.currentTimeMs()) - Date.now();
  };
  const api = options.api
    ? await startApi({
        config,
        db: database.db,
        temporal: env.client,
        attachments,
        logger: testLogger(),
        clock: () => new Date(Date.now() + offsetMs),
      })
    : undefined;
  return {
    env,
    config,
    database,
    maildev,
    mailbox: new Mailbox(maildev.apiUrl),
    attachments,
    worker,
    api,
    token: (subject) => signToken(subject, config.auth.secret),
    request(method, urlPath, options) {
      if (!api) throw new Error('this time-skipping stack was started without the API');
      return apiRequest(api.url, method, urlPath, options);
    },
    async skipTo(shanghai) {
      const target = Date.parse(shanghai);
      const now = await env.currentTimeMs();
      if (target > now) await env.sleep(target - now);
      await syncClock();
    },
    async nowIso() {
      await syncClock();
      return new Date(await env.currentTimeMs()).toISOString();
    },
    async stop() {
      await api?.close();
      await worker.shutdown();
      await env.teardown();
      await maildev.stop();
      await database.drop();
      fs.rmSync(attachmentsDir, { recursive: true, force: true });
    },
  };
}
