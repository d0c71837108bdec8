import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { signToken, type TokenSubject } from '../../api/auth.js';
import { createDb } from '../../db/knex.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { startMaildev, type RunningMaildev } from '../../local-stack/maildev.js';
import { freePort } from '../../local-stack/ports.js';
import { startTemporalDevServer, type RunningTemporal } from '../../local-stack/temporal-server.js';
import type { DecisionFaults } from '../../activities/decision.js';
import type { OutboxFaults } from '../../mail/outbox.js';
import { loadConfig, publicBaseUrlOf, type Config } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { startWorker, type RunningWorker } from '../../worker.js';
import { crashOnceAfterCommit } from './faults.js';
import { startTcpProxy, type TcpProxy } from '../../local-stack/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { Mailbox } from './mailbox.js';
import { eventually, reportProgressWith } from './wait.js';

export const TEST_TASK_QUEUE = 'ronghe-test';

/** Ports are asked of the kernel just before use; another process can still take one first, so retry. */
export async function withFreshPorts<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}

export function testLogger() {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export interface ApiResponse<T = unknown> {
  status: number;
  contentType: string | null;
  body: T;
  headers: Headers;
}

/** One JSON request to an API under test; problem+json and JSON bodies come back parsed. */
export async function apiRequest<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  { token, body, raw }: { token?: string | undefined; body?: unknown; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined || raw !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const contentType = res.headers.get('content-type');
  const text = await res.text();
  const parsed = contentType?.includes('json') && text ? (JSON.parse(text) as T) : (text as T);
  return { status: res.status, contentType, body: parsed, headers: res.headers };
}

export interface TestStack {
  config: Config;
  database: TestDatabase;
  temporal: RunningTemporal;
  client: Client;
  maildev: RunningMaildev;
  mailbox: Mailbox;
  worker: RunningWorker;
  api: RunningApi;
  attachments: AttachmentStore;
  /**
   * Decisions whose activity was crashed after its commit (see `TestStackOptions.decisionFaults`), counted by
   * activity type.
   */
  crashedDecisions: Record<string, number>;
  /** The proxy between the worker and PostgreSQL (started with `workerDatabaseProxy`). */
  workerDatabase: TcpProxy | undefined;
  /**
   * Empties the SMTP sink once every email written to the outbox so far has been delivered (none pending or
   * being sent): an email committed before the clear but delivered after it would otherwise land among the next
   * step's.
   */
  clearMailbox(): Promise<void>;
  token(subject: TokenSubject): Promise<string>;
  request<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string | undefined; body?: unknown; raw?: string },
  ): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  outboxFaults?: OutboxFaults;
  /**
   * By default every decision activity crashes once right after its commit (before its emails are sent and
   * it returns), so every end-to-end test also proves that a decision retried after its commit keeps one
   * record and one email. `false` turns the crash off.
   */
  decisionFaults?: DecisionFaults | false;
  /**
   * The worker reaches PostgreSQL through a TCP proxy the test can cut (`stack.workerDatabase`), while the
   * API keeps its own direct connection: an outage that only the activities meet.
   */
  workerDatabaseProxy?: boolean;
  env?: Record<string, string>;
}

function databaseAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

function proxiedUrl(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/**
 * A whole stack for one end-to-end test file, every part real and private to the file: a Temporal dev
 * server (in memory, headless), a maildev sink, a cloned database, the worker and the API in-process.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const logger = testLogger();
  const database = await createTestDatabase();
  // Waits in this file last while the worker and the API keep writing (see test/support/wait.ts).
  reportProgressWith(() => database.writes());
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-attachments-'));
  const attachments = new AttachmentStore(attachmentsDir, 5 * 1024 * 1024);
  const started: { stop(): Promise<unknown> }[] = [];
  const crashedDecisions: Record<string, number> = {};
  const decisionFaults =
    options.decisionFaults === false ? undefined : (options.decisionFaults ?? crashOnceAfterCommit(crashedDecisions));
  try {
    const [temporal, maildev] = await Promise.all([
      withFreshPorts(async () =>
        startTemporalDevServer({
          cliPath: inject('temporalCliPath'),
          port: await freePort(),
          uiPort: 0,
          headless: true,
        }),
      ),
      withFreshPorts(async () => startMaildev({ smtpPort: await freePort(), webPort: await freePort() })),
    ]);
    started.push(temporal, maildev);
    const config = loadConfig({
      NODE_ENV: 'test',
      API_PORT: '0',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: TEST_TASK_QUEUE,
      DATABASE_URL: database.url,
      SMTP_URL: maildev.smtpUrl,
      // The outbox sweeper (a workflow the worker starts) looks for rows nobody sends every 2 s.
      OUTBOX_SWEEP_SECONDS: '2',
      ...options.env,
    });
    const workerDatabase = options.workerDatabaseProxy ? await startTcpProxy(databaseAddress(database.url)) : undefined;
    const workerDb = workerDatabase ? createDb(proxiedUrl(database.url, workerDatabase.port), { logger }) : database.db;
    if (workerDatabase) started.push(workerDatabase, { stop: () => workerDb.destroy() });
    // Links in emails point at the API, whose port is known once it started (after the worker).
    const apiAddress = { apiUrl: undefined as string | undefined };
    const worker = await startWorker({
      temporalAddress: temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: TEST_TASK_QUEUE,
      db: workerDb,
      attachments,
      smtpUrl: maildev.smtpUrl,
      mailFrom: config.smtp.from,
      staffEmail: config.staffEmail,
      publicBaseUrl: () => config.api.publicBaseUrl ?? apiAddress.apiUrl ?? publicBaseUrlOf(config),
      logger,
      workflowBundle: { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') },
      outbox: config.outbox,
      ...(options.outboxFaults ? { outboxFaults: options.outboxFaults } : {}),
      ...(decisionFaults ? { decisionFaults } : {}),
    });
    started.push({ stop: () => worker.shutdown() });
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    started.push({ stop: () => connection.close() });
    const api = await startApi({ config, db: database.db, temporal: client, attachments, logger });
    apiAddress.apiUrl = api.url;
    started.push({ stop: () => api.close() });
    const mailbox = new Mailbox(maildev.apiUrl);

    return {
      config,
      database,
      temporal,
      client,
      maildev,
      mailbox,
      worker,
      api,
      attachments,
      crashedDecisions,
      workerDatabase,
      async clearMailbox() {
        await eventually(
          async () => {
            const [row] = await database
              .db('email_outbox')
              .whereIn('status', ['pending', 'sending'])
              .count<{ n: string }[]>('* as n');
            return Number(row!.n) === 0 ? true : undefined;
          },
          { what: 'every email of the outbox delivered' },
        );
        await mailbox.clear();
      },
      token: (subject) => signToken(subject, config.auth.secret),
      request: (method, path, options) => apiRequest(api.url, method, path, options),
      async stop() {
        for (const s of started.reverse()) await s.stop().catch(() => undefined);
        reportProgressWith(undefined);
        await database.drop();
        fs.rmSync(attachmentsDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    await database.drop();
    throw err;
  }
}
