import { createRequire } from 'node:module';
import path from 'node:path';
import { PostgresStore } from '@acpr/rate-limit-postgresql';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo, type RateLimitRequestHandler } from 'express-rate-limit';
import pg from 'pg';
import { migrate } from 'postgres-migrations';
import type { Db } from '../db/knex.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { parseTypedMailbox } from '../mail/address.js';
import type { RateLimitConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { AppError } from './errors.js';

/**
 * Rate limits counted in PostgreSQL, so every API process on one database shares them.
 *
 * `express-rate-limit` does the limiting (a fixed window per limiter, the 429, `Retry-After`, the `RateLimit` and
 * `RateLimit-Policy` headers of the IETF draft 8, `skipSuccessfulRequests`); `@acpr/rate-limit-postgresql` is its
 * store: the counts live in the schema `rate_limit`, which the library creates and migrates itself
 * (`postgres-migrations`, the library's own SQL files). Its aggregated store keeps one window per limiter, shared
 * by all keys: it opens at the first hit after the previous one closed, and every key's count restarts together.
 *
 * The library's store constructor starts its migrations and drops the promise (see `createStore`); here
 * `RateLimits.start` runs the same migrations, once per process and database handle, and waits for them, and the
 * stores are made without that constructor. The stores of one `RateLimits` share its one small pg pool, ended by
 * `RateLimits.close`.
 */

/** The schema the library keeps its counts in; its migration table (`migrations`) is kept there too. */
export const RATE_LIMIT_SCHEMA = 'rate_limit';

/** The library's SQL migrations, shipped next to its CommonJS entry point. */
const MIGRATIONS_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@acpr/rate-limit-postgresql')),
  'migrations',
);

/** Connections of a `RateLimits`' pool, shared by its limiters: one short query per counted request. */
const POOL_MAX = 3;

/**
 * The pg settings of the library's pool and of its migrations: `search_path` puts the migration table
 * (`migrations`, created unqualified by postgres-migrations) in `rate_limit` rather than `public`; the library's
 * own objects are all schema-qualified. Connecting gives up after 5 s, a query after 10 s (a 503 then, see
 * `fromDatabaseError` in api/errors.ts).
 */
function storeConfig(connectionString: string): pg.ClientConfig & pg.PoolConfig {
  return {
    connectionString,
    application_name: 'ronghe-rate-limit',
    options: `-c search_path=${RATE_LIMIT_SCHEMA},public`,
    connectionTimeoutMillis: 5_000,
    query_timeout: 10_000,
    idleTimeoutMillis: 10_000,
    max: POOL_MAX,
  };
}

/**
 * Migrations under way or done in this process, per database handle: every app on one handle (the API's `db`)
 * migrates once; a new handle (a database created afresh, as the chaos runs do) checks again.
 */
const migrations = new WeakMap<Db, Promise<void>>();

/**
 * Brings the library's schema up to date on `db`'s database, once per process and handle (a failed run is
 * tried again by the next call). Concurrent processes are serialised by postgres-migrations' advisory lock.
 *
 * @throws Error "Migration failed. Reason: …" (postgres-migrations), or pg's connection error.
 */
function migrateOnce(db: Db): Promise<void> {
  let done = migrations.get(db);
  if (!done) {
    done = runMigrations(connectionStringOf(db));
    migrations.set(db, done);
    done.catch(() => migrations.delete(db));
  }
  return done;
}

async function runMigrations(connectionString: string): Promise<void> {
  const client = new pg.Client(storeConfig(connectionString));
  // A connection lost between queries is reported by the next query; without a listener it would crash.
  client.on('error', () => undefined);
  await client.connect();
  try {
    try {
      await client.query(`create schema if not exists ${RATE_LIMIT_SCHEMA}`);
    } catch (err) {
      // Another process created it at the same moment (unique_violation on pg_namespace, or duplicate_schema).
      const code = (err as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P06') throw err;
    }
    await migrate({ client }, MIGRATIONS_DIR);
  } finally {
    await client.end();
  }
}

/**
 * The library's aggregated store, without its constructor's side effect and on a pool of the caller's.
 * `new PostgresStore(config, prefix)` (1.4.1, dist/index.mjs) calls `applyMigrations(config)` without awaiting it
 * and without an `error` listener on its client: a database that refuses or resets a connection at that moment
 * crashes the process (uncaught `ECONNRESET` / "Connection terminated unexpectedly", then an unhandled rejection
 * "Client has encountered a connection error and is not queryable"; seen in test/integration/rate-limit.test.ts,
 * "fails closed"), and a request can reach the store before its schema exists. The migrations run awaited in
 * `RateLimits.start`; the store is made from its prototype with its `prefix`, and an own `init` that takes `pool`
 * where the library's would create a pool per store (the methods read `pool`, `prefix` and `windowMs`, all
 * declared public by the library; express-rate-limit calls `init` with its options once).
 */
function createStore(pool: pg.Pool, prefix: string): PostgresStore {
  const store = Object.create(PostgresStore.prototype) as PostgresStore;
  store.prefix = prefix;
  store.init = (options) => {
    store.windowMs = options.windowMs;
    store.pool = pool;
  };
  return store;
}

/** The connection string of the API's database (`createDb` gives knex one). */
function connectionStringOf(db: Db): string {
  const connection: unknown = (db.client as { config?: { connection?: unknown } }).config?.connection;
  if (typeof connection === 'string') return connection;
  const url = (connection as { connectionString?: unknown } | undefined)?.connectionString;
  if (typeof url === 'string') return url;
  throw new Error('rate limits: the database handle has no connection string (use createDb)');
}

/** One limit: how many requests one key may make in a window. */
export interface LimitSpec<S = undefined> {
  /**
   * Stable name (`objection-email`): the store's prefix — the partition of the counts in PostgreSQL, so two
   * processes with the same name share them — and the policy name in the `RateLimit` headers. Renaming a limit
   * restarts its counts.
   */
  name: string;
  /** The window, in milliseconds. */
  windowMs: number;
  /** Requests one key may make in a window; the next one is refused. */
  limit: number;
  /**
   * The refusal's `detail` in zh-CN, given when to try again (`2026年10月8日 14:36（北京时间）`):
   * `同一电子邮箱提交异议过于频繁，请于${until}后再试`.
   */
  message: (until: string) => string;
  /** The key this request is counted under; `undefined`: this limit does not count it. */
  key: (req: Request, subject: S | undefined) => string | undefined;
  /** Count only requests answered with a status of 400 or more (failed sign-ins). Default false. */
  skipSuccessfulRequests?: boolean;
}

/** A limit of a `RateLimits`: counts requests in PostgreSQL and refuses those over the limit. */
export class Limiter<S = undefined> {
  private handler: RateLimitRequestHandler | undefined;
  private store: PostgresStore | undefined;
  /** The key of each request being counted, for express-rate-limit's `keyGenerator`. */
  private readonly keys = new WeakMap<Request, string>();

  constructor(
    private readonly owner: RateLimits,
    readonly spec: LimitSpec<S>,
  ) {}

  /**
   * Counts this request under its key (nothing when `spec.key` gives none) and resolves; over the limit it
   * rejects with AppError RATE_LIMITED after setting `Retry-After` (seconds) and the `RateLimit` headers on `res`.
   * A route calls it where it knows the key (after checking the request, before writing anything).
   *
   * @throws AppError RATE_LIMITED (429; `detail` says until when, Beijing time; extra `policy`, `retryAt` ISO 8601,
   *   `retryAfterSeconds`); the store's error (pg: a 503 through `problemFor`) when PostgreSQL cannot count.
   */
  async check(req: Request, res: Response, subject?: S): Promise<void> {
    const key = this.spec.key(req, subject);
    if (key === undefined) return;
    await this.owner.start();
    const handler = this.build();
    this.keys.set(req, key);
    await new Promise<void>((resolve, reject) => {
      void handler(req, res, (err?: unknown) =>
        err ? reject(err instanceof Error ? err : new Error('rate limit: next() called with a non-error')) : resolve(),
      );
    });
  }

  /** `check` as Express middleware (no subject; `spec.key` reads the request): `next(AppError)` when limited. */
  readonly middleware: RequestHandler = (req, res, next) => {
    this.check(req, res).then(() => next(), next);
  };

  /**
   * Builds the express-rate-limit instance and its store (on the owner's pool), once; `RateLimits.start` has
   * migrated the schema first.
   */
  build(): RateLimitRequestHandler {
    if (this.handler) return this.handler;
    const { spec } = this;
    const logger = this.owner.logger;
    this.store = createStore(this.owner.pool(), `ronghe:${spec.name}`);
    this.handler = rateLimit({
      windowMs: spec.windowMs,
      limit: spec.limit,
      store: this.store,
      identifier: spec.name,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => this.keys.get(req)!,
      skipSuccessfulRequests: spec.skipSuccessfulRequests ?? false,
      // PostgreSQL cannot count: the request fails (503) rather than pass unlimited.
      passOnStoreError: false,
      handler: (req, res, next) => next(this.refusal(req, res)),
      logger: {
        error: (err, message) => logger.error({ err, limit: spec.name }, message ?? 'rate limit error'),
        warn: (err, message) => logger.warn({ err, limit: spec.name }, message ?? 'rate limit warning'),
      },
      // Built once per limiter (by `RateLimits.start`, or by the first request when an app was never started),
      // never per request: the check cannot tell the second case from a per-request limiter.
      validate: { creationStack: false },
    });
    return this.handler;
  }

  /**
   * Forgets what `key` has counted in the current window (a completed password reset lifts the sign-in counts).
   *
   * @throws the store's error (pg) when PostgreSQL cannot be reached.
   */
  async forget(key: string): Promise<void> {
    await this.owner.start();
    this.build();
    await this.store!.resetKey(key);
  }

  /** Forgets the built instance: its store's pool is ended by the owner's `close`. */
  reset(): void {
    this.handler = undefined;
    this.store = undefined;
  }

  private refusal(req: Request, res: Response): AppError {
    const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
    const header = Number(res.getHeader('Retry-After'));
    const retryAfterSeconds = Number.isFinite(header) && header > 0 ? header : Math.ceil(this.spec.windowMs / 1000);
    const retryAt = info?.resetTime ?? new Date(Date.now() + retryAfterSeconds * 1000);
    // Said to the minute, rounded up: "after 14:36" is never too early.
    const minute = new Date(Math.ceil(retryAt.getTime() / 60_000) * 60_000);
    return new AppError('RATE_LIMITED', this.spec.message(`${formatInstantZh(minute)}（北京时间）`), {
      policy: this.spec.name,
      retryAt: retryAt.toISOString(),
      retryAfterSeconds,
    });
  }
}

/**
 * The rate limits of one API app: a factory of named limiters (`limiter`), started once before serving
 * (`start`: the library's schema migrated, the stores built) and closed with the app (`close`: the stores' pool
 * ended). Creating it touches nothing; a limiter used before `start` starts it.
 */
export class RateLimits {
  private readonly limiters: Limiter<never>[] = [];
  private started: Promise<void> | undefined;
  private shared: pg.Pool | undefined;

  /** `db` is the API's database (its connection string is the store's); `logger` gets the library's warnings. */
  constructor(private readonly options: { db: Db; logger: Logger }) {}

  get logger(): Logger {
    return this.options.logger;
  }

  /**
   * The pool every limiter's store queries through, made at the first call. An idle connection PostgreSQL drops
   * is reported here instead of crashing the process; the next query opens another.
   */
  pool(): pg.Pool {
    if (!this.shared) {
      const pool = new pg.Pool(storeConfig(connectionStringOf(this.options.db)));
      pool.on('error', (err) => this.logger.warn({ err }, 'rate limit pool error'));
      this.shared = pool;
    }
    return this.shared;
  }

  /** A named limit (see `LimitSpec`); names are unique per app. */
  limiter<S = undefined>(spec: LimitSpec<S>): Limiter<S> {
    if (this.limiters.some((l) => l.spec.name === spec.name)) throw new Error(`rate limit ${spec.name} defined twice`);
    const limiter = new Limiter<S>(this, spec);
    this.limiters.push(limiter);
    return limiter;
  }

  /**
   * Migrates the library's schema (once per process and database handle) and builds every limiter's store. Idempotent;
   * after a failure the next call tries again.
   *
   * @throws the migration's or the connection's error.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      await migrateOnce(this.options.db);
      for (const limiter of this.limiters) limiter.build();
    })().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  /** Ends the stores' pool (when made); a limiter used afterwards builds its store on a new one. */
  async close(): Promise<void> {
    await this.started?.catch(() => undefined);
    const pool = this.shared;
    this.shared = undefined;
    for (const limiter of this.limiters) limiter.reset();
    await pool?.end();
  }
}

/** The client's address as a key: IPv4 as is, IPv6 by its /56 (express-rate-limit's `ipKeyGenerator`). */
function addressKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}

/** An email as a key: trimmed (`parseTypedMailbox`, mail/address.ts) and lower-cased; `undefined` if not one. */
export function emailKey(value: unknown): string | undefined {
  return parseTypedMailbox(value)?.toLowerCase();
}

/** What an objection is counted by, besides the client's address. */
export interface ObjectionSubject {
  /** The publicity period's id. */
  publicityId: string;
  /** The objector's email as typed. */
  email: string;
}

/** The objection intake's limits (`objectionLimits`): `check` counts one objection against each. */
export interface ObjectionLimits {
  /**
   * Counts an objection per client address, per objector email and per publicity period, in that order; stops
   * at the first limit reached.
   *
   * @throws AppError RATE_LIMITED (see `Limiter.check`).
   */
  check(req: Request, res: Response, subject: ObjectionSubject): Promise<void>;
}

/**
 * The limits on objections filed through the public API and page (README "Rate limits"): per client address
 * (OBJECTION_RATE_LIMIT), per objector email across addresses (OBJECTION_EMAIL_RATE_LIMIT), per publicity period
 * for everyone together (OBJECTION_PUBLICITY_RATE_LIMIT), each in OBJECTION_RATE_WINDOW_MINUTES.
 */
export function objectionLimits(limits: RateLimits, settings: RateLimitConfig['objection']): ObjectionLimits {
  const { windowMs } = settings;
  const byAddress = limits.limiter<ObjectionSubject>({
    name: 'objection-address',
    windowMs,
    limit: settings.perAddress,
    message: (until) => `同一来源提交异议过于频繁，请于${until}后再试`,
    key: addressKey,
  });
  const byEmail = limits.limiter<ObjectionSubject>({
    name: 'objection-email',
    windowMs,
    limit: settings.perEmail,
    message: (until) => `同一电子邮箱提交异议过于频繁，请于${until}后再试`,
    key: (_req, subject) => emailKey(subject?.email),
  });
  const byPublicity = limits.limiter<ObjectionSubject>({
    name: 'objection-publicity',
    windowMs,
    limit: settings.perPublicity,
    message: (until) => `本公示短时间内收到的异议过多，请于${until}后再试`,
    key: (_req, subject) => subject?.publicityId,
  });
  return {
    async check(req, res, subject) {
      await byAddress.check(req, res, subject);
      await byEmail.check(req, res, subject);
      await byPublicity.check(req, res, subject);
    },
  };
}

/**
 * The limits on sign-in attempts (`signInLimits`). Only a real check of a password or a second-factor code is an
 * attempt: the sign-in code (`checkPassword`, `checkSecondFactor` in api/sign-in.ts) counts it right before the
 * check, after the request has been read and found well-formed, so a post that cannot be read (415, 422, a
 * repeated field, a missing CSRF token) counts against no one. Every route shares the same counts (the same
 * limiter names): a password page, a second-factor page, an assignment link's page and the JSON API count
 * together.
 */
export interface SignInLimits {
  /**
   * Counts one check against the client's address and, when `account` is given (an email, trimmed and lower-cased:
   * `emailKey`), against that account from this address and against that account from every address. A typed
   * email that is not one names no account and is counted by address only: no key is shared by strangers. A
   * request is counted once, however many checks it makes (a password and a TOTP code in one
   * `POST /api/session`). Only failures stay counted (an answer below 400 gives the count back).
   *
   * @throws AppError RATE_LIMITED (429, `Retry-After` set on `req.res`); the store's error (503) when PostgreSQL
   *   cannot count.
   */
  attempt(req: Request, account: string | undefined): Promise<void>;
  /**
   * Lifts the account's counts after its owner proved who they are by completing a password reset from the
   * emailed link: its count from every address, and from the address the reset was completed at. Someone else's
   * guesses then lock no one out for longer than it takes to reset the password.
   *
   * @throws the store's error (pg) when PostgreSQL cannot be reached.
   */
  forgive(req: Request, account: string): Promise<void>;
  /**
   * Counts a password-reset request against the email typed (`emailKey`), sent or not (RESET_EMAIL_RATE_LIMIT in
   * the sign-in window): the count is by the email typed, whether an account has it or not, so a refusal tells
   * nothing about accounts. Called once the request is well-formed and names an email.
   *
   * @throws AppError RATE_LIMITED (429); the store's error (503).
   */
  resetRequest(req: Request, email: string): Promise<void>;
}

/**
 * The limits on sign-in attempts. Only failed attempts count (express-rate-limit's `skipSuccessfulRequests`: an
 * answer below 400 gives its count back when the response finishes), so a handler must answer a wrong password
 * or TOTP code with a 4xx. Counted per client address (SIGNIN_ADDRESS_RATE_LIMIT), per account from that address
 * (SIGNIN_ACCOUNT_RATE_LIMIT) and per account from every address (SIGNIN_ACCOUNT_TOTAL_RATE_LIMIT; see
 * `SignInLimits.attempt`), each in SIGNIN_RATE_WINDOW_MINUTES. The API's error handler answers a refusal with
 * problem+json; a page shows it.
 */
export function signInLimits(limits: RateLimits, settings: RateLimitConfig['signIn']): SignInLimits {
  const common = { windowMs: settings.windowMs, skipSuccessfulRequests: true };
  const byAddress = limits.limiter<string>({
    ...common,
    name: 'sign-in-address',
    limit: settings.perAddress,
    message: (until) => `同一来源登录失败次数过多，请于${until}后再试`,
    key: addressKey,
  });
  const accountFromAddress = (req: Request, account: string) => `${account} ${addressKey(req)}`;
  const byAccountFromAddress = limits.limiter<string>({
    ...common,
    name: 'sign-in-account',
    limit: settings.perAccount,
    message: (until) =>
      `该账号登录失败次数过多，请于${until}后再试；如忘记密码，可在登录页申请重置密码，重置后即可登录`,
    key: (req, account) => (account === undefined ? undefined : accountFromAddress(req, account)),
  });
  const byAccount = limits.limiter<string>({
    ...common,
    name: 'sign-in-account-total',
    limit: settings.perAccountTotal,
    message: (until) =>
      `该账号近期登录失败次数过多，请于${until}后再试；如忘记密码，可在登录页申请重置密码，重置后即可登录`,
    key: (_req, account) => account,
  });
  const resetEmails = limits.limiter<string>({
    windowMs: settings.windowMs,
    name: 'reset-email',
    limit: settings.resetPerEmail,
    message: (until) => `重置密码的请求过于频繁，请查收已发出的邮件，或于${until}后再试`,
    key: (_req, email) => emailKey(email),
  });
  const counted = new WeakSet<Request>();
  const responseOf = (req: Request): Response => {
    if (!req.res) throw new Error('sign-in limits: the request has no response (not an Express request)');
    return req.res;
  };
  return {
    async attempt(req, account) {
      if (counted.has(req)) return;
      counted.add(req);
      const res = responseOf(req);
      await byAddress.check(req, res);
      await byAccountFromAddress.check(req, res, account);
      await byAccount.check(req, res, account);
    },
    async forgive(req, account) {
      await byAccountFromAddress.forget(accountFromAddress(req, account));
      await byAccount.forget(account);
    },
    async resetRequest(req, email) {
      await resetEmails.check(req, responseOf(req), email);
    },
  };
}
