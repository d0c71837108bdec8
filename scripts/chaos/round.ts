import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signToken } from '../../api/auth.js';
import { insertBulkDrafts, replaceExpertPool } from '../../local-stack/fixtures.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { ChaosStack } from './stack.js';

/** What goes wrong during a chaos run; each happens at a moment drawn from the seed. */
export interface FaultPlan {
  /** Worker processes SIGKILLed (the supervisor starts a new one each time). */
  kills: number;
  /** The Temporal dev server stopped and started again once, its SQLite file kept. */
  temporalRestart: boolean;
  /** PostgreSQL stopped for this long once (0: never). */
  postgresOutageMs: number;
  /** SMTP unreachable for this long once (0: never). */
  smtpOutageMs: number;
  /** Once, an SMTP connection dropped after `DATA`: the sink has the message, the sender believes it failed. */
  smtpDropAfterData: boolean;
}

/** What one run produced, compared between a clean run and a chaos run of the same seed. */
export interface RoundTally {
  submissions: number;
  /** sha256 of every application's sorted expert totals, by title; and how many score sheets. */
  scores: { sheets: number; digest: string };
  objections: { filed: number; upheld: number; dismissed: number };
  /** Titles of the applications approved at 认定, sorted. */
  approved: string[];
  /** Round, review and publicity workflows still running after the round's result. */
  openPastEnd: number;
  outbox: { pending: number; failed: number };
  /** Receipts (`update_receipts`) never answered by their workflow, and those whose Update failed for good. */
  receipts: { pending: number; failed: number };
  /** Deliveries of one email (idempotency key) under more than one Message-ID: must be 0. */
  duplicates: number;
  /** Extra deliveries of one email under its one Message-ID (a send whose acknowledgement was lost). */
  resends: number;
  /** 500 answers from the API (never acceptable). */
  serverErrors: number;
  /** What was injected, with the second of the run it happened at. */
  faults: string[];
  wallSeconds: number;
}

export interface ChaosRoundOptions {
  applications: number;
  seed: number;
  /** Undefined: the clean run. */
  faults?: FaultPlan | undefined;
  /** Where the run keeps its servers' files (deleted afterwards). */
  dir: string;
  progress: (message: string) => void;
}

const ROUND = 'round-research_project-2027';
const DAY_SECONDS = 24 * 3600;

/** A small seeded PRNG (mulberry32): the same seed draws the same moments and choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One round of `applications` research-project applications on real servers, in compressed time, through the
 * API as people would use it: submissions, expert scores, the shortlist's confirmation, objections during
 * publicity and their resolutions, then 认定. With `faults`, the plan's faults are injected at seeded moments
 * while it runs. Clients behave as a careful app would: every mutating call carries an Idempotency-Key and is
 * retried with it on 503 or a network error.
 */
export async function runChaosRound(options: ChaosRoundOptions): Promise<RoundTally> {
  const { applications, progress } = options;
  // Two streams, so that injecting faults never changes the run's own choices (which entries get objections).
  const random = prng(options.seed);
  const faultRandom = prng(options.seed ^ 0x5eed);
  const started = performance.now();
  const at = () => Math.round((performance.now() - started) / 1000);
  const stack = await ChaosStack.start(options.dir, progress);
  const faults: string[] = [];
  let serverErrors = 0;
  let stopFaults = false;
  let faultDriver: Promise<void> = Promise.resolve();
  let horizonSeconds = 0;
  try {
    const { db, api, client } = stack;
    const secret = stack.config.auth.secret;
    const staff = await signToken({ role: 'staff', id: 'chaos' }, secret);

    /** One API call, retried under its Idempotency-Key while the answer is ours (503, network) and not final. */
    const call = async <T>(
      method: string,
      urlPath: string,
      init: { token?: string; body?: unknown; key?: string } = {},
    ): Promise<{ status: number; body: T }> => {
      const giveUpAt = Date.now() + 10 * 60_000;
      for (;;) {
        try {
          const res = await fetch(`${api.url}${urlPath}`, {
            method,
            headers: {
              ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
              ...(init.key ? { 'Idempotency-Key': init.key } : {}),
              ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            },
            ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
            signal: AbortSignal.timeout(90_000),
          });
          const text = await res.text();
          if (res.status === 500) serverErrors += 1;
          if (res.status < 500) return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
          const retryAfter = Number(res.headers.get('retry-after') ?? '1');
          await sleep(Math.min(5, Math.max(1, retryAfter)) * 1000);
        } catch {
          await sleep(1000);
        }
        if (Date.now() > giveUpAt) throw new Error(`${method} ${urlPath}: no final answer in 10 minutes`);
      }
    };
    const expectOk = <T>(what: string, r: { status: number; body: T }) => {
      if (r.status >= 400) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    /** Polls until `check` answers; errors while a server is away count as "not yet". */
    const until = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15 * 60_000) => {
      const giveUpAt = Date.now() + timeoutMs;
      let lastError = '';
      for (;;) {
        const value = await check().catch((err: unknown) => {
          // A server away is "not yet"; each new kind of error is shown once, so a mistake is not hidden.
          const message = err instanceof Error ? err.message : String(err);
          if (message !== lastError) progress(`(waiting for ${what}: ${message.split('\n')[0]})`);
          lastError = message;
          return undefined;
        });
        if (value !== undefined) return value;
        if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}: ${lastError}`);
        await sleep(500);
      }
    };

    // The call stays open long enough for every submission through every fault; the review likewise.
    const callWallSeconds = Math.max(90, applications * 0.4);
    const scale = Math.floor((28 * DAY_SECONDS) / callWallSeconds);
    // The call, then the review (10 working days, about 14 calendar days): when faults are injected.
    horizonSeconds = callWallSeconds * 1.5;

    // Experts, drafts and their 申报书 are prepared in bulk, the same in every run.
    const fields = (await db('industries').orderBy('key').pluck('key')) as string[];
    const institutions = (await db('institutions').orderBy('id').pluck('id')) as string[];
    const poolSize = fields.length * Math.ceil(Math.max(30, Math.ceil((applications * 3) / 20)) / fields.length);
    await replaceExpertPool(db, { prefix: 'chaos', size: poolSize, fields });
    const launched = expectOk(
      'launch',
      await call('POST', '/api/rounds', {
        token: staff,
        key: 'chaos-launch',
        body: {
          programme: 'research_project',
          year: 2027,
          timeScale: scale,
          rules: { limits: { perApplicant: applications, perUniversity: applications } },
        },
      }),
    );
    void launched;
    const store = new AttachmentStore(stack.config.attachments.dir, stack.config.attachments.maxBytes);
    const apps = await insertBulkDrafts(db, store, {
      roundId: ROUND,
      count: applications,
      institutions,
      fields,
      staffNoPrefix: 'C',
    });
    const tokens = new Map<string, string>();
    for (const id of institutions) tokens.set(id, await signToken({ role: 'applicant', id }, secret));

    if (options.faults) faultDriver = injectFaults(options.faults);

    await until('the call to open', async () => {
      const r = await client.workflow.getHandle(ROUND).query<{ stage: string }>('getRound');
      return r.stage === 'call_open' ? true : undefined;
    });
    progress(`submitting ${applications} applications (time compressed ${scale}×)`);
    await inParallel(apps, 8, async (a, i) => {
      expectOk(
        `submit ${i + 1}`,
        await call('POST', `/api/applications/${a.id}/submit`, {
          token: tokens.get(a.institution_id)!,
          key: `chaos-submit-${i + 1}`,
        }),
      );
    });

    progress('waiting for the formal check and the assignment of reviewers');
    const assignments = await until('every application to have three reviewers', async () => {
      const rows = await db('review_assignments as ra')
        .joinRaw('join applications as a on a.id::text = ra.item_id')
        .where({ 'ra.wave': 0 })
        .select<{ id: string; expert_id: string; title_zh: string }[]>('ra.id', 'ra.expert_id', 'a.title_zh');
      return rows.length >= applications * 3 ? rows.sort((x, y) => x.id.localeCompare(y.id)) : undefined;
    });
    const rubric = (
      await db('programmes').where({ key: 'research_project' }).first<{ rules: { rubric: { key: string }[] } }>('rules')
    ).rules.rubric;
    const experts = new Map<string, string>();
    progress(`${assignments.length} reviews assigned; experts score through the API`);
    await inParallel(assignments, 8, async (a) => {
      if (!experts.has(a.expert_id))
        experts.set(a.expert_id, await signToken({ role: 'expert', id: a.expert_id }, secret));
      // Every expert gives an application the same sheet, and no two applications tie: the ranking is the
      // same in every run whichever experts the assignment drew.
      const n = Number(/(\d+)$/.exec(a.title_zh)![1]) - 1;
      // 30 to 90 in steps of 60/N (decimals are allowed), every criterion alike: totals are distinct.
      const mark = Math.round((30 + (n * 60) / applications) * 100) / 100;
      const scores = Object.fromEntries(rubric.map((c) => [c.key, mark]));
      expectOk(
        `score ${a.id}`,
        await call('PUT', `/api/assignments/${a.id}/review`, {
          token: experts.get(a.expert_id)!,
          key: `chaos-review-${a.id}`,
          body: { scores },
        }),
      );
    });

    progress('waiting for the review to close; staff confirm the shortlist');
    await until('the shortlist', async () => {
      const r = await client.workflow.getHandle(ROUND).query<{ stage: string }>('getRound');
      return r.stage === 'shortlist_pending' ? true : undefined;
    });
    expectOk(
      'confirm',
      await call('POST', `/api/rounds/${ROUND}/shortlist/confirm`, { token: staff, key: 'chaos-confirm', body: {} }),
    );

    progress('publicity: objections are filed and resolved');
    const publicityId = await until('the publicity period', async () => {
      const r = await call<{ items: { publicityId: string; status: string; parentId: string | null }[] }>(
        'GET',
        `/api/rounds/${ROUND}/publicity`,
      );
      return r.body.items.find((p) => p.parentId === null && p.status === 'open')?.publicityId;
    });
    const period = expectOk(
      'publicity',
      await call<{ entries: { entryId: string; rank: number }[] }>('GET', `/api/publicity/${publicityId}`),
    );
    const ranked = [...period.entries].sort((a, b) => a.rank - b.rank);
    const count = Math.max(2, Math.round(applications / 60));
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, ranked.length)) chosen.add(Math.floor(random() * ranked.length));
    const objectionIds: string[] = [];
    for (const [k, index] of [...chosen].sort((a, b) => a - b).entries()) {
      const filed = expectOk(
        `objection ${k + 1}`,
        await call<{ objectionId: string }>('POST', `/api/publicity/${publicityId}/objections`, {
          key: `chaos-objection-${k + 1}`,
          body: {
            entryId: ranked[index]!.entryId,
            name: `异议人${k + 1}`,
            unit: '河南省某研究院',
            phone: '0371-12345678',
            email: `objector-${k + 1}@example.com`,
            facts: `经核查，该项目申报材料中合作企业投入情况与实际不符，请予复核。（第 ${k + 1} 件）`,
          },
        }),
      );
      objectionIds.push(filed.objectionId);
    }
    const upheld = Math.floor(objectionIds.length / 2);
    for (const [k, objectionId] of objectionIds.entries()) {
      expectOk(
        `resolution ${k + 1}`,
        await call('POST', `/api/objections/${objectionId}/resolution`, {
          token: staff,
          key: `chaos-resolution-${k + 1}`,
          body:
            k < upheld
              ? { outcome: 'upheld', reason: '经核查，异议属实' }
              : { outcome: 'dismissed', reason: '经核查，异议不属实' },
        }),
      );
    }

    progress('waiting for 认定');
    await until('the round result', async () => {
      const r = await client.workflow.getHandle(ROUND).describe();
      return r.status.name === 'COMPLETED' ? true : undefined;
    });
    stopFaults = true;
    await faultDriver;
    progress('waiting for the outbox to drain');
    await until('an empty outbox', async () => {
      const [row] = await db('email_outbox').whereIn('status', ['pending', 'sending']).count<{ n: number }[]>('* as n');
      return Number(row!.n) === 0 ? true : undefined;
    });

    // The tally.
    const submissions = Number(
      (
        await db('applications')
          .where({ round_id: ROUND })
          .whereNot({ status: 'draft' })
          .count<{ n: number }[]>('* as n')
      )[0]!.n,
    );
    const sheets = await db('review_scores as s')
      .join('review_assignments as ra', 'ra.id', 's.assignment_id')
      .joinRaw('join applications as a on a.id::text = ra.item_id')
      .select<{ title_zh: string; total: string }[]>('a.title_zh', 's.total');
    const byTitle = new Map<string, number[]>();
    for (const s of sheets) byTitle.set(s.title_zh, [...(byTitle.get(s.title_zh) ?? []), Number(s.total)]);
    const digest = createHash('sha256')
      .update(JSON.stringify([...byTitle].sort(([a], [b]) => a.localeCompare(b)).map(([t, v]) => [t, v.sort()])))
      .digest('hex')
      .slice(0, 16);
    const objectionRows = await db('objections').select<{ status: string }[]>('status');
    const outcome = expectOk(
      'outcome',
      await call<{ approved: { title: string }[] }>('GET', `/api/rounds/${ROUND}/outcome`),
    );
    let openPastEnd = 0;
    for await (const _ of client.workflow.list({
      query: `ExecutionStatus='Running' AND WorkflowType IN ('roundWorkflow','reviewWorkflow','publicityWorkflow')`,
    }))
      openPastEnd += 1;
    const outboxRows = await db('email_outbox').select<{ status: string }[]>('status');
    const receiptRows = await db('update_receipts').select<{ status: string }[]>('status');
    const delivered = await maildevDeliveries(stack.maildev.apiUrl);
    const byKey = new Map<string, string[]>();
    for (const d of delivered) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d.messageId]);
    let duplicates = 0;
    let resends = 0;
    for (const ids of byKey.values()) {
      if (new Set(ids).size > 1) duplicates += 1;
      else resends += ids.length - 1;
    }
    return {
      submissions,
      scores: { sheets: sheets.length, digest },
      objections: {
        filed: objectionRows.length,
        upheld: objectionRows.filter((o) => o.status === 'upheld').length,
        dismissed: objectionRows.filter((o) => o.status === 'dismissed').length,
      },
      approved: outcome.approved.map((a) => a.title).sort(),
      openPastEnd,
      outbox: {
        pending: outboxRows.filter((r) => r.status === 'pending' || r.status === 'sending').length,
        failed: outboxRows.filter((r) => r.status === 'failed').length,
      },
      receipts: {
        pending: receiptRows.filter((r) => r.status === 'pending').length,
        failed: receiptRows.filter((r) => r.status === 'failed').length,
      },
      duplicates,
      resends,
      serverErrors,
      faults,
      wallSeconds: at(),
    };
  } finally {
    stopFaults = true;
    await faultDriver.catch(() => undefined);
    await stack.stop();
    fs.rmSync(options.dir, { recursive: true, force: true });
  }

  /** Runs the plan's faults one after another, each at a seeded moment of the call or the review. */
  async function injectFaults(plan: FaultPlan): Promise<void> {
    const steps: { name: string; run: () => Promise<void> | void }[] = [];
    for (let k = 0; k < plan.kills; k++) steps.push({ name: 'worker SIGKILLed', run: () => stack.killWorker() });
    if (plan.temporalRestart)
      steps.push({ name: 'Temporal stopped and restarted', run: () => stack.restartTemporal(3_000) });
    if (plan.postgresOutageMs > 0)
      steps.push({
        name: `PostgreSQL stopped for ${plan.postgresOutageMs / 1000} s`,
        run: () => stack.postgresOutage(plan.postgresOutageMs),
      });
    if (plan.smtpOutageMs > 0)
      steps.push({
        name: `SMTP unreachable for ${plan.smtpOutageMs / 1000} s`,
        run: () => stack.smtpOutage(plan.smtpOutageMs),
      });
    if (plan.smtpDropAfterData)
      steps.push({
        name: 'SMTP connection dropped after DATA',
        run: () => {
          const dropped = stack.smtp.dropAfterSmtpData();
          void dropped.then(() => faults.push(`${at()} s: an SMTP connection dropped after DATA`));
        },
      });
    // Seeded moments spread over the call and the review (objections are filed later, in a publicity period
    // too short in compressed time to outlast a 20 s outage); each fault waits for the one before it.
    const moments = steps.map(() => 5 + faultRandom() * (horizonSeconds - 25)).sort((a, b) => a - b);
    const order = steps.map((s) => ({ s, r: faultRandom() })).sort((a, b) => a.r - b.r);
    const from = performance.now();
    for (const [k, { s }] of order.entries()) {
      const wait = moments[k]! * 1000 - (performance.now() - from);
      if (wait > 0) await sleep(wait);
      if (stopFaults) return;
      faults.push(`${at()} s: ${s.name}`);
      progress(`fault: ${s.name}`);
      await s.run();
    }
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        await work(items[i]!, i);
      }
    }),
  );
}

/** Every message the sink received: its idempotency key and Message-ID. */
async function maildevDeliveries(apiUrl: string): Promise<{ key: string; messageId: string }[]> {
  const res = await fetch(`${apiUrl}/email`);
  const emails = (await res.json()) as { headers: Record<string, string | undefined> }[];
  return emails.map((e) => ({
    key: e.headers['x-idempotency-key'] ?? '(none)',
    messageId: e.headers['message-id'] ?? '(none)',
  }));
}

/** A working folder for one run under the OS temporary folder. */
export function chaosDir(label: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), `ronghe-chaos-${label}-`));
}
