import type { Request } from 'express';
import type { Db } from '../db/knex.js';
import { acceptTotpStep, findAccountByEmail, recordSignIn, type Account } from '../db/repositories/accounts.js';
import { recordAudit } from '../db/repositories/audit.js';
import { decoyPasswordHash, normaliseEmail, totpStep, typedEmailDigest, verifyPassword } from '../services/accounts.js';
import { recordAccountAudit } from './auth.js';
import type { Clock } from './clock.js';
import { AppError } from './errors.js';
import { emailKey, type SignInLimits } from './rate-limit.js';
import { requestIdOf } from './request.js';

/**
 * Signing in, shared by `POST /api/session` and the sign-in page: the password (argon2id), then for staff a TOTP
 * code, then a fresh session. Every refusal is audited (`account.sign_in_refused`, with the reason) and answered
 * with a zh-CN 4xx that says what to do; a wrong email and a wrong password are told apart to no one.
 */

export interface SignInDeps {
  db: Db;
  clock: Clock;
  /**
   * The key of `typedEmailDigest` (services/accounts.ts): an email that names no account is audited as its keyed
   * digest, never in clear. The API gives SESSION_SECRET.
   */
  auditKey: string;
  /**
   * The sign-in attempt limits (api/rate-limit.ts): `checkPassword` and `checkSecondFactor` count each real check
   * here, right before making it, and nowhere else counts one.
   */
  signInLimits: SignInLimits;
}

async function refuse(
  deps: SignInDeps,
  req: Request,
  subject: { kind: 'account'; id: string } | { kind: 'account_email'; id: string },
  error: AppError,
): Promise<never> {
  await recordAudit(deps.db, {
    actor: 'public',
    role: 'public',
    action: 'account.sign_in_refused',
    subjectKind: subject.kind,
    subjectId: subject.id,
    reason: error.detail ?? error.title,
    details: { code: error.code, ip: req.ip ?? null },
    requestId: requestIdOf(req),
  });
  throw error;
}

/** Whether the account finished its invitation: a password, and for staff a confirmed TOTP secret. */
export function isReady(account: Account): boolean {
  return account.passwordHash !== null && (account.kind !== 'staff' || account.totpConfirmedAt !== null);
}

/**
 * The account whose email and password these are. The check is counted first (`SignInLimits.attempt`, against
 * the client's address and the email typed): call it only with a request already read and well-formed.
 *
 * @throws AppError VALIDATION_FAILED (422, naming 电子邮箱 / 密码) when either is empty or not text — not an
 *   attempt, not counted; RATE_LIMITED (429) before anything is checked, over a sign-in limit; SIGN_IN_FAILED (401; unknown email or wrong password, not told apart), ACCOUNT_DISABLED (403),
 *   ACCOUNT_NOT_READY (403; invitation not completed) — each audited.
 */
export async function checkPassword(
  deps: SignInDeps,
  req: Request,
  email: unknown,
  password: unknown,
): Promise<Account> {
  const unfilled = [
    ...(typeof email === 'string' && email.trim() !== '' ? [] : [{ path: 'email', label: '电子邮箱' }]),
    ...(typeof password === 'string' && password !== '' ? [] : [{ path: 'password', label: '密码' }]),
  ].map((f) => ({ ...f, message: `请填写${f.label}` }));
  // Nothing to check yet: not an attempt, counted against no one.
  if (unfilled.length > 0) {
    throw new AppError('VALIDATION_FAILED', unfilled.map((f) => f.message).join('；'), { errors: unfilled });
  }
  await deps.signInLimits.attempt(req, emailKey(email));
  const normalised = normaliseEmail(email);
  const account = normalised ? await findAccountByEmail(deps.db, normalised) : undefined;
  const typed = typeof password === 'string' ? password : '';
  // The same argon2 work whether or not the account exists: timing does not tell accounts apart.
  const matches = await verifyPassword(account?.passwordHash ?? (await decoyPasswordHash()), typed);
  if (!account || !account.passwordHash || !matches) {
    if (account && !account.passwordHash) {
      return refuse(deps, req, { kind: 'account', id: account.id }, new AppError('ACCOUNT_NOT_READY'));
    }
    return refuse(
      deps,
      req,
      account
        ? { kind: 'account', id: account.id }
        : { kind: 'account_email', id: typedEmailDigest(email, deps.auditKey) },
      new AppError('SIGN_IN_FAILED', '请核对电子邮箱和密码；忘记密码可在登录页申请重置'),
    );
  }
  if (account.disabledAt) {
    return refuse(deps, req, { kind: 'account', id: account.id }, new AppError('ACCOUNT_DISABLED'));
  }
  if (!isReady(account)) {
    return refuse(
      deps,
      req,
      { kind: 'account', id: account.id },
      new AppError('ACCOUNT_NOT_READY', '请先通过邀请邮件中的链接完成身份验证器绑定'),
    );
  }
  return account;
}

/** Whether this account signs in with a second factor (staff: TOTP). */
export function needsSecondFactor(account: Account): boolean {
  return account.kind === 'staff';
}

/**
 * Checks a staff member's TOTP code (one step of drift; a code already accepted is refused).
 *
 * @throws AppError SECOND_FACTOR_REQUIRED (401) without a code, SECOND_FACTOR_INVALID (401) for a wrong or
 *   reused one — audited; RATE_LIMITED (429) before a code is checked, over a sign-in limit (counted against the
 *   account's email, with its password step: `SignInLimits.attempt`).
 */
export async function checkSecondFactor(
  deps: SignInDeps,
  req: Request,
  account: Account,
  code: unknown,
): Promise<void> {
  if (!needsSecondFactor(account)) return;
  if (typeof code !== 'string' || code.trim() === '') {
    return refuse(deps, req, { kind: 'account', id: account.id }, new AppError('SECOND_FACTOR_REQUIRED'));
  }
  await deps.signInLimits.attempt(req, emailKey(account.email));
  const step = totpStep(account.totpSecret!, account.email, code, deps.clock());
  if (step === undefined || !(await acceptTotpStep(deps.db, account.id, step))) {
    return refuse(deps, req, { kind: 'account', id: account.id }, new AppError('SECOND_FACTOR_INVALID'));
  }
}

/** A new session id for the request's session, its data dropped (before a sign-in: no session fixation). */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((err: unknown) =>
      err ? reject(err instanceof Error ? err : new Error('session store failed')) : resolve(),
    ),
  );
}

/**
 * Starts a fresh session for the account (a new session id: no fixation), notes and audits the sign-in
 * (`account.sign_in`).
 */
export async function startSession(deps: SignInDeps, req: Request, account: Account): Promise<void> {
  const now = deps.clock();
  await regenerateSession(req);
  req.session.account = { id: account.id, epoch: account.credentialsEpoch, signedInAt: now.getTime() };
  await recordSignIn(deps.db, account.id, now);
  await recordAccountAudit(deps.db, req, account, 'account.sign_in', { details: { ip: req.ip ?? null } });
}

/** Ends the session (sign-out), auditing `account.sign_out` when an account was signed in. */
export async function endSession(deps: SignInDeps, req: Request): Promise<void> {
  const principal = req.principal;
  if (principal?.accountId) {
    await recordAudit(deps.db, {
      actor: principal.actor,
      role: principal.role,
      action: 'account.sign_out',
      subjectKind: 'account',
      subjectId: principal.accountId,
      requestId: requestIdOf(req),
    });
  }
  await new Promise<void>((resolve, reject) =>
    req.session.destroy((err: unknown) =>
      err ? reject(err instanceof Error ? err : new Error('session store failed')) : resolve(),
    ),
  );
}
