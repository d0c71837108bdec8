/**
 * `npm run bench:round -- --applications N`: one national-scale call for applications on real servers
 * (Temporal dev server, embedded PostgreSQL, maildev), in compressed time. N applications from every
 * seeded institution are submitted through the API (each one an Update judged by the workflow); the call
 * closes and the formal check runs. Prints, per workflow type, the largest history of any run (events,
 * bytes) and the wall time, and exits non-zero if any run passes 5,120 events or 5 MB (10% of Temporal's
 * limits).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { signToken } from '../api/auth.js';
import { startApi } from '../api/server.js';
import { createDb, migrateLatest } from '../db/knex.js';
import { seed } from '../db/seed.js';
import { startMaildev } from '../infra/maildev.js';
import { freePort } from '../infra/ports.js';
import { startEmbeddedPostgres } from '../infra/postgres.js';
import { resolveTemporalCli } from '../infra/temporal-cli.js';
import { startTemporalDevServer } from '../infra/temporal-server.js';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { AttachmentStore } from '../storage/attachments.js';
import { startWorker } from '../worker.js';

const HISTORY_EVENT_LIMIT = 5_120;
const HISTORY_BYTES_LIMIT = 5 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    applications: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
  },
});
const applications = Number(values.applications);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(applications) || applications < 1) throw new Error('--applications must be a positive integer');

function progress(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

async function main(): Promise<number> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-bench-'));
  fs.chmodSync(tmp, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    progress('starting Temporal, PostgreSQL and maildev');
    const cli = await resolveTemporalCli({ explicitPath: config.temporal.cliPath, cacheDir: config.cacheDir });
    const [temporal, postgres, maildev] = await Promise.all([
      freePort().then((port) => startTemporalDevServer({ cliPath: cli, port, uiPort: 0, headless: true })),
      freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port, ephemeral: true })),
      Promise.all([freePort(), freePort()]).then(([smtpPort, webPort]) => startMaildev({ smtpPort, webPort })),
    ]);
    stops.push(
      () => temporal.stop(),
      () => postgres.stop(),
      () => maildev.stop(),
    );
    const db = createDb(postgres.url, { poolMax: 30 });
    stops.unshift(() => db.destroy());
    await migrateLatest(db);
    await seed(db);

    const attachments = new AttachmentStore(path.join(tmp, 'attachments'), 1024 * 1024);
    progress('bundling workflows and starting the worker');
    const worker = await startWorker({
      temporalAddress: temporal.address,
      namespace: 'default',
      taskQueue: 'ronghe-bench',
      db,
      attachments,
      smtpUrl: maildev.smtpUrl,
      mailFrom: config.smtp.from,
      staffEmail: config.staffEmail,
      logger,
    });
    stops.unshift(() => worker.shutdown());
    const connection = await Connection.connect({ address: temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const apiConfig = loadConfig({ NODE_ENV: 'test', API_PORT: '0', TEMPORAL_TASK_QUEUE: 'ronghe-bench' });
    const api = await startApi({ config: apiConfig, db, temporal: client, attachments, logger });
    stops.unshift(() => api.close());

    // Drafts with their 申报书 are prepared in bulk (the bench is about the workflow, not about typing).
    const institutions = (await db('institutions').orderBy('id').pluck('id')) as string[];
    const staff = await signToken({ role: 'staff', id: 'bench' }, apiConfig.auth.secret);
    // The call must stay open while N submissions arrive: about 25 ms of wall time each, at least a minute.
    const callWallSeconds = Math.max(60, applications * 0.025);
    const callCalendarSeconds = ((20 * 7) / 5) * 24 * 3600;
    const scale = Math.max(1, Math.floor(callCalendarSeconds / callWallSeconds));
    const started = performance.now();
    const launch = await fetch(`${api.url}/api/rounds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        programme: 'research_project',
        year: 2027,
        timeScale: scale,
        rules: { limits: { perApplicant: applications, perUniversity: applications } },
      }),
    });
    if (launch.status !== 201) throw new Error(`launch failed: ${launch.status} ${await launch.text()}`);
    const roundId = 'round-research_project-2027';

    const pdf = await attachments.save(Readable.from([Buffer.from('%PDF-1.7\nbench\n%%EOF\n')]), 'application/pdf');
    const summary =
      '面向产业需求开展产教融合研究，校企共建课程与实践平台，形成可推广的协同育人模式与评价机制，服务区域经济高质量发展。';
    const rows = Array.from({ length: applications }, (_, i) => {
      const institution = institutions[i % institutions.length]!;
      const draft = {
        title: `产教融合研究项目 ${i + 1}`,
        field: 'next_gen_it',
        summary,
        principal: { staffNo: `B${String(i + 1).padStart(6, '0')}`, name: `负责人${i + 1}` },
      };
      return {
        round_id: roundId,
        institution_id: institution,
        status: 'draft',
        title_zh: draft.title,
        field_key: draft.field,
        draft: JSON.stringify(draft),
        revision: 1,
        created_by: `applicant:${institution}`,
      };
    });
    const ids: { id: string; institution_id: string }[] = [];
    for (let i = 0; i < rows.length; i += 1000) {
      ids.push(
        ...(await db('applications')
          .insert(rows.slice(i, i + 1000))
          .returning<{ id: string; institution_id: string }[]>(['id', 'institution_id'])),
      );
    }
    for (let i = 0; i < ids.length; i += 1000) {
      await db('attachments').insert(
        ids.slice(i, i + 1000).map((a) => ({
          application_id: a.id,
          kind: 'application_form',
          file_name: '申报书.pdf',
          content_type: 'application/pdf',
          size_bytes: pdf.size,
          sha256: pdf.sha256,
          storage_key: pdf.storageKey,
          uploaded_by: `applicant:${a.institution_id}`,
        })),
      );
    }
    await db('applications')
      .whereIn(
        'id',
        ids.map((a) => a.id),
      )
      .update({ revision: 2 });
    const tokens = new Map<string, string>();
    for (const id of institutions) tokens.set(id, await signToken({ role: 'applicant', id }, apiConfig.auth.secret));

    progress(
      `submitting ${applications} applications through the API (${concurrency} at a time), time compressed ${scale}×`,
    );
    let next = 0;
    let done = 0;
    let refused = 0;
    const submitOne = async () => {
      for (;;) {
        const i = next++;
        if (i >= ids.length) return;
        const { id, institution_id } = ids[i]!;
        const res = await fetch(`${api.url}/api/applications/${id}/submit`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tokens.get(institution_id)}` },
        });
        if (res.status !== 200) {
          refused += 1;
          if (refused <= 3) progress(`refused: ${res.status} ${await res.text()}`);
        } else await res.arrayBuffer();
        done += 1;
        if (done % Math.max(1, Math.floor(applications / 10)) === 0) progress(`${done}/${applications} submitted`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, submitOne));
    const submittedIn = (performance.now() - started) / 1000;

    progress('waiting for the call to close and the formal check to finish');
    const result = (await client.workflow.getHandle(roundId).result()) as {
      formalCheck: { passed: number; failed: number };
    };
    const wall = (performance.now() - started) / 1000;

    // Each run's history, fetched and measured here: event count and encoded size in bytes.
    const runs = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId='${roundId}'` })) runs.push(wf.runId);
    const largest = { events: 0, bytes: 0 };
    for (const runId of runs) {
      const history = await client.workflow.getHandle(roundId, runId).fetchHistory();
      largest.events = Math.max(largest.events, history.events?.length ?? 0);
      largest.bytes = Math.max(largest.bytes, proto.temporal.api.history.v1.History.encode(history).finish().length);
    }
    const over = largest.events > HISTORY_EVENT_LIMIT || largest.bytes > HISTORY_BYTES_LIMIT;
    const counts = (await db('email_outbox')
      .where({ workflow_id: roundId, status: 'sent' })
      .count('* as n')
      .first()) as { n: number };

    process.stdout.write(
      [
        '',
        `applications: ${applications} (accepted ${applications - refused}, refused ${refused}); formal check: ${result.formalCheck.passed} passed, ${result.formalCheck.failed} failed; emails sent: ${counts.n}`,
        '',
        '| workflow type | runs | largest history (events) | largest history (bytes) | wall time (s) |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| roundWorkflow | ${runs.length} | ${largest.events} | ${largest.bytes} | ${wall.toFixed(1)} (submissions done at ${submittedIn.toFixed(1)}) |`,
        '',
        over
          ? `FAIL: a run's history passed ${HISTORY_EVENT_LIMIT} events or ${HISTORY_BYTES_LIMIT} bytes`
          : `ok: every run under ${HISTORY_EVENT_LIMIT} events and ${HISTORY_BYTES_LIMIT} bytes`,
        '',
      ].join('\n'),
    );
    return over || refused > 0 ? 1 : 0;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
