import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { signToken, type TokenSubject } from '../../api/auth.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { startMaildev, type RunningMaildev } from '../../local-stack/maildev.js';
import { freePort } from '../../local-stack/ports.js';
import { ensureSearchAttributes } from '../../platform/temporal.js';
import { loadConfig, publicBaseUrlOf, type Config } from '../../platform/config.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { installRuntime, startWorker, type RunningWorker } from '../../worker.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { crashOnceAfterCommit } from './faults.js';
import { Mailbox } from './mailbox.js';
import { hostAndPort, startTcpProxy, type TcpProxy } from '../../local-stack/tcp-proxy.js';
import { apiRequest, testLogger, withFreshPorts, type ApiResponse } from './stack.js';
import { reportProgressWith } from './wait.js';

/**
 * The one way a test starts Temporal's time-skipping test server: our quiet logger for the SDK (installed
 * before the test environment installs its chatty default), the server binary the global setup resolved,
 * and our search attributes registered (the test server knows none until told).
 */
export async function startTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  installRuntime(testLogger());
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/** The workflow bundle the global setup built once for the whole run. */
function workflowBundle(): { code: string } {
  return { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') };
}

export interface StubbedWorker {
  taskQueue: string;
  /** Shuts the worker down and waits for it to stop. */
  stop(): Promise<void>;
}

/**
 * For workflow-level tests: a worker on the time-skipping server running the real workflows with the given
 * activity implementations (stubs) — no database, no mail — as the Temporal samples test workflows.
 */
export async function startStubbedWorker(
  env: TestWorkflowEnvironment,
  options: { taskQueue: string; activities: object },
): Promise<StubbedWorker> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundle: workflowBundle(),
    activities: options.activities,
  });
  const running = worker.run();
  return {
    taskQueue: options.taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * Runs one workflow on a stubbed worker of its own (task queue = workflow id) while `run` drives it. The
 * workflow is terminated if `run` leaves it running: on the time-skipping server a workflow nobody works on
 * would hold the clock still for every later test of the file.
 */
export async function withStubbedWorkflow<T>(
  env: TestWorkflowEnvironment,
  options: { workflowType: string; workflowId: string; args: unknown[]; activities: object },
  run: (handle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  const worker = await startStubbedWorker(env, { taskQueue: options.workflowId, activities: options.activities });
  try {
    const handle = await env.client.workflow.start(options.workflowType, {
      taskQueue: worker.taskQueue,
      workflowId: options.workflowId,
      args: options.args,
    });
    try {
      return await run(handle);
    } finally {
      if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('the test is over');
    }
  } finally {
    await worker.stop();
  }
}

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
  /** The proxy between the API and Temporal (started with `apiTemporalProxy`). */
  apiTemporal: TcpProxy | undefined;
  /** Decisions crashed after their commit, by activity type (see `crashOnceAfterCommit`). */
  crashedDecisions: Record<string, number>;
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
  /** The API reaches Temporal through a TCP proxy the test can cut (`stack.apiTemporal`). */
  apiTemporalProxy?: boolean;
}): Promise<TimeSkippingStack> {
  const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0', TEMPORAL_TASK_QUEUE: options.taskQueue });
  const env = await startTimeSkippingEnvironment();
  const database = await createTestDatabase();
  reportProgressWith(() => database.writes());
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-ts-attachments-'));
  const attachments = new AttachmentStore(attachmentsDir, 1024 * 1024);
  const maildev = await withFreshPorts(async () =>
    startMaildev({ smtpPort: await freePort(), webPort: await freePort() }),
  );
  const crashedDecisions: Record<string, number> = {};
  // Links in emails point at the API, whose port is known once it started (after the worker).
  const apiAddress = { apiUrl: undefined as string | undefined };
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
    publicBaseUrl: () => apiAddress.apiUrl ?? publicBaseUrlOf(config),
    logger: testLogger(),
    workflowBundle: workflowBundle(),
    decisionFaults: crashOnceAfterCommit(crashedDecisions),
  });
  // The API stamps receipts by the test server's clock: the offset is re-read whenever the test moves time.
  let offsetMs = (await env.currentTimeMs()) - Date.now();
  const syncClock = async () => {
    offsetMs = (await env.currentTimeMs()) - Date.now();
  };
  const apiTemporal = options.apiTemporalProxy ? await startTcpProxy(hostAndPort(env.address)) : undefined;
  const apiConnection = apiTemporal
    ? await Connection.connect({ address: `127.0.0.1:${apiTemporal.port}` })
    : undefined;
  const api = options.api
    ? await startApi({
        config,
        db: database.db,
        temporal: apiConnection ? new Client({ connection: apiConnection, namespace: 'default' }) : env.client,
        attachments,
        logger: testLogger(),
        clock: () => new Date(Date.now() + offsetMs),
      })
    : undefined;
  apiAddress.apiUrl = api?.url;
  return {
    env,
    config,
    database,
    maildev,
    mailbox: new Mailbox(maildev.apiUrl),
    attachments,
    worker,
    api,
    apiTemporal,
    crashedDecisions,
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
      await apiConnection?.close();
      await apiTemporal?.stop();
      await worker.shutdown();
      await env.teardown();
      await maildev.stop();
      reportProgressWith(undefined);
      await database.drop();
      fs.rmSync(attachmentsDir, { recursive: true, force: true });
    },
  };
}
