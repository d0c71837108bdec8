import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import type { DecisionFaults } from './activities/decision.js';
import { createDb, type Db } from './db/knex.js';
import { CalendarRepository } from './db/repositories/calendar.js';
import { ensureSearchAttributes } from './platform/temporal.js';
import { Outbox, type OutboxFaults } from './mail/outbox.js';
import { createSmtpTransport } from './mail/transport.js';
import type { Letterhead } from './mail/templates/common.js';
import { AttachmentStore } from './storage/attachments.js';
import { loadConfig, loadDotEnv, publicBaseUrlOf, type OutboxConfig } from './platform/config.js';
import { OUTBOX_SWEEPER_WORKFLOW_ID } from './domain/workflow-ids.js';
import {
  configureOutboxSweeperSignal,
  type OutboxSweeperSettings,
  type OutboxSweeperWorkflow,
} from './workflows/outbox.messages.js';
import { createLogger, type Logger } from './platform/logger.js';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  temporalAddress: string;
  /** An existing connection (the time-skipping test environment's); otherwise one is opened to the address. */
  connection?: NativeConnection;
  /** With `connection`: the client activities redeliver receipts with (none: they cannot). */
  client?: Client;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** Where attachments are stored (the formal check verifies them). */
  attachments: AttachmentStore;
  smtpUrl: string;
  mailFrom: string;
  /** The foot of every notice (config `letterhead`); the defaults of `loadConfig` when omitted. */
  letterhead?: Letterhead;
  /** Where notices to staff go (STAFF_EMAIL). */
  staffEmail: string;
  /**
   * The address people open (`publicBaseUrlOf(config)`), which emails link to; a function when it is known only
   * later (a test's API port).
   */
  publicBaseUrl: string | (() => string);
  logger: Logger;
  /** A pre-built workflow bundle (tests bundle once per file); otherwise bundled from source at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Failure injection for tests of the outbox; never set in production. */
  outboxFaults?: OutboxFaults;
  /** Crash simulation for tests of the decision activities; never set in production. */
  decisionFaults?: DecisionFaults;
  /** The outbox's retries and its sweeper (config `outbox`); the defaults of `loadConfig` when omitted. */
  outbox?: OutboxConfig;
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

const temporalLevels: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * The SDK's logs — workflow and activity logs (`log` from `@temporalio/workflow` / `@temporalio/activity`, with
 * workflow id, run id and activity type attached) and the worker's own — go through our logger at the same
 * level (pino's `level`, from LOG_LEVEL), once per process.
 */
export function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const pinoLevel = (logger as { level?: string }).level ?? 'info';
  const sdkLogger = new DefaultLogger(temporalLevels[pinoLevel] ?? 'INFO', (entry) => {
    // The activity task token is an opaque ~700-character credential: no use to a reader, so it is not logged.
    const { taskToken: _taskToken, ...meta } = entry.meta ?? {};
    const fields = { sdk: true, ...meta };
    if (entry.level === 'ERROR') logger.error(fields, entry.message);
    else if (entry.level === 'WARN') logger.warn(fields, entry.message);
    else if (entry.level === 'INFO') logger.info(fields, entry.message);
    else logger.debug(fields, entry.message);
  });
  try {
    Runtime.install({ logger: sdkLogger });
  } catch {
    // A runtime already exists (a test environment created it): keep it.
  }
}

/**
 * Our workflows upsert custom search attributes; a cluster that lacks one fails their workflow tasks. The
 * worker registers what is missing at start (idempotent), so a fresh cluster needs no manual step.
 */
async function registerSearchAttributes(options: WorkerOptions, connection: Connection): Promise<void> {
  try {
    await ensureSearchAttributes(connection, options.namespace);
  } catch (err) {
    options.logger.warn(
      { err },
      'could not register search attributes; register them with `temporal operator search-attribute create`',
    );
  }
}

/**
 * Every worker makes sure the outbox sweeper runs (signal-with-start: started on this worker's task queue if it
 * is not running, otherwise handed this worker's settings), so no deployment step can forget it and a
 * sweeper that was terminated comes back with the next worker. Throws when Temporal refuses.
 */
async function ensureOutboxSweeper(options: WorkerOptions, connection: Connection, outbox: OutboxConfig) {
  const settings: OutboxSweeperSettings = {
    everySeconds: outbox.sweepSeconds,
    batchSize: outbox.sweepBatch,
    parallelism: outbox.sweepParallelism,
  };
  const client = new Client({ connection, namespace: options.namespace });
  await client.workflow.signalWithStart<OutboxSweeperWorkflow, [OutboxSweeperSettings]>('outboxSweeperWorkflow', {
    workflowId: OUTBOX_SWEEPER_WORKFLOW_ID,
    taskQueue: options.taskQueue,
    args: [settings],
    signal: configureOutboxSweeperSignal,
    signalArgs: [settings],
  });
}

/**
 * What a worker sets up in its cluster at start: search attributes and the outbox sweeper. A worker given an
 * existing connection (the time-skipping test environment) does neither: its environment registers its own
 * attributes, and a sweeper that never stops sleeping would leave the test server no idle moment to skip time.
 */
async function prepareCluster(options: WorkerOptions, connection: Connection, outbox: OutboxConfig): Promise<void> {
  await registerSearchAttributes(options, connection);
  await ensureOutboxSweeper(options, connection, outbox);
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  installRuntime(options.logger);
  const transport = createSmtpTransport(options.smtpUrl);
  const outboxConfig = options.outbox ?? loadConfig({}).outbox;
  const outbox = new Outbox(
    options.db,
    transport,
    options.mailFrom,
    options.logger,
    options.outboxFaults,
    { maxAttempts: outboxConfig.maxAttempts, retrySeconds: outboxConfig.retrySeconds },
    options.letterhead ?? loadConfig({}).letterhead,
  );
  // The activities' client (receipts are redelivered with it), and the cluster's set-up, when the worker opens
  // its own connections; a worker on an existing connection (a test environment) is given a client or none.
  const clientConnection = options.connection
    ? undefined
    : await Connection.connect({ address: options.temporalAddress });
  const temporal = clientConnection
    ? new Client({ connection: clientConnection, namespace: options.namespace })
    : options.client;
  const { publicBaseUrl } = options;
  const activities = createActivities({
    db: options.db,
    outbox,
    calendar: new CalendarRepository(options.db),
    attachments: options.attachments,
    staffEmail: options.staffEmail,
    publicBaseUrl: typeof publicBaseUrl === 'function' ? publicBaseUrl : () => publicBaseUrl,
    decisionFaults: options.decisionFaults,
    temporal,
  });
  if (clientConnection) await prepareCluster(options, clientConnection, outboxConfig);
  const ownConnection = !options.connection;
  const connection = options.connection ?? (await NativeConnection.connect({ address: options.temporalAddress }));
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  });
  const done = worker.run().finally(async () => {
    transport.close();
    if (ownConnection) await connection.close();
    await clientConnection?.close();
  });
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** `npm run worker`: one more worker process against the configured cluster (workers scale out this way). */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: !config.production && process.stdout.isTTY });
  if (!config.temporal.address || !config.database.url || !config.smtp.url) {
    throw new Error(
      'npm run worker needs TEMPORAL_ADDRESS, DATABASE_URL and SMTP_URL (npm start sets them for its own worker).',
    );
  }
  const db = createDb(config.database.url, { logger });
  const running = await startWorker({
    temporalAddress: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    attachments: new AttachmentStore(config.attachments.dir, config.attachments.maxBytes),
    smtpUrl: config.smtp.url,
    mailFrom: config.smtp.from,
    letterhead: config.letterhead,
    staffEmail: config.staffEmail,
    publicBaseUrl: publicBaseUrlOf(config),
    logger,
    outbox: config.outbox,
    ...(config.temporal.workflowBundlePath ? { workflowBundle: { codePath: config.temporal.workflowBundlePath } } : {}),
  });
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  const stop = () => void running.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
  await db.destroy();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
