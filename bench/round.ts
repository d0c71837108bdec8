/**
 * `npm run bench:round -- --applications N`: one national-scale call for applications on real servers
 * (Temporal dev server, embedded PostgreSQL, maildev), in compressed time. N applications from every
 * seeded institution are submitted through the API (each one an Update judged by the workflow); the call
 * closes and the formal check runs. Prints, per workflow type, the largest history of any run (events,
 * bytes) and the wall time, and exits non-zero if any run passes 5,120 events or 5 MB (10% of Temporal's
 * limits).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { signToken } from '../api/auth.js';
import { startApi } from '../api/server.js';
import { createDb, migrateLatest } from '../db/knex.js';
import { seed } from '../db/seed.js';
import { insertBulkDrafts, replaceExpertPool } from '../local-stack/fixtures.js';
import { startMaildev } from '../local-stack/maildev.js';
import { freePort } from '../local-stack/ports.js';
import { startEmbeddedPostgres } from '../local-stack/postgres.js';
import { resolveTemporalCli } from '../local-stack/temporal-cli.js';
import { startTemporalDevServer } from '../local-stack/temporal-server.js';
import { loadConfig, publicBaseUrlOf } from '../platform/config.js';
import { AttachmentStore } from '../storage/attachments.js';
import { startWorker } from '../worker.js';
import { reviewWorkflowId } from '../domain/workflow-ids.js';
import { openBenchWorkspace } from './workspace.js';

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
  const workspace = openBenchWorkspace('ronghe-bench-');
  const { config, logger, tmp, stops } = workspace;
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
    const apiAddress = { apiUrl: undefined as string | undefined };
    const worker = await startWorker({
      temporalAddress: temporal.address,
      namespace: 'default',
      taskQueue: 'ronghe-bench',
      db,
      attachments,
      smtpUrl: maildev.smtpUrl,
      mailFrom: config.smtp.from,
      staffEmail: config.staffEmail,
      // The API starts later on a port of its own: links are written once it is known.
      publicBaseUrl: () => apiAddress.apiUrl ?? publicBaseUrlOf(config),
      logger,
    });
    stops.unshift(() => worker.shutdown());
    const connection = await Connection.connect({ address: temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    const apiConfig = loadConfig({ NODE_ENV: 'test', API_PORT: '0', TEMPORAL_TASK_QUEUE: 'ronghe-bench' });
    const api = await startApi({ config: apiConfig, db, temporal: client, attachments, logger });
    apiAddress.apiUrl = api.url;
    stops.unshift(() => api.close());

    // Drafts with their 申报书 are prepared in bulk (the bench is about the workflow, not about typing).
    const institutions = (await db('institutions').orderBy('id').pluck('id')) as string[];
    const staff = await signToken({ role: 'staff', id: 'bench' }, apiConfig.auth.secret);
    // The call must stay open while N submissions arrive (about 25 ms of wall time each), and the review
    // while 3N scores arrive (about 12 ms each); at least a minute each. 20 and 10 working days ≈ 28 and 14
    // calendar days.
    const day = 24 * 3600;
    const scale = Math.max(
      1,
      Math.floor(
        Math.min(
          (28 * day) / Math.max(60, applications * 0.025),
          (14 * day) / Math.max(60, applications * 3 * 0.012 + 30),
        ),
      ),
    );
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

    // The expert pool: one expert per hundred reviews, spread over the fields like the applications.
    const fields = (await db('industries').orderBy('key').pluck('key')) as string[];
    // A multiple of the number of fields, so that each field's experts can carry its share within the bound.
    const poolSize = fields.length * Math.ceil(Math.max(60, Math.ceil((applications * 3) / 100)) / fields.length);
    const pool = await replaceExpertPool(db, { prefix: 'bench', size: poolSize, fields });

    const ids = await insertBulkDrafts(db, attachments, {
      roundId,
      count: applications,
      institutions,
      fields,
      staffNoPrefix: 'B',
    });
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

    progress('waiting for the call to close, the formal check and the assignment of reviewers');
    const stage = async () => (await client.workflow.getHandle(roundId).query<{ stage: string }>('getRound')).stage;
    const until = async (wanted: string) => {
      while ((await stage()) !== wanted) await new Promise((r) => setTimeout(r, 500));
    };
    await until('review');
    const reviewId = reviewWorkflowId(roundId);
    const reviewStarted = performance.now();
    let assignments: { id: string; expert_id: string }[] = [];
    while (assignments.length < applications * 3) {
      await new Promise((r) => setTimeout(r, 500));
      const review = await client.workflow
        .getHandle(reviewWorkflowId(roundId))
        .query<{ stage: string }>('getReview')
        .catch(() => undefined);
      if (review?.stage === 'assignment_blocked') {
        const reason = await db('reviews').first<{ status_reason: string }>('status_reason');
        throw new Error(`reviewer assignment blocked: ${reason.status_reason}`);
      }
      assignments = await db('review_assignments')
        .where({ wave: 0 })
        .select<{ id: string; expert_id: string }[]>('id', 'expert_id');
    }
    const rubric = (
      await db('programmes').where({ key: 'research_project' }).first<{ rules: { rubric: { key: string }[] } }>('rules')
    ).rules.rubric;
    const expertTokens = new Map<string, string>();
    for (const id of pool) expertTokens.set(id, await signToken({ role: 'expert', id }, apiConfig.auth.secret));
    progress(
      `${assignments.length} reviews assigned to ${new Set(assignments.map((a) => a.expert_id)).size} experts; scoring through the API`,
    );
    let nextReview = 0;
    let reviewsDone = 0;
    let reviewsRefused = 0;
    const reviewOne = async () => {
      for (;;) {
        const i = nextReview++;
        if (i >= assignments.length) return;
        const a = assignments[i]!;
        const res = await fetch(`${api.url}/api/assignments/${a.id}/review`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${expertTokens.get(a.expert_id)}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            scores: Object.fromEntries(rubric.map((c, k) => [c.key, 60 + ((i * 7 + k * 3) % 40)])),
          }),
        });
        if (res.status !== 200) {
          reviewsRefused += 1;
          if (reviewsRefused <= 3) progress(`review refused: ${res.status} ${await res.text()}`);
        } else await res.arrayBuffer();
        reviewsDone += 1;
        if (reviewsDone % Math.max(1, Math.floor(assignments.length / 10)) === 0)
          progress(`${reviewsDone}/${assignments.length} reviews`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, reviewOne));
    const reviewsIn = (performance.now() - reviewStarted) / 1000;

    progress('waiting for the review to close; confirming the shortlist');
    await until('shortlist_pending');
    const reviewWall = (performance.now() - reviewStarted) / 1000;
    const confirm = await fetch(`${api.url}/api/rounds/${roundId}/shortlist/confirm`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${await confirm.text()}`);
    const result = (await client.workflow.getHandle(roundId).result()) as {
      formalCheck: { passed: number; failed: number };
      review: { items: number; recommended: number; underReviewed: number };
    };
    const wall = (performance.now() - started) / 1000;

    /** Each run's history, fetched and measured here: event count and encoded size in bytes. */
    const measure = async (workflowId: string) => {
      const runs = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId='${workflowId}'` })) runs.push(wf.runId);
      const largest = { runs: runs.length, events: 0, bytes: 0 };
      for (const runId of runs) {
        const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
        largest.events = Math.max(largest.events, history.events?.length ?? 0);
        largest.bytes = Math.max(largest.bytes, proto.temporal.api.history.v1.History.encode(history).finish().length);
      }
      return largest;
    };
    const round = await measure(roundId);
    const review = await measure(reviewId);
    const over = [round, review].some((h) => h.events > HISTORY_EVENT_LIMIT || h.bytes > HISTORY_BYTES_LIMIT);
    const emails = await db('email_outbox').where({ status: 'sent' }).count<{ n: number }[]>('* as n');

    process.stdout.write(
      [
        '',
        `applications: ${applications} (accepted ${applications - refused}, refused ${refused}); formal check: ${result.formalCheck.passed} passed, ${result.formalCheck.failed} failed`,
        `reviews: ${assignments.length} by ${poolSize} experts (refused ${reviewsRefused}); ranked ${result.review.items}, recommended ${result.review.recommended}, under-reviewed ${result.review.underReviewed}; emails sent: ${Number(emails[0]!.n)}; time compressed ${scale}×`,
        '',
        '| workflow type | runs | largest history (events) | largest history (bytes) | wall time (s) |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| roundWorkflow | ${round.runs} | ${round.events} | ${round.bytes} | ${wall.toFixed(1)} (submissions done at ${submittedIn.toFixed(1)}) |`,
        `| reviewWorkflow | ${review.runs} | ${review.events} | ${review.bytes} | ${reviewWall.toFixed(1)} (scores done at ${reviewsIn.toFixed(1)}) |`,
        '',
        over
          ? `FAIL: a run's history passed ${HISTORY_EVENT_LIMIT} events or ${HISTORY_BYTES_LIMIT} bytes`
          : `ok: every run under ${HISTORY_EVENT_LIMIT} events and ${HISTORY_BYTES_LIMIT} bytes`,
        '',
      ].join('\n'),
    );
    return over || refused > 0 || reviewsRefused > 0 ? 1 : 0;
  } finally {
    await workspace.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
