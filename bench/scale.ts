/**
 * `npm run bench:scale [-- --applications N]`: the activities that work through lists, run for real at
 * national scale — 10,000 applications from the seeded institutions, 3 experts each (30,000 review
 * assignments) — against an embedded PostgreSQL, each through `MockActivityEnvironment` (no Temporal server:
 * the measure is the activity, not the workflow). Mail goes to a maildev (a real SMTP hand-over, kept in
 * its memory). Prints one table: per activity the rows it worked through, the calls the workflow makes
 * (a page each), the longest call, the longest gap between heartbeats (from the start and to the end
 * included), the timeouts of the workflow's proxy (`domain/activity-timeouts.ts`), and ok when the longest
 * call is under half its startToClose and the longest gap under half its heartbeatTimeout. Exits non-zero
 * when a row is NOT OK. A measurement, not a test: progress goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger as TemporalLogger } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities/index.js';
import { createDb, migrateLatest } from '../db/knex.js';
import { CalendarRepository } from '../db/repositories/calendar.js';
import { seed } from '../db/seed.js';
import {
  DECISION_TIMEOUTS,
  LIST_BATCH_SIZES,
  PUBLICITY_TIMEOUTS,
  REVIEW_TIMEOUTS,
  ROUND_LIST_TIMEOUTS,
  ROUND_STEP_TIMEOUTS,
  type ActivityTimeouts,
} from '../domain/activity-timeouts.js';
import { shanghaiDayOf } from '../domain/calendar/index.js';
import { reviewWorkflowId, roundWorkflowId, publicityWorkflowId } from '../domain/workflow-ids.js';
import { insertBulkDrafts, replaceExpertPool } from '../local-stack/fixtures.js';
import { startMaildev } from '../local-stack/maildev.js';
import { freePort } from '../local-stack/ports.js';
import { startEmbeddedPostgres } from '../local-stack/postgres.js';
import { Outbox } from '../mail/outbox.js';
import { createSmtpTransport } from '../mail/transport.js';
import { publicBaseUrlOf } from '../platform/config.js';
import { AttachmentStore } from '../storage/attachments.js';
import { openBenchWorkspace } from './workspace.js';

const { values } = parseArgs({ options: { applications: { type: 'string', default: '10000' } } });
const applications = Number(values.applications);
if (!Number.isInteger(applications) || applications < 1) throw new Error('--applications must be a positive integer');
const EXPERTS_PER_ITEM = 3;

function progress(message: string): void {
  process.stderr.write(`[bench:scale] ${message}\n`);
}

/** One line of the table: an activity measured over every call the workflow would make. */
interface Row {
  activity: string;
  rows: number;
  calls: number;
  /** Longest single call, seconds. */
  longest: number;
  /** Longest gap between heartbeats within a call (start and end included), seconds. */
  gap: number;
  timeouts: ActivityTimeouts;
}

const seconds = (duration: string | undefined) => (duration === undefined ? undefined : msToNumber(duration) / 1000);

function verdict(r: Row): boolean {
  const startToClose = seconds(r.timeouts.startToCloseTimeout)!;
  const heartbeat = seconds(r.timeouts.heartbeatTimeout);
  return r.longest < startToClose / 2 && (heartbeat === undefined || r.gap < heartbeat / 2);
}

async function main(): Promise<number> {
  const workspace = openBenchWorkspace('ronghe-scale-');
  const { config, logger, tmp, stops } = workspace;
  try {
    progress('starting PostgreSQL and maildev');
    const [postgres, maildev] = await Promise.all([
      freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port, ephemeral: true })),
      Promise.all([freePort(), freePort()]).then(([smtpPort, webPort]) => startMaildev({ smtpPort, webPort })),
    ]);
    stops.push(
      () => postgres.stop(),
      () => maildev.stop(),
    );
    const db = createDb(postgres.url, { poolMax: 10 });
    stops.unshift(() => db.destroy());
    await migrateLatest(db);
    await seed(db);
    const transport = createSmtpTransport(maildev.smtpUrl);
    stops.unshift(() => Promise.resolve(transport.close()));
    const outbox = new Outbox(db, transport, config.smtp.from, logger);
    const attachments = new AttachmentStore(path.join(tmp, 'attachments'), 1024 * 1024);
    // The activities' own log lines (one per submission…) would drown the table: warnings and errors only.
    const activityLogger: TemporalLogger = {
      log: (level, message, meta) => {
        if (level === 'WARN') logger.warn(meta ?? {}, message);
        else if (level === 'ERROR') logger.error(meta ?? {}, message);
      },
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (message, meta) => logger.warn(meta ?? {}, message),
      error: (message, meta) => logger.error(meta ?? {}, message),
    };
    const acts = createActivities({
      db,
      outbox,
      calendar: new CalendarRepository(db),
      attachments,
      staffEmail: config.staffEmail,
      publicBaseUrl: () => publicBaseUrlOf(config),
    });

    const programme = 'research_project';
    const year = 2027;
    const roundId = roundWorkflowId(programme, year);
    const reviewWf = reviewWorkflowId(roundId);
    const now = new Date();
    const today = shanghaiDayOf(now);

    /** Runs an activity as the workflow `workflowId` would, recording the longest gap between heartbeats. */
    const run = async <I, R>(
      workflowId: string,
      name: keyof typeof acts,
      input: I,
    ): Promise<{ result: R; duration: number; gap: number }> => {
      const fn = (i: I) => (acts[name] as (i: I) => Promise<R>)(i);
      const env = new MockActivityEnvironment(
        {
          activityType: name,
          activityId: randomUUID(),
          workflowExecution: { workflowId, runId: randomUUID() },
        },
        { logger: activityLogger },
      );
      const started = performance.now();
      let last = started;
      let gap = 0;
      env.on('heartbeat', () => {
        const t = performance.now();
        gap = Math.max(gap, t - last);
        last = t;
      });
      const result = (await env.run(fn, input)) as R;
      const end = performance.now();
      gap = Math.max(gap, end - last);
      return { result, duration: (end - started) / 1000, gap: gap / 1000 };
    };
    const table: Row[] = [];
    /** Measures one activity called once, or page by page until `done` says the list is through. */
    const measure = async <I, R>(
      workflowId: string,
      name: keyof typeof acts,
      timeouts: ActivityTimeouts,
      input: (previous: R | undefined) => I,
      rowsOf: (results: R[]) => number,
      done: (result: R) => boolean = () => true,
    ): Promise<R[]> => {
      const results: R[] = [];
      const row: Row = { activity: name, rows: 0, calls: 0, longest: 0, gap: 0, timeouts };
      progress(`${name}…`);
      for (;;) {
        const r = await run<I, R>(workflowId, name, input(results.at(-1)));
        results.push(r.result);
        row.calls += 1;
        row.longest = Math.max(row.longest, r.duration);
        row.gap = Math.max(row.gap, r.gap);
        if (done(r.result)) break;
      }
      row.rows = rowsOf(results);
      progress(`${name}: ${row.rows} rows, ${row.calls} calls, longest ${row.longest.toFixed(1)} s`);
      table.push(row);
      return results;
    };

    // ---- Seeding (not measured): a round, its drafts, N submissions, an expert pool for 3N reviews.
    const institutions = (await db('institutions').orderBy('id').pluck('id')) as string[];
    const fields = (await db('industries').orderBy('key').pluck('key')) as string[];
    progress(`preparing the round (${institutions.length} institutions)`);
    await run(roundId, 'prepareRound', {
      roundId,
      programme,
      year,
      opensAt: now.toISOString(),
      launchedBy: 'staff:bench',
    });
    // No per-institution limit (10,000 from ~120 institutions) and no quota (as 每年选树一批): every
    // application is recommended, so confirmation, publicity and 认定 work through all of them — the worst case.
    await db('rounds')
      .where({ id: roundId })
      .update({
        config: JSON.stringify({ limits: { perApplicant: applications, perUniversity: applications }, quota: {} }),
      });
    // One expert per hundred reviews (at least 60), a multiple of the number of fields, as in bench/round.ts.
    const poolSize =
      fields.length * Math.ceil(Math.max(60, Math.ceil((applications * EXPERTS_PER_ITEM) / 100)) / fields.length);
    await replaceExpertPool(db, { prefix: 'scale', size: poolSize, fields });
    const drafts = await insertBulkDrafts(db, attachments, {
      roundId,
      count: applications,
      institutions,
      fields,
      staffNoPrefix: 'S',
    });
    progress(`submitting ${applications} applications (recordSubmission, 4 at a time)`);
    let next = 0;
    const submitSome = async () => {
      for (;;) {
        const i = next++;
        if (i >= drafts.length) return;
        const d = drafts[i]!;
        await run(roundId, 'recordSubmission', {
          roundId,
          applicationId: d.id,
          institutionId: d.institution_id,
          receivedAt: new Date(now.getTime() + i).toISOString(),
          actor: `applicant:${d.institution_id}`,
          updateId: randomUUID(),
        });
        if ((i + 1) % 1000 === 0) progress(`${i + 1}/${applications} submitted`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, submitSome));

    // ---- The call's mailing, the formal check.
    type Batch = { last: string | undefined; done: boolean; sent: number; alreadySent: number };
    const pages = <B extends Batch>(results: B[]) => results.reduce((n, r) => n + r.sent + r.alreadySent, 0);
    const cursor = (previous: Batch | undefined) => ({
      roundId,
      after: previous?.last,
      batchSize: LIST_BATCH_SIZES.mail,
    });
    await measure(roundId, 'sendCallNotices', ROUND_LIST_TIMEOUTS, cursor, pages, (r: Batch) => r.done);
    await measure(
      roundId,
      'formalCheckBatch',
      ROUND_LIST_TIMEOUTS,
      () => ({ roundId, batchSize: LIST_BATCH_SIZES.formalCheck }),
      (rs: { passed: number; failed: number; done: boolean }[]) => rs.reduce((n, r) => n + r.passed + r.failed, 0),
      (r: { done: boolean }) => r.done,
    );
    await db('rounds').where({ id: roundId }).update({ status: 'review' });

    // ---- The expert review: assignment, invitations, reminders, scores, aggregation.
    const [prepared] = await measure(
      reviewWf,
      'prepareReview',
      REVIEW_TIMEOUTS,
      () => ({ workflowId: reviewWf, subjectKind: 'round' as const, subjectId: roundId, today }),
      (rs: Awaited<ReturnType<typeof acts.prepareReview>>[]) => (rs[0]?.status === 'assigned' ? rs[0].assignments : 0),
    );
    if (prepared?.status !== 'assigned') throw new Error(`the review was not assigned: ${JSON.stringify(prepared)}`);
    const reviewCursor = (previous: Batch | undefined) => ({
      workflowId: reviewWf,
      reviewId: prepared.reviewId,
      due: prepared.due,
      after: previous?.last,
      batchSize: LIST_BATCH_SIZES.mail,
    });
    await measure(reviewWf, 'sendReviewInvitations', REVIEW_TIMEOUTS, reviewCursor, pages, (r: Batch) => r.done);
    const reminder = prepared.due.reminders[0] ?? { k: 1, at: now.toISOString() };
    await measure(
      reviewWf,
      'sendReviewReminders',
      REVIEW_TIMEOUTS,
      (previous: Batch | undefined) => ({ ...reviewCursor(previous), reminder }),
      pages,
      (r: Batch) => r.done,
    );
    progress('scoring every assignment (one statement)');
    const rubric = (
      await db('programmes').where({ key: programme }).first<{ rules: { rubric: { key: string }[] } }>('rules')
    ).rules.rubric;
    await db.raw(
      `with a as (
         update review_assignments set status = 'submitted', responded_at = now(), accepted_at = now()
          where review_id = ? returning id
       )
       insert into review_scores (assignment_id, scores, total, submitted_at, updated_at)
       select id, ?::jsonb, 40 + (row_number() over (order by id)) % 5000 / 100.0, now(), now() from a`,
      [prepared.reviewId, JSON.stringify(Object.fromEntries(rubric.map((c) => [c.key, 80])))],
    );
    await measure(
      reviewWf,
      'closeDueAssignments',
      REVIEW_TIMEOUTS,
      () => ({
        workflowId: reviewWf,
        reviewId: prepared.reviewId,
        dueDay: prepared.due.dueDay,
        today,
        at: now.toISOString(),
      }),
      (rs: { timedOut: number }[]) => rs[0]!.timedOut,
    );
    await measure(
      reviewWf,
      'aggregateReview',
      REVIEW_TIMEOUTS,
      () => ({ workflowId: reviewWf, reviewId: prepared.reviewId }),
      (rs: { items: number }[]) => rs[0]!.items,
    );

    // ---- Shortlist confirmation (a decision), publicity, 认定.
    await measure(
      roundId,
      'confirmShortlist',
      DECISION_TIMEOUTS,
      () => ({ roundId, adjustments: [], actor: 'staff:bench', updateId: randomUUID() }),
      (rs: { shortlisted: number }[]) => rs[0]!.shortlisted,
    );
    const publicityWf = publicityWorkflowId(roundId);
    const [opened] = await measure(
      publicityWf,
      'openPublicity',
      PUBLICITY_TIMEOUTS,
      () => ({ workflowId: publicityWf, subjectKind: 'round' as const, subjectId: roundId, today }),
      (rs: { entries: number; publicityId: string }[]) => rs[0]!.entries,
    );
    await run(publicityWf, 'closePublicity', {
      workflowId: publicityWf,
      publicityId: opened!.publicityId,
      at: new Date().toISOString(),
    });
    await measure(
      roundId,
      'approveRound',
      ROUND_STEP_TIMEOUTS,
      () => ({ roundId, workflowId: roundId, today, at: new Date().toISOString() }),
      (rs: { approved: number }[]) => rs[0]!.approved,
    );
    await measure(
      roundId,
      'createProjects',
      ROUND_STEP_TIMEOUTS,
      () => ({ roundId, today }),
      (rs: unknown[][]) => rs[0]!.length,
    );
    const pending = await db('email_outbox').whereIn('status', ['pending', 'sending']).count<{ n: string }[]>('* as n');
    const sent = await db('email_outbox').where({ status: 'sent' }).count<{ n: string }[]>('* as n');

    const fmt = (d: string | undefined) => (d === undefined ? '—' : `${seconds(d)}`);
    const lines = [
      '',
      `${applications} applications from ${institutions.length} institutions, ${prepared.assignments} review assignments to ${poolSize} experts; mail to a maildev: ${sent[0]!.n} sent, ${pending[0]!.n} left to the outbox sweeper`,
      '',
      '| activity | rows | calls | longest call (s) | longest heartbeat gap (s) | startToClose (s) | heartbeatTimeout (s) | |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...table.map(
        (r) =>
          `| ${r.activity} | ${r.rows} | ${r.calls} | ${r.longest.toFixed(1)} | ${r.gap.toFixed(1)} | ${fmt(r.timeouts.startToCloseTimeout)} | ${fmt(r.timeouts.heartbeatTimeout)} | ${verdict(r) ? 'ok' : 'NOT OK'} |`,
      ),
      '',
    ];
    process.stdout.write(lines.join('\n'));
    return table.every(verdict) ? 0 : 1;
  } finally {
    await workspace.close();
  }
}

/** A failed statement's message quotes the whole statement (10,000 rows of it): its first 2,000 characters. */
function shortError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return `${err.message.slice(0, 2000)}\n${err.stack?.split('\n').slice(1, 6).join('\n')}`;
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(shortError(err));
  return 1;
});
process.exit();
