import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import pg from 'pg';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { AppError } from './errors.js';
import { requestIdOf } from './request.js';

/**
 * Browser sessions and their CSRF protection (issue 15, point 3).
 *
 * Sessions are `express-session` rows in PostgreSQL (`connect-pg-simple`, table `session`, created by migration
 * 015 — never at runtime). The cookie `ronghe.sid` is HttpOnly, SameSite=Lax, Secure in production, signed with
 * SESSION_SECRET; it ends after SESSION_IDLE_MINUTES without a request (the expiry rolls forward on each
 * request) and, whatever the activity, SESSION_ABSOLUTE_HOURS after sign-in (checked by `authenticate`).
 *
 * CSRF: the synchroniser-token pattern of `csrf-sync`. The token lives in the session; `GET /api/session` and
 * every form page hand it out; a cookie-authenticated write must send it back (`X-CSRF-Token` header, or the
 * form field `_csrf`). Bearer-token requests carry no ambient credential and are exempt.
 */

/** The session cookie's name. */
export const SESSION_COOKIE = 'ronghe.sid';

/** The header a script or the web app sends the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** Connections of the session store's own pool: one short query per request that has a session. */
const SESSION_POOL_MAX = 4;

/**
 * The pg settings of the API's database as `createDb` gave them to knex (connection string, connect and query
 * timeouts), for the session store's own pool.
 *
 * @throws Error when the handle has no connection settings (a database handle not made by `createDb`).
 */
function connectionSettingsOf(db: Db): pg.PoolConfig {
  const connection: unknown = (db.client as { config?: { connection?: unknown } }).config?.connection;
  if (typeof connection === 'string') return { connectionString: connection };
  if (connection && typeof connection === 'object') return { ...(connection as pg.PoolConfig) };
  throw new Error('sessions: the database handle has no connection settings (use createDb)');
}

/** The session middleware and what ends it. */
export interface Sessions {
  middleware: RequestHandler;
  /** Stops the store's prune timer and ends its pool (waiting for its connections to close). Idempotent. */
  close(): Promise<void>;
}

/**
 * The session middleware (see the module comment for the cookie's attributes and lifetimes). The store has its
 * own small `pg.Pool` (SESSION_POOL_MAX connections, application name `ronghe-session`) on the database's
 * connection settings, made at the first query (so making the app touches nothing); `close` ends it and the
 * store's prune timer.
 */
export function sessions(db: Db, options: { secret: string; idleMinutes: number; production: boolean }): Sessions {
  const PgStore = connectPgSimple(session);
  let pool: pg.Pool | undefined;
  let closed = false;
  const poolOf = (): pg.Pool => {
    if (closed) throw new Error('sessions: the store is closed');
    if (!pool) {
      pool = new pg.Pool({
        ...connectionSettingsOf(db),
        application_name: 'ronghe-session',
        max: SESSION_POOL_MAX,
        idleTimeoutMillis: 10_000,
      });
      // An idle connection PostgreSQL drops is reported here instead of crashing the process.
      pool.on('error', () => undefined);
    }
    return pool;
  };
  const store = new PgStore({
    // connect-pg-simple only calls `query` (text, params) on the pool it is given.
    // After `close`, a query rejects (never throws synchronously into the library).
    pool: { query: async (text: string, params?: unknown[]) => poolOf().query(text, params) } as unknown as pg.Pool,
    tableName: 'session',
    createTableIfMissing: false,
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.production,
      maxAge: options.idleMinutes * 60_000,
      path: '/',
    },
  });
  return {
    middleware,
    async close() {
      if (closed) return;
      closed = true;
      // Stops the prune timer (the pool is ours, so the store ends nothing else).
      void store.close();
      await pool?.end();
    },
  };
}

function tokenFromRequest(req: Request): string | undefined {
  const header = req.headers[CSRF_HEADER];
  if (typeof header === 'string' && header) return header;
  const body: unknown = req.body;
  if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const field = (body as Record<string, unknown>)._csrf;
    if (typeof field === 'string') return field;
  }
  return undefined;
}

const csrf = csrfSync({ getTokenFromRequest: tokenFromRequest });

/** The session's CSRF token, made (and stored in the session) on first use. */
export function csrfTokenOf(req: Request): string {
  return csrf.generateToken(req);
}

/** Whether the request carries its session's CSRF token. */
export function hasValidCsrfToken(req: Request): boolean {
  return req.session !== undefined && csrf.isRequestValid(req);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a cookie-authenticated write without its session's CSRF token: 403 CSRF_TOKEN_INVALID, audited
 * (`account.csrf_refused`, naming the account). Runs after `authenticate` and the JSON body parser.
 */
export function csrfGuard(db: Db): RequestHandler {
  return async (req, _res, next) => {
    try {
      const principal = req.principal;
      if (SAFE_METHODS.has(req.method) || principal?.via !== 'session' || hasValidCsrfToken(req)) return next();
      await recordAudit(db, {
        actor: principal.actor,
        role: principal.role,
        action: 'account.csrf_refused',
        subjectKind: 'account',
        subjectId: principal.accountId!,
        reason: `${req.method} ${req.path}`,
        requestId: requestIdOf(req),
      });
      throw new AppError(
        'CSRF_TOKEN_INVALID',
        `请先以 GET /api/session 取得 csrfToken，并在请求头 X-CSRF-Token 中附上（网页表单请刷新页面后重新提交）`,
      );
    } catch (err) {
      next(err);
    }
  };
}
