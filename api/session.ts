import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import type pg from 'pg';
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

/**
 * A pg-Pool-shaped view of the knex pool, for connect-pg-simple: its queries (with `$1` placeholders) run on a
 * connection borrowed from knex, so sessions share the API's pool, limits and timeouts.
 */
function poolOf(db: Db): pg.Pool {
  const client = db.client as {
    acquireConnection(): Promise<pg.PoolClient>;
    releaseConnection(connection: pg.PoolClient): Promise<void>;
  };
  return {
    async query(text: string, params?: unknown[]) {
      const connection = await client.acquireConnection();
      try {
        return await connection.query(text, params);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  } as unknown as pg.Pool;
}

/** The session middleware (see the module comment for the cookie's attributes and lifetimes). */
export function sessions(
  db: Db,
  options: { secret: string; idleMinutes: number; production: boolean },
): RequestHandler {
  const PgStore = connectPgSimple(session);
  return session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store: new PgStore({ pool: poolOf(db), tableName: 'session', createTableIfMissing: false }),
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
