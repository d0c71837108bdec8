import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startApi, type RunningApi } from '../../api/server.js';
import { createDb, migrateLatest, type Db } from '../../db/knex.js';
import { seed } from '../../db/seed.js';
import { startMaildev, type RunningMaildev } from '../../local-stack/maildev.js';
import { freePort } from '../../local-stack/ports.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../../local-stack/postgres.js';
import { ManagedProcess } from '../../local-stack/process.js';
import { startTcpProxy, type TcpProxy } from '../../local-stack/tcp-proxy.js';
import { resolveTemporalCli } from '../../local-stack/temporal-cli.js';
import { startTemporalDevServer, type RunningTemporal } from '../../local-stack/temporal-server.js';
import { loadConfig, type Config } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { workflowsPath } from '../../worker.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CHAOS_TASK_QUEUE = 'ronghe-chaos';

/**
 * Real servers for one chaos run, each of which the run can take away and give back: the Temporal dev server
 * (its SQLite file kept across a restart), embedded PostgreSQL (its data folder kept), maildev behind a TCP
 * proxy (SMTP cut, or a connection dropped after `DATA`), and the worker as a separate process that a
 * supervisor restarts whenever it dies, as systemd or Kubernetes would. The API runs in this process.
 */
export class ChaosStack {
  /** The worker processes' identities, one per start (a SIGKILLed worker is replaced by a new one). */
  readonly workerStarts: string[] = [];
  private worker: ManagedProcess | undefined;
  private supervising = true;
  private supervisor: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly config: Config,
    readonly cliPath: string,
    private temporal: RunningTemporal,
    private readonly temporalPort: number,
    private postgres: RunningPostgres,
    private readonly postgresPort: number,
    readonly maildev: RunningMaildev,
    readonly smtp: TcpProxy,
    readonly db: Db,
    readonly client: Client,
    private readonly connection: Connection,
    readonly api: RunningApi,
    private readonly workerEnv: NodeJS.ProcessEnv,
  ) {}

  static async start(dir: string, progress: (message: string) => void): Promise<ChaosStack> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const base = loadConfig({ ...process.env, NODE_ENV: 'test' });
    const cliPath = await resolveTemporalCli({ explicitPath: base.temporal.cliPath, cacheDir: base.cacheDir });
    const [temporalPort, postgresPort, smtpPort, webPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    progress('starting Temporal (SQLite file kept), PostgreSQL (data folder kept) and maildev behind a proxy');
    const [temporal, postgres, maildev] = await Promise.all([
      startTemporalDevServer({
        cliPath,
        port: temporalPort,
        uiPort: 0,
        headless: true,
        dbFile: path.join(dir, 'temporal.sqlite'),
      }),
      startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: postgresPort }),
      startMaildev({ smtpPort, webPort }),
    ]);
    const smtp = await startTcpProxy({ host: '127.0.0.1', port: smtpPort });
    const db = createDb(postgres.url, {
      poolMax: 30,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
    await migrateLatest(db);
    await seed(db);
    progress('bundling the workflows once for every worker start');
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath, logger: quietBundler })).code);
    const attachmentsDir = path.join(dir, 'attachments');
    fs.mkdirSync(attachmentsDir, { recursive: true });
    const config = loadConfig({
      NODE_ENV: 'test',
      API_PORT: '0',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: CHAOS_TASK_QUEUE,
      DATABASE_URL: postgres.url,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      ATTACHMENTS_DIR: attachmentsDir,
      OBJECTION_RATE_LIMIT: '10000',
      OBJECTION_EMAIL_RATE_LIMIT: '10000',
    });
    const workerEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: CHAOS_TASK_QUEUE,
      DATABASE_URL: postgres.url,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      ATTACHMENTS_DIR: attachmentsDir,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      OUTBOX_SWEEP_SECONDS: '2',
      OUTBOX_RETRY_SECONDS: '2',
      RONGHE_CACHE_DIR: base.cacheDir,
    };
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
    const api = await startApi({
      config,
      db,
      temporal: client,
      attachments: new AttachmentStore(attachmentsDir, config.attachments.maxBytes),
      logger,
    });
    const stack = new ChaosStack(
      dir,
      config,
      cliPath,
      temporal,
      temporalPort,
      postgres,
      postgresPort,
      maildev,
      smtp,
      db,
      client,
      connection,
      api,
      workerEnv,
    );
    stack.supervisor = stack.supervise();
    return stack;
  }

  /** Keeps one worker process running: started at once, and again whenever it exits. */
  private async supervise(): Promise<void> {
    while (this.supervising) {
      const worker = ManagedProcess.start('worker', process.execPath, ['--import', 'tsx', 'worker.ts'], {
        env: this.workerEnv,
        cwd: root,
        logFile: path.join(this.dir, 'worker.log'),
      });
      this.worker = worker;
      this.workerStarts.push(String(worker.pid));
      await worker.exited;
      if (this.supervising) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** SIGKILLs the worker process (and its children): no shutdown, no cleanup. The supervisor starts another. */
  killWorker(): void {
    this.worker?.killNow();
  }

  /** Stops the Temporal dev server and starts it again on the same port and SQLite file. */
  async restartTemporal(downMs: number): Promise<void> {
    await this.temporal.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.temporal = await startTemporalDevServer({
      cliPath: this.cliPath,
      port: this.temporalPort,
      uiPort: 0,
      headless: true,
      dbFile: path.join(this.dir, 'temporal.sqlite'),
    });
  }

  /** Stops PostgreSQL for `downMs` and starts it again on the same port and data folder. */
  async postgresOutage(downMs: number): Promise<void> {
    await this.postgres.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.postgres = await startEmbeddedPostgres({ dataDir: path.join(this.dir, 'pg'), port: this.postgresPort });
  }

  /** SMTP unreachable for `downMs`: every connection reset. */
  async smtpOutage(downMs: number): Promise<void> {
    this.smtp.cut();
    await new Promise((r) => setTimeout(r, downMs));
    this.smtp.restore();
  }

  async stop(): Promise<void> {
    this.supervising = false;
    if (this.worker?.running) await this.worker.stop();
    await this.supervisor;
    await this.api.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
    await this.db.destroy().catch(() => undefined);
    await this.smtp.stop().catch(() => undefined);
    for (const s of [this.temporal, this.postgres, this.maildev]) await s.stop().catch(() => undefined);
  }
}

/** The bundler's chatter stays out of the chaos report. */
const quietBundler = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => process.stderr.write(`${message}\n`),
  log: () => undefined,
};
