import type { RequestHandler } from 'express';
import { jwtVerify, SignJWT } from 'jose';
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

/** Reads a bearer token when present; routes decide whether one is required. */
export function authenticate(secret: string): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return next(new AppError('UNAUTHENTICATED', '请使用 Authorization: Bearer <令牌>'));
    verifyToken(match[1]!, secret).then(
      (principal) => {
        req.principal = principal;
        next();
      },
      () => next(new AppError('UNAUTHENTICATED', '令牌无效或已过期')),
    );
  };
}
