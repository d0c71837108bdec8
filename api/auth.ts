import type { Request, RequestHandler } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import type { Db } from '../db/knex.js';
import { findAccessToken, findAccount, touchAccessToken, type Account } from '../db/repositories/accounts.js';
import { findAssignmentLink } from '../db/repositories/assignment-links.js';
import { recordAudit } from '../db/repositories/audit.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { principalRecordExists, type PrincipalRecord } from '../db/repositories/principals.js';
import { accountActor, type StaffRole } from '../domain/accounts.js';
import { ACCESS_TOKEN_PREFIX, tokenHash } from '../services/tokens.js';
import type { Clock } from './clock.js';
import { AppError } from './errors.js';
import { headerCount } from './json.js';
import { requestIdOf } from './request.js';

/**
 * Who may act: staff of the centre, experts, applicants (users acting for an institution) and, since the
 * accounts issue, enterprise users (acting for a partner enterprise). Route `access` lists name these.
 */
export const ROLES = ['staff', 'applicant', 'expert', 'enterprise'] as const;

export type Role = (typeof ROLES)[number];

/**
 * How a request proved who it is: a development token (HS256 JWT from `npm run token`; refused in production),
 * a personal access token of an account, or a browser session of an account. Only `session` is exposed to
 * cross-site requests, so only it needs a CSRF token on writes.
 */
export type AuthenticatedBy = 'development-token' | 'access-token' | 'session';

export interface Principal {
  role: Role;
  /**
   * Who acted, as it goes into the audit trail: `staff:<id>`, `expert:<id>`, `applicant:<institutionId>` for
   * development tokens; an account's adds `|account:<account id>` (`accountActor`), and its staff `<id>` is the
   * sub-role (`staff:officer|account:…`).
   */
  actor: string;
  expertId?: string;
  institutionId?: string;
  enterpriseId?: string;
  /** The signed-in account; absent for a development token. */
  accountId?: string;
  /** A staff member's sub-role; a development staff token acts as an officer. */
  staffRole?: StaffRole;
  via: AuthenticatedBy;
  /**
   * Set when the session was opened by an expert's assignment link (issue 15, point 4): the principal reaches
   * only the routes marked `linkScope` (api/route.ts), and of the assignment routes only these assignments.
   */
  assignmentLink?: { id: string; assignmentIds: string[] };
}

/** The principal an account acts as (see `Principal.actor` for its audit actor). */
export function principalOfAccount(account: Account, via: AuthenticatedBy): Principal {
  switch (account.kind) {
    case 'staff':
      return {
        role: 'staff',
        staffRole: account.staffRole!,
        accountId: account.id,
        actor: accountActor(`staff:${account.staffRole}`, account.id),
        via,
      };
    case 'institution':
      return {
        role: 'applicant',
        institutionId: account.institutionId!,
        accountId: account.id,
        actor: accountActor(`applicant:${account.institutionId}`, account.id),
        via,
      };
    case 'enterprise':
      return {
        role: 'enterprise',
        enterpriseId: account.enterpriseId!,
        accountId: account.id,
        actor: accountActor(`enterprise:${account.enterpriseId}`, account.id),
        via,
      };
    case 'expert':
      return {
        role: 'expert',
        expertId: account.expertId!,
        accountId: account.id,
        actor: accountActor(`expert:${account.expertId}`, account.id),
        via,
      };
  }
}

/**
 * Audits what an account did for itself (signed in, accepted its invitation, reset its password…) or what
 * happened to its session, as the account's session principal, the account the subject.
 */
export async function recordAccountAudit(
  db: Db,
  req: Request,
  account: Account,
  action: string,
  more: { reason?: string; details?: Record<string, unknown> } = {},
): Promise<void> {
  const { actor, role } = principalOfAccount(account, 'session');
  await recordAudit(db, {
    actor,
    role,
    action,
    subjectKind: 'account',
    subjectId: account.id,
    ...more,
    requestId: requestIdOf(req),
  });
}

const ISSUER = 'ronghe';
const AUDIENCE = 'ronghe-api';

export interface TokenSubject {
  /** Development tokens are for staff, experts and applicants; enterprise users have accounts only. */
  role: Exclude<Role, 'enterprise'>;
  /** staff id, expert id or institution id, depending on the role. */
  id: string;
}

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/**
 * A development token: an HS256 JWT (issuer `ronghe`, audience `ronghe-api`, subject `<role>:<id>`) with the
 * role and, for an expert or applicant, `expertId` / `institutionId`, valid for `ttl` (a jose time span).
 * It does not check that the id names anything (scripts/token.ts does; the API does on use).
 */
export async function signToken(subject: TokenSubject, secret: string, ttl = '12h'): Promise<string> {
  const claims: Record<string, string> = { role: subject.role };
  if (subject.role === 'expert') claims.expertId = subject.id;
  if (subject.role === 'applicant') claims.institutionId = subject.id;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`${subject.role}:${subject.id}`)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(keyOf(secret));
}

/**
 * The principal a token carries, once its signature, issuer, audience, expiry and claims check out.
 *
 * @throws Error (jose's, or one naming the missing claim) when it does not.
 */
export async function verifyToken(token: string, secret: string): Promise<Principal> {
  const { payload } = await jwtVerify(token, keyOf(secret), {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['HS256'],
  });
  const role = payload.role;
  if (role !== 'staff' && role !== 'expert' && role !== 'applicant') throw new Error('unknown role');
  if (!payload.sub) throw new Error('token without subject');
  const principal: Principal = {
    role,
    actor: payload.sub,
    via: 'development-token',
    ...(role === 'staff' ? { staffRole: 'officer' as const } : {}),
  };
  if (role === 'expert') {
    if (typeof payload.expertId !== 'string') throw new Error('expert token without expertId');
    principal.expertId = payload.expertId;
  }
  if (role === 'applicant') {
    if (typeof payload.institutionId !== 'string') throw new Error('applicant token without institutionId');
    principal.institutionId = payload.institutionId;
  }
  return principal;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /**
     * The account `authenticate` read for this request (a session's or a personal access token's), so a route
     * or page that shows or uses it does not read it again; absent for a development token and without one.
     */
    account?: Account;
  }
}

/** What a browser session keeps (connect-pg-simple stores it as JSON in `session.sess`). */
export interface SessionAccount {
  id: string;
  /** The account's `credentials_epoch` at sign-in: a different one ends the session. */
  epoch: number;
  /** Sign-in time (epoch milliseconds, the API's clock): the absolute lifetime counts from it. */
  signedInAt: number;
  /**
   * A session opened by an expert's assignment link (api/pages.assignment-links.ts): the link (its row id), the
   * assignments it reaches, and when it expires (epoch milliseconds) — the session ends then, or when the link
   * is revoked.
   */
  link?: { id: string; assignmentIds: string[]; expiresAt: number };
}

declare module 'express-session' {
  interface SessionData {
    account?: SessionAccount;
    /** A staff member who gave the right password and still owes the TOTP code (sign-in page, 10 minutes). */
    pendingSecondFactor?: {
      accountId: string;
      /** The account's email (its sign-in limit key); absent in sessions from before it was kept. */
      email?: string;
      epoch: number;
      at: number;
    };
  }
}

/**
 * Why a verified principal is not recognised (zh-CN), or `undefined` when it is. A development token names its
 * applicant institution or expert by id; a token for one that does not exist would act for nobody (and audit
 * as nobody), so it is refused. Staff have no table (the accounts issue brings them): a staff id is taken as
 * signed.
 */
export type PrincipalCheck = (principal: Principal) => Promise<string | undefined>;

/** The record an applicant's or expert's token names; `undefined` for staff. */
function recordOf(principal: Principal): PrincipalRecord | undefined {
  if (principal.role === 'applicant') return { kind: 'institution', id: principal.institutionId! };
  if (principal.role === 'expert') return { kind: 'expert', id: principal.expertId! };
  return undefined;
}

/**
 * Checks that an applicant's institution or an expert exists in the database. A record found is remembered for
 * `ttlMs` (default 60 s) so a busy client costs one lookup a minute; one not found is asked again each time
 * (it may be seeded meanwhile). Database errors propagate (the API answers 503).
 */
export function principalsIn(db: Db, { ttlMs = 60_000, maxEntries = 10_000 } = {}): PrincipalCheck {
  const known = new Map<string, number>();
  return async (principal) => {
    const record = recordOf(principal);
    if (!record) return undefined;
    const key = `${record.kind}:${record.id}`;
    const until = known.get(key);
    if (until !== undefined && until > Date.now()) return undefined;
    if (!(await principalRecordExists(db, record))) {
      known.delete(key);
      return record.kind === 'institution'
        ? `令牌所指的申报单位（${record.id}）不存在，请使用已登记单位的令牌`
        : `令牌所指的评审专家（${record.id}）不存在，请使用专家库中专家的令牌`;
    }
    if (known.size >= maxEntries) known.clear();
    known.set(key, Date.now() + ttlMs);
    return undefined;
  };
}

/** What `authenticate` reads: development tokens' secret and mode, the accounts, the clock, the session lifetime. */
export interface AuthenticationDeps {
  db: Db;
  clock: Clock;
  /** The development tokens' signing secret (TOKEN_SECRET). */
  secret: string;
  /** Production refuses development tokens (401 DEVELOPMENT_TOKEN_REFUSED). */
  production: boolean;
  /** A browser session ends this long after sign-in (SESSION_ABSOLUTE_HOURS), however active. */
  sessionAbsoluteMs: number;
  check?: PrincipalCheck | undefined;
}

/**
 * Why an account no longer authenticates under `epoch` and what the person can do (zh-CN, one sentence), or
 * undefined while it does. A disabled or removed account cannot sign in again, so it is not told to.
 */
function accountEnded(account: Account | undefined, epoch: number): string | undefined {
  if (!account) return '该账号已不存在，如需继续使用请联系系统管理员';
  if (account.disabledAt) return '该账号已停用，其全部登录和令牌随之失效；如需恢复，请联系系统管理员';
  if (account.credentialsEpoch !== epoch) {
    return '该账号的密码已重置或已停用过，此前的登录和令牌均已失效，请重新登录（脚本请重新创建个人访问令牌）';
  }
  return undefined;
}

/** Why a session opened by an assignment link ends at `now` (zh-CN): the link expired or was revoked. */
async function linkEnded(db: Db, linkId: string, now: Date): Promise<string | undefined> {
  const link = await findAssignmentLink(db, linkId);
  if (!link || link.revokedAt) return '该评审任务链接已被撤销，请以电子邮箱和密码登录';
  if (link.expiresAt.getTime() <= now.getTime()) {
    return `该评审任务链接已于 ${formatInstantZh(link.expiresAt)} 过期，请以电子邮箱和密码登录`;
  }
  return undefined;
}

function destroySession(req: Request): Promise<void> {
  return new Promise((resolve) => {
    if (!req.session) return resolve();
    req.session.destroy(() => resolve());
  });
}

/**
 * Establishes `req.principal`; routes decide whether one is required.
 *
 * - Two `Authorization` headers (counted in `req.rawHeaders`: Node keeps the first): 401 UNAUTHENTICATED.
 * - `Authorization: Bearer rh_pat_…`: a personal access token, looked up by its hash; refused (401) when unknown,
 *   revoked, expired, or its account is disabled or its credentials epoch moved on (disable, password reset).
 * - `Authorization: Bearer <JWT>`: a development token; refused in production (401 DEVELOPMENT_TOKEN_REFUSED),
 *   else verified as before (401 UNAUTHENTICATED when it does not, or names an unknown institution or expert).
 * - Otherwise the browser session (express-session, before this): the account is read again on every request;
 *   disabled, epoch changed, or past the absolute lifetime — or, for a session opened by an assignment link,
 *   the link expired or revoked — → the session is destroyed, the ending audited (`account.session_ended`) and
 *   the request answered 401 SESSION_ENDED. A link's session gets `principal.assignmentLink`.
 */
export function authenticate(deps: AuthenticationDeps): RequestHandler {
  const { db, clock } = deps;
  return async (req, _res, next) => {
    try {
      // Node keeps the first of two Authorization headers and drops the other silently: which credential was
      // meant cannot be known, so neither is used.
      if (headerCount(req, 'authorization') > 1) {
        throw new AppError('UNAUTHENTICATED', '只能给出一个 Authorization 请求头，请只保留一个令牌');
      }
      const header = req.headers.authorization;
      if (header) {
        const match = /^Bearer\s+(.+)$/i.exec(header);
        if (!match) throw new AppError('UNAUTHENTICATED', '请使用 Authorization: Bearer <令牌>');
        const token = match[1]!.trim();
        if (token.startsWith(ACCESS_TOKEN_PREFIX)) {
          const stored = await findAccessToken(db, tokenHash(token));
          const now = clock();
          if (!stored || stored.revokedAt || stored.expiresAt.getTime() <= now.getTime()) {
            throw new AppError('UNAUTHENTICATED', '个人访问令牌无效、已撤销或已过期，请重新创建');
          }
          const account = await findAccount(db, stored.accountId);
          const ended = accountEnded(account, stored.credentialsEpoch);
          if (ended) throw new AppError('SESSION_ENDED', ended);
          await touchAccessToken(db, stored.id, now);
          req.account = account!;
          req.principal = principalOfAccount(account!, 'access-token');
          return next();
        }
        if (deps.production) {
          throw new AppError('DEVELOPMENT_TOKEN_REFUSED', '开发令牌仅供开发和测试环境使用');
        }
        let principal: Principal;
        try {
          principal = await verifyToken(token, deps.secret);
        } catch {
          throw new AppError('UNAUTHENTICATED', '令牌无效或已过期');
        }
        const unknown = await deps.check?.(principal);
        if (unknown) throw new AppError('UNAUTHENTICATED', unknown);
        req.principal = principal;
        return next();
      }
      const signedIn = req.session?.account;
      if (signedIn) {
        const account = await findAccount(db, signedIn.id);
        const expired = clock().getTime() - signedIn.signedInAt > deps.sessionAbsoluteMs;
        const ended =
          accountEnded(account, signedIn.epoch) ??
          (expired ? '登录已超过最长有效时间，请重新登录' : undefined) ??
          (signedIn.link ? await linkEnded(db, signedIn.link.id, clock()) : undefined);
        if (ended) {
          await destroySession(req);
          if (account) await recordAccountAudit(db, req, account, 'account.session_ended', { reason: ended });
          throw new AppError('SESSION_ENDED', ended);
        }
        req.account = account!;
        req.principal = principalOfAccount(account!, 'session');
        if (signedIn.link) {
          req.principal.assignmentLink = { id: signedIn.link.id, assignmentIds: signedIn.link.assignmentIds };
        }
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
