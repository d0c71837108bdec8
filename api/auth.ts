import type { RequestHandler } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import type { Db } from '../db/knex.js';
import { principalRecordExists, type PrincipalRecord } from '../db/repositories/principals.js';
import { AppError } from './errors.js';

export type Role = 'staff' | 'expert' | 'applicant';

export interface Principal {
  role: Role;
  /** Who acted, as it goes into the audit trail: staff:<id>, expert:<id>, applicant:<institutionId>. */
  actor: string;
  expertId?: string;
  institutionId?: string;
}

const ISSUER = 'ronghe';
const AUDIENCE = 'ronghe-api';

export interface TokenSubject {
  role: Role;
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
  const principal: Principal = { role, actor: payload.sub };
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

/**
 * Reads a bearer token when present; routes decide whether one is required. A token that does not verify, or
 * whose applicant institution or expert `check` does not recognise, is refused with 401 UNAUTHENTICATED.
 */
export function authenticate(secret: string, check?: PrincipalCheck): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return next(new AppError('UNAUTHENTICATED', '请使用 Authorization: Bearer <令牌>'));
    verifyToken(match[1]!, secret).then(
      async (principal) => {
        try {
          const unknown = await check?.(principal);
          if (unknown) return next(new AppError('UNAUTHENTICATED', unknown));
        } catch (err) {
          return next(err);
        }
        req.principal = principal;
        next();
      },
      () => next(new AppError('UNAUTHENTICATED', '令牌无效或已过期')),
    );
  };
}
