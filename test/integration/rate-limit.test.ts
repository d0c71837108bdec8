import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../api/errors.js';
import { createDb, type Db } from '../../db/knex.js';
import { startTcpProxy } from '../../local-stack/tcp-proxy.js';
import { emailKey, RATE_LIMIT_SCHEMA, RateLimits, signInLimits } from '../../api/rate-limit.js';
import { createLogger } from '../../platform/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 15, point 2: the rate limits on a private PostgreSQL, through a dummy sign-in route — the library's
 * schema migrated once, failed attempts counted per account and per address (successes not), the 429 answer,
 * two apps on one database sharing the counts, the pools ended on close. Windows are an hour: nothing here
 * depends on the clock.
 */

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const HOUR = 60 * 60_000;
let database: TestDatabase;
const running: { server: Server; limits: RateLimits }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const { server, limits } of running) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await limits.close();
  }
  await database?.drop();
});

/**
 * A dummy app with the sign-in limits: `POST /sign-in` `{ email, password, totp? }` answers 204 for the password
 * `right` (and the code `123456` when one is sent), 401 otherwise, each check counted as api/sign-in.ts counts
 * it; a body without a string password is a 422, counted nowhere. Behind a proxy on loopback, so
 * `X-Forwarded-For` stands for the client address.
 */
async function signInApp(
  settings = { windowMs: HOUR, perAccount: 3, perAccountTotal: 6, perAddress: 5, resetPerEmail: 2 },
  db: Db = database.db,
) {
  const limits = new RateLimits({ db, logger });
  const app = express();
  app.set('trust proxy', 'loopback');
  const bySignIn = signInLimits(limits, settings);
  // A reset request always answers 200 (no account enumeration), so every request counts.
  app.post('/reset', express.json(), async (req, res) => {
    await bySignIn.resetRequest(req, (req.body as { email: string }).email);
    res.status(200).end();
  });
  // A completed password reset, as the reset page calls it.
  app.post('/reset-done', express.json(), async (req, res) => {
    await bySignIn.forgive(req, emailKey((req.body as { email: string }).email)!);
    res.status(204).end();
  });
  app.post('/sign-in', express.json(), async (req, res) => {
    const { email, password, totp } = req.body as { email?: unknown; password?: unknown; totp?: unknown };
    if (typeof password !== 'string') {
      res.status(422).type('application/problem+json').send({ code: 'VALIDATION_FAILED' });
      return;
    }
    await bySignIn.attempt(req, emailKey(email));
    if (password === 'right' && totp !== undefined) await bySignIn.attempt(req, emailKey(email));
    if (password === 'right' && (totp === undefined || totp === '123456')) res.status(204).end();
    else res.status(401).type('application/problem+json').send({ code: 'WRONG_PASSWORD' });
  });
  app.use(errorHandler(logger));
  await limits.start();
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  running.push({ server, limits });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    limits,
    reset: async (email: string, from = '198.51.100.1') => {
      const res = await fetch(`${base}/reset`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from },
        body: JSON.stringify({ email }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    resetDone: async (email: string, from: string) => {
      const res = await fetch(`${base}/reset-done`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from },
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(204);
    },
    signIn: async (email: string, password: string | null, from = '198.51.100.1', totp?: string) => {
      const res = await fetch(`${base}/sign-in`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from },
        body: JSON.stringify({ email, password, totp }),
      });
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    },
  };
}

describe('sign-in limits on PostgreSQL', () => {
  it("migrates the library's schema, its bookkeeping inside it", async () => {
    await signInApp();
    const applied = await database.db.raw<{ rows: { n: number }[] }>(
      `select count(*)::int as n from ${RATE_LIMIT_SCHEMA}.migrations`,
    );
    // postgres-migrations' own table, then the library's seven files (1-init … 7-move-session-to-db-ind).
    expect(applied.rows[0]!.n).toBe(8);
    const publicMigrations = await database.db.raw<{ rows: unknown[] }>(
      "select 1 from pg_tables where schemaname = 'public' and tablename = 'migrations'",
    );
    expect(publicMigrations.rows).toHaveLength(0);
  });

  it('counts failed attempts per account from one address (the email typed, trimmed and lower-cased), not successes', async () => {
    const { signIn } = await signInApp();
    const from = '198.51.100.11';
    // Successes give their count back: far more than the limit, all let in.
    for (let i = 0; i < 6; i++) expect((await signIn('li@uni.example', 'right', from)).status).toBe(204);
    // Three failures, the email typed three ways: one account.
    expect((await signIn('wang@uni.example', 'wrong', from)).status).toBe(401);
    expect((await signIn(' Wang@Uni.example ', 'wrong', from)).status).toBe(401);
    expect((await signIn('WANG@UNI.EXAMPLE', 'wrong', from)).status).toBe(401);
    // The fourth from that address is refused before the password is looked at, even the right one.
    const limited = await signIn('wang@uni.example', 'right', from);
    expect([limited.status, limited.body.code, limited.body.policy]).toEqual([429, 'RATE_LIMITED', 'sign-in-account']);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(limited.body.title).toBe('提交过于频繁，请稍后再试');
    expect(limited.body.detail).toMatch(
      /^该账号登录失败次数过多，请于\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间）后再试；如忘记密码，可在登录页申请重置密码，重置后即可登录$/,
    );
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limited.body.retryAfterSeconds).toBe(retryAfter);
    expect(limited.headers.get('ratelimit')).toContain('"sign-in-account"; r=0');
    expect(limited.headers.get('ratelimit-policy')).toContain('"sign-in-account"; q=3; w=3600');
    // The account's owner at another address is not locked out by the guesser; another account is not either.
    expect((await signIn('wang@uni.example', 'right', '198.51.100.12')).status).toBe(204);
    expect((await signIn('zhao@uni.example', 'right', from)).status).toBe(204);
  });

  it('counts failed attempts per account from every address together, a ceiling against spread guessing', async () => {
    const { signIn } = await signInApp();
    // Six failures (the total limit) from six addresses, each below its own limit of three.
    for (let i = 0; i < 6; i++) expect((await signIn('qin@uni.example', 'wrong', `198.51.100.7${i}`)).status).toBe(401);
    const limited = await signIn('qin@uni.example', 'right', '198.51.100.79');
    expect([limited.status, limited.body.policy]).toEqual([429, 'sign-in-account-total']);
    expect(limited.body.detail).toMatch(/^该账号近期登录失败次数过多.*重置后即可登录$/);
  });

  it("a completed password reset lifts the account's counts: someone else's guesses lock no one out for long", async () => {
    const { signIn, resetDone } = await signInApp();
    const guesser = '203.0.113.50';
    const owner = '198.51.100.90';
    // Six failures in all (the total limit), two from the owner's own address.
    for (let i = 0; i < 2; i++) expect((await signIn('feng@uni.example', 'wrong', owner)).status).toBe(401);
    for (let i = 0; i < 4; i++)
      expect((await signIn('feng@uni.example', 'wrong', `203.0.113.5${i + 1}`)).status).toBe(401);
    expect((await signIn('feng@uni.example', 'right', owner)).body.policy).toBe('sign-in-account-total');
    await resetDone('feng@uni.example', owner);
    expect((await signIn('feng@uni.example', 'right', owner)).status).toBe(204);
    // The guesser's own count from its address is not lifted by the owner's reset elsewhere.
    for (let i = 0; i < 3; i++) await signIn('feng@uni.example', 'wrong', guesser);
    expect((await signIn('feng@uni.example', 'wrong', guesser)).body.policy).toBe('sign-in-account');
  });

  it("counts an attempt naming no account by its address only: nobody is held back by strangers' typos", async () => {
    const { signIn } = await signInApp();
    // No email, or not an email, from many addresses: far more than the per-account limit (3), none refused.
    for (let i = 0; i < 6; i++) {
      expect((await signIn(i % 2 ? '' : 'not an email', 'wrong', `198.51.100.${20 + i}`)).status).toBe(401);
    }
    // Each still counts against its address (limit 5).
    const from = '198.51.100.40';
    for (let i = 0; i < 5; i++) expect((await signIn('', 'wrong', from)).status).toBe(401);
    expect((await signIn('', 'wrong', from)).body.policy).toBe('sign-in-address');
  });

  it('counts only real checks: a request refused before its password is checked counts against no one', async () => {
    const { signIn } = await signInApp();
    // Far more malformed posts naming the account than its limit (3): each a 422, none counted.
    for (let i = 0; i < 6; i++) expect((await signIn('admin@uni.example', null, '198.51.100.50')).status).toBe(422);
    expect((await signIn('admin@uni.example', 'right', '198.51.100.50')).status).toBe(204);
  });

  it('counts a request once, though it checks a password and then a second-factor code', async () => {
    const { signIn } = await signInApp();
    // Three wrong codes after the right password: three failures, not six (the limit is 3).
    for (let i = 0; i < 3; i++) {
      expect((await signIn('zhou.totp@uni.example', 'right', '198.51.100.60', '000000')).status).toBe(401);
    }
    const limited = await signIn('zhou.totp@uni.example', 'right', '198.51.100.60', '123456');
    expect([limited.status, limited.body.policy]).toEqual([429, 'sign-in-account']);
  });

  it('counts every password-reset request per email typed, answered or not, so nobody can flood one mailbox', async () => {
    const { reset } = await signInApp();
    expect((await reset('qian@uni.example', '198.51.100.31')).status).toBe(200);
    expect((await reset('Qian@Uni.example', '198.51.100.32')).status).toBe(200);
    const limited = await reset('qian@uni.example', '198.51.100.33');
    expect([limited.status, limited.body.code, limited.body.policy]).toEqual([429, 'RATE_LIMITED', 'reset-email']);
    expect(limited.body.detail).toMatch(/^重置密码的请求过于频繁，请查收已发出的邮件，或于.+后再试$/);
    // Another person's reset is not held back.
    expect((await reset('zhou@uni.example', '198.51.100.33')).status).toBe(200);
  });

  it('counts failed attempts per address, whichever accounts they try', async () => {
    const { signIn } = await signInApp();
    const from = '203.0.113.7';
    for (let i = 1; i <= 5; i++) expect((await signIn(`user${i}@uni.example`, 'wrong', from)).status).toBe(401);
    const limited = await signIn('user6@uni.example', 'wrong', from);
    expect([limited.status, limited.body.policy]).toEqual([429, 'sign-in-address']);
    expect(limited.body.detail).toMatch(/^同一来源登录失败次数过多/);
    // Another address is counted on its own.
    expect((await signIn('user6@uni.example', 'wrong', '203.0.113.8')).status).toBe(401);
  });

  it('two apps on one database share the counts', async () => {
    const one = await signInApp();
    const two = await signInApp();
    // Each app alone has seen fewer than the limit (3): together they have seen it.
    expect((await one.signIn('shared@uni.example', 'wrong', '192.0.2.1')).status).toBe(401);
    expect((await two.signIn('shared@uni.example', 'wrong', '192.0.2.1')).status).toBe(401);
    expect((await one.signIn('shared@uni.example', 'wrong', '192.0.2.1')).status).toBe(401);
    expect((await two.signIn('shared@uni.example', 'wrong', '192.0.2.1')).status).toBe(429);
  });

  it('fails closed: PostgreSQL out of reach answers 503, never an unlimited pass; a start without it fails', async () => {
    const address = new URL(database.url);
    const proxy = await startTcpProxy({ host: address.hostname, port: Number(address.port) });
    address.port = String(proxy.port);
    const db = createDb(address.toString());
    try {
      const { signIn } = await signInApp(undefined, db);
      expect((await signIn('down@uni.example', 'right', '192.0.2.90')).status).toBe(204);
      proxy.cut();
      const refused = await signIn('down@uni.example', 'right', '192.0.2.90');
      expect([refused.status, refused.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      proxy.restore();
      expect((await signIn('down@uni.example', 'right', '192.0.2.90')).status).toBe(204);

      proxy.cut();
      const unreachable = new RateLimits({ db: createDb(address.toString()), logger });
      await expect(unreachable.start()).rejects.toThrow(/ECONNRESET|Connection terminated|closed/);
    } finally {
      await proxy.stop();
      await db.destroy();
    }
  });

  it("closes the stores' pools with the app", async () => {
    const app = await signInApp();
    expect((await app.signIn('close@uni.example', 'wrong')).status).toBe(401);
    const connections = async () =>
      (
        await database.db.raw<{ rows: { n: number }[] }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and application_name = 'ronghe-rate-limit'`,
        )
      ).rows[0]!.n;
    expect(await connections()).toBeGreaterThan(0);
    for (const r of running.splice(0)) {
      await new Promise<void>((resolve) => r.server.close(() => resolve()));
      await r.limits.close();
    }
    await eventually(async () => ((await connections()) === 0 ? true : undefined), {
      what: 'the rate limits to end their connections',
    });
  });
});
