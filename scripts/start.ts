/**
 * `npm start`: prepares and runs the whole stack on this machine — Temporal dev server (with its Web UI),
 * embedded PostgreSQL, the maildev SMTP sink, migrations and seed data, the worker and the API — and stops
 * it all cleanly on Ctrl-C. Data lives under RONGHE_DATA_DIR (default ~/.local/share/ronghe), so a second
 * start finds the rounds of the first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startApi, type RunningApi } from '../api/server.js';
import { createDb, migrateLatest, type Db } from '../db/knex.js';
import { seed } from '../db/seed.js';
import { postgresDataDir } from '../local-stack/embedded.js';
import { startMaildev, type RunningMaildev } from '../local-stack/maildev.js';
import { assertPortFree } from '../local-stack/ports.js';
import { pidFileFor } from '../local-stack/process.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../local-stack/postgres.js';
import { resolveTemporalCli } from '../local-stack/temporal-cli.js';
import { startTemporalDevServer, type RunningTemporal } from '../local-stack/temporal-server.js';
import { ConfigError, loadConfig, loadDotEnv, publicBaseUrlOf } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectTemporalClient } from '../platform/temporal.js';
import { AttachmentStore } from '../storage/attachments.js';
import { startWorker, type RunningWorker } from '../worker.js';

const STEPS = 8;
let stepNo = 0;

async function step<T>(title: string, run: (note: (message: string) => void) => Promise<T>): Promise<T> {
  stepNo += 1;
  const started = performance.now();
  const prefix = `[${stepNo}/${STEPS}]`;
  process.stdout.write(`${prefix} ${title} …\n`);
  const result = await run((message) => process.stdout.write(`      ${message}\n`));
  process.stdout.write(`${prefix} ${title} — done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  return result;
}

function skip(title: string, why: string): void {
  stepNo += 1;
  process.stdout.write(`[${stepNo}/${STEPS}] ${title} — skipped: ${why}\n`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]+@/, '//$1:***@');
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: !config.production });
  const runDir = path.join(config.dataDir, 'run');
  const logDir = path.join(config.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const processFiles = (name: string) => ({
    logFile: path.join(logDir, `${name}.log`),
    pidFile: pidFileFor(runDir, name),
  });

  let postgres: RunningPostgres | undefined;
  let maildev: RunningMaildev | undefined;
  let temporal: RunningTemporal | undefined;
  let db: Db | undefined;
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  let temporalClient: Awaited<ReturnType<typeof connectTemporalClient>> | undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      process.stdout.write(`\nStopping (${reason}) …\n`);
      await api?.close().catch(() => undefined);
      await worker?.shutdown().catch(() => undefined);
      await temporalClient?.connection.close().catch(() => undefined);
      await db?.destroy().catch(() => undefined);
      await Promise.all([temporal?.stop(), maildev?.stop(), postgres?.stop()]);
      process.stdout.write('Stopped. Data kept in ' + config.dataDir + '\n');
    })();
    return stopping;
  };
  // Ctrl-C reaches us both from the terminal and relayed by npm: a repeat within two seconds is the same
  // request. A later one means "stop now".
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 2_000) return;
      process.stdout.write('Forced exit.\n');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    void shutdown(signal).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  process.stdout.write(`ronghe — preparing the local stack (data: ${config.dataDir})\n`);
  try {
    let temporalAddress = config.temporal.address;
    let temporalUi = config.temporal.uiUrl;
    if (temporalAddress) {
      skip('Temporal CLI', `TEMPORAL_ADDRESS=${temporalAddress} is used`);
    } else {
      const cli = await step('Resolving the Temporal CLI', (note) =>
        resolveTemporalCli({ explicitPath: config.temporal.cliPath, cacheDir: config.cacheDir, onProgress: note }).then(
          (p) => {
            note(p);
            return p;
          },
        ),
      );
      temporal = await step('Starting the Temporal dev server', async () => {
        await assertPortFree(config.temporal.port, 'the Temporal frontend', 'TEMPORAL_PORT');
        await assertPortFree(config.temporal.uiPort, 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
        return startTemporalDevServer({
          cliPath: cli,
          port: config.temporal.port,
          uiPort: config.temporal.uiPort,
          dbFile: path.join(config.dataDir, 'temporal.db'),
          process: processFiles('temporal'),
        });
      });
      temporalAddress = temporal.address;
      temporalUi = temporal.uiUrl;
    }

    let databaseUrl = config.database.url;
    if (databaseUrl) {
      skip('PostgreSQL', 'DATABASE_URL is used');
    } else {
      postgres = await step('Starting embedded PostgreSQL', async (note) => {
        await assertPortFree(config.database.port, 'PostgreSQL', 'POSTGRES_PORT');
        const dataDir = postgresDataDir(config.dataDir);
        note(`data folder ${dataDir}`);
        return startEmbeddedPostgres({
          dataDir,
          port: config.database.port,
          process: processFiles('postgres'),
          onProgress: note,
        });
      });
      databaseUrl = postgres.url;
    }

    let smtpUrl = config.smtp.url;
    let mailWeb = config.smtp.webUrl;
    if (smtpUrl) {
      skip('Mail sink', 'SMTP_URL is used');
    } else {
      maildev = await step('Starting the maildev mail sink', async () => {
        await assertPortFree(config.smtp.port, 'SMTP (maildev)', 'SMTP_PORT');
        await assertPortFree(config.smtp.webPort, 'the mail web view', 'MAIL_WEB_PORT');
        const mailDir = path.join(config.dataDir, 'mail');
        fs.mkdirSync(mailDir, { recursive: true });
        return startMaildev({
          smtpPort: config.smtp.port,
          webPort: config.smtp.webPort,
          mailDir,
          process: processFiles('maildev'),
        });
      });
      smtpUrl = maildev.smtpUrl;
      mailWeb = maildev.webUrl;
    }

    db = createDb(databaseUrl, { logger: logger.child({ component: 'database' }) });
    const database = db;
    const attachments = new AttachmentStore(config.attachments.dir, config.attachments.maxBytes);
    await step('Migrating the database', async (note) => {
      const applied = await migrateLatest(database);
      note(applied.length ? `applied ${applied.join(', ')}` : 'already up to date');
    });
    await step('Seeding reference data', async (note) => {
      const s = await seed(database);
      note(
        `${s.programmes} programmes, ${s.institutions} institutions, ${s.enterprises} enterprises, ` +
          `${s.experts} experts, calendar ${s.calendarYears} years`,
      );
    });

    const address = temporalAddress;
    worker = await step('Bundling workflows and starting the worker', async () =>
      startWorker({
        temporalAddress: address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db: database,
        attachments,
        smtpUrl: smtpUrl,
        mailFrom: config.smtp.from,
        letterhead: config.letterhead,
        staffEmail: config.staffEmail,
        publicBaseUrl: publicBaseUrlOf(config),
        logger: logger.child({ component: 'worker' }),
        outbox: config.outbox,
      }),
    );
    void worker.done.catch((err: unknown) => {
      logger.error({ err }, 'the worker stopped with an error');
      void shutdown('worker failure').then(() => process.exit(1));
    });

    temporalClient = await connectTemporalClient({ address, namespace: config.temporal.namespace });
    const client = temporalClient;
    api = await step('Starting the API', async () => {
      await assertPortFree(config.api.port, 'the API', 'API_PORT');
      return startApi({
        config: { ...config, smtp: { ...config.smtp, url: smtpUrl } },
        db: database,
        temporal: client,
        attachments,
        logger: logger.child({ component: 'api' }),
      });
    });

    const lines = [
      '',
      `ronghe is running (${config.mode} mode). Press Ctrl-C to stop.`,
      '',
      `  API              ${api.url}`,
      `  OpenAPI docs     ${api.url}/docs   (document: ${api.url}/openapi.json)`,
      `  Health           ${api.url}/healthz`,
      `  Temporal UI      ${temporalUi ?? '(set TEMPORAL_UI_URL to show it here)'}`,
      `  Mail web view    ${mailWeb ?? '(set MAIL_WEB_URL to show it here)'}`,
      `  Temporal         ${address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
      `  PostgreSQL       ${redact(databaseUrl)}`,
      `  Logs             ${logDir}`,
      '',
      'Sign in: create the first administrator (the invitation link is printed and mailed to the mail web view),',
      'open the link, set the password and enrol the authenticator app, then sign in:',
      '  npm run account -- admin admin@ronghe.example 管理员',
      `  ${api.url}/account/sign-in`,
      '',
      'Try the API with a development token (development and tests only; production refuses it):',
      '  TOKEN=$(npm run -s token -- staff)',
      `  curl -s -X POST ${api.url}/api/rounds -H "Authorization: Bearer $TOKEN" \\`,
      `       -H 'Content-Type: application/json' -d '{"programme":"demo_college","year":2027}'`,
      `  curl -s ${api.url}/api/rounds/round-demo_college-2027 -H "Authorization: Bearer $TOKEN"`,
      `  npm run temporal -- workflow list --query "Programme='demo_college'"`,
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    await shutdown('start-up failed');
    throw err;
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
