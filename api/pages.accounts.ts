import { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import {
  acceptTotpStep,
  confirmTotp,
  findAccount,
  findAccountByEmail,
  findLink,
  setPasswordHash,
  useLink,
  type Account,
  type AccountLink,
  type LinkPurpose,
} from '../db/repositories/accounts.js';
import { recordAudit } from '../db/repositories/audit.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from '../domain/accounts.js';
import {
  accountRoleZh,
  hashPassword,
  normaliseEmail,
  sendAccountLink,
  totpOf,
  totpStep,
  typedEmailDigest,
  type AccountServiceDeps,
} from '../services/accounts.js';
import { tokenHash } from '../services/tokens.js';
import { recordAccountAudit } from './auth.js';
import { AppError, problemFor, RETRY_AFTER_SECONDS } from './errors.js';
import { formBody, readForm, type Typed } from './pages.forms.js';
import { csrfField, errorBox, escape, showPage } from './pages.js';
import { emailKey, type SignInLimits } from './rate-limit.js';
import { oidcSignInButton } from './pages.oidc.js';
import { requestIdOf } from './request.js';
import { hasValidCsrfToken } from './session.js';
import {
  checkPassword,
  checkSecondFactor,
  endSession,
  needsSecondFactor,
  startSession,
  type SignInDeps,
} from './sign-in.js';

/**
 * The account pages (zh-CN, server-rendered, every form CSRF-protected): accept an invitation (set the password;
 * staff also enrol TOTP), sign in (email + password, then a TOTP code for staff), sign out, and reset a
 * forgotten password. Each refusal is a page that says what to do, with a 4xx status, and is audited.
 *
 * Every post is answered with a page (issue 14, point 2's rule): the body is read by `readForm`
 * (api/pages.forms.ts) whatever its shape — empty, multipart, JSON, text/plain, another charset, bytes that are
 * not UTF-8, NUL, repeated fields, more than `ACCOUNT_FORM_BODY_LIMIT` — and whatever goes wrong in a page route
 * (a sign-in limit, a store failure, anything thrown) is rendered as that route's page with the status, the
 * problem in zh-CN, and what was typed (the email; never a password).
 */

export interface AccountPageDeps extends AccountServiceDeps, SignInDeps {
  /** Where links in emails point (PUBLIC_BASE_URL, else the API's own local address; never the Host header). */
  baseUrlOf: (req: Request) => string;
  /**
   * Limits failed sign-in attempts per account and per address (api/rate-limit.ts, counted in PostgreSQL). The
   * password and reset pages count by the email typed; the TOTP page by the account waiting for its second factor.
   */
  signInLimits: SignInLimits;
  /** Whether the sign-in page offers the province's identity provider (OIDC configured; api/pages.oidc.ts). */
  oidc?: boolean;
}

/** The fields of the account forms, with the zh-CN labels their pages show. */
export const ACCOUNT_FIELDS = {
  _csrf: '安全令牌',
  email: '电子邮箱',
  password: '密码',
  confirm: '再次输入的密码',
  totp: '动态验证码',
} as const;

/** What was typed into an account form. */
type AccountForm = Typed<typeof ACCOUNT_FIELDS>;

/** The most an account form's post may carry (its fields are short). */
export const ACCOUNT_FORM_BODY_LIMIT = '16kb';

/** What an error in a page route says: its status and the problems in zh-CN (the RATE_LIMITED page: until when). */
function pageProblemOf(err: unknown, req: Request, res: Response): { status: number; problems: string[] } {
  const { problem, known } = problemFor(err, req);
  if (!known || problem.status >= 500) req.log?.error({ err }, 'account page failed');
  if (problem.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  switch (problem.code) {
    case 'PAYLOAD_TOO_LARGE':
      return {
        status: 413,
        problems: [`提交的内容过长（不超过 ${ACCOUNT_FORM_BODY_LIMIT}），请在本页面重新填写后提交`],
      };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415, problems: ['不支持该内容编码，请在本页面填写后提交'] };
    case 'BODY_UNREADABLE':
      return { status: 400, problems: ['提交未完整收到，请在本页面重新提交'] };
  }
  const detail = problem.detail && problem.detail !== problem.title ? problem.detail : undefined;
  return { status: problem.status, problems: detail ? [problem.title, detail] : [problem.title] };
}

/**
 * An error where no form can be shown again (an ended session before an account page ran, a page that failed
 * while rendering a refusal) as a zh-CN page with its status and a link to sign in.
 */
export const accountPageErrors: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const { problem } = problemFor(err, req);
  const { status, problems } = pageProblemOf(err, req, res);
  showPage(res, status, problem.title, `${errorBox(problems)}<p><a href="/account/sign-in">重新登录</a></p>`);
};

/** Re-renders a form's page with a status, the problems, and what was typed (the email; never a password). */
type FormPage = (
  req: Request,
  res: Response,
  status: number,
  problems: string[],
  typed: AccountForm,
) => void | Promise<void>;

/** How long a staff member has to give the TOTP code after the right password (milliseconds). */
const SECOND_FACTOR_WINDOW_MS = 10 * 60_000;

const PASSWORD_RULE = `密码 ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} 个字符，不能与电子邮箱相同；建议使用易记的长句。`;

/** A field of the form as read by `readForm` (req.body is then the typed values, text only). */
const fieldOf = (req: Request, name: keyof typeof ACCOUNT_FIELDS): string => {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** What was typed, from req.body once `readForm` made it the typed values; nothing otherwise. */
function typedOf(req: Request): AccountForm {
  const body: unknown = req.body;
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? body : {};
}

export function accountPages(deps: AccountPageDeps): Router {
  const router = Router();
  const { db, clock } = deps;
  const rawBody = formBody(ACCOUNT_FORM_BODY_LIMIT);

  /**
   * A form post route: the body read strictly (a post that is not a readable form is answered by `render` with
   * 400/415/422), then `handlers`; any error on the way (body too large, a sign-in limit, a store failure,
   * anything thrown) is answered by `render` with its status.
   */
  const formPost = (path: string, render: FormPage, ...handlers: RequestHandler[]) => {
    const read: RequestHandler = async (req, res, next) => {
      const { values, refusal } = await readForm(req, ACCOUNT_FIELDS);
      req.body = values;
      if (refusal) return render(req, res, refusal.status, refusal.problems, values);
      next();
    };
    const errors: ErrorRequestHandler = (err, req, res, next) => {
      if (res.headersSent) return next(err);
      const { status, problems } = pageProblemOf(err, req, res);
      Promise.resolve(render(req, res, status, problems, typedOf(req))).catch((failed: unknown) =>
        accountPageErrors(failed, req, res, next),
      );
    };
    router.post(path, rawBody, read, ...handlers, errors);
  };

  /**
   * A post without its session's CSRF token: audited, and the form shown again (with a fresh token and what was
   * typed, never a password) saying why, so sending it again is one click.
   */
  const refusedCsrf = async (req: Request, res: Response, render: FormPage) => {
    await recordAudit(db, {
      actor: req.principal?.actor ?? 'public',
      role: req.principal?.role ?? 'public',
      action: 'account.csrf_refused',
      subjectKind: 'page',
      subjectId: req.path.replace(/\/(invitation|reset)\/[^/]+$/, '/$1/…'),
      requestId: requestIdOf(req),
    });
    await render(
      req,
      res,
      403,
      ['页面已过期：表单缺少有效的安全令牌（CSRF），可能是页面停留过久或已在别处登录。请核对后重新提交本页的表单。'],
      typedOf(req),
    );
  };

  /** The link named by the path, if it can still be used at `now`, and its account. */
  const usableLink = async (
    token: string,
    purpose: LinkPurpose,
  ): Promise<{ link: AccountLink; account: Account } | { why: string }> => {
    const link = await findLink(db, tokenHash(token));
    const now = clock();
    if (!link || link.purpose !== purpose) return { why: '链接无效，请核对邮件中的完整链接' };
    if (link.usedAt) return { why: `该链接已于 ${formatInstantZh(link.usedAt)} 使用过，每个链接只能使用一次` };
    if (link.revokedAt) return { why: '该链接已被后来发出的新链接取代，请使用最新一封邮件中的链接' };
    if (link.expiresAt.getTime() <= now.getTime()) {
      return { why: `该链接已于 ${formatInstantZh(link.expiresAt)} 过期` };
    }
    const account = await findAccount(db, link.accountId);
    if (!account || account.disabledAt) return { why: '该账号已停用' };
    return { link, account };
  };

  const linkRefused = async (req: Request, res: Response, purpose: LinkPurpose, why: string) => {
    await recordAudit(db, {
      actor: 'public',
      role: 'public',
      action: 'account.link_refused',
      subjectKind: 'account_link',
      subjectId: tokenHash(String(req.params.token)).slice(0, 16),
      reason: why,
      details: { purpose },
      requestId: requestIdOf(req),
    });
    const next =
      purpose === 'invitation'
        ? '如尚未设置密码，请联系管理服务中心的系统管理员重新发送邀请；如已设置，请直接<a href="/account/sign-in">登录</a>。'
        : '请在<a href="/account/reset">重置密码页面</a>重新申请。';
    showPage(res, 410, '链接已失效', `${errorBox([why])}<p>${next}</p>`);
  };

  // ---- Invitation: set the password (staff: and enrol TOTP).
  const invitationForm = (req: Request, account: Account, problems: string[] = []) => {
    const totp =
      account.kind === 'staff'
        ? (() => {
            const t = totpOf(account.totpSecret!, account.email);
            return `<h2>绑定身份验证器</h2>
<p>工作人员登录时须输入动态验证码。请在手机的身份验证器应用（如 Microsoft Authenticator、Google 身份验证器）中添加账号：扫描或手动输入以下密钥。</p>
<p>密钥：<code id="totp-secret">${escape(account.totpSecret!)}</code></p>
<p>或打开链接：<code id="totp-uri">${escape(t.toString())}</code></p>
<label for="totp">身份验证器显示的 6 位动态验证码</label><input type="text" id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required>`;
          })()
        : '';
    return `${errorBox(problems)}
<p>${escape(account.name)}，您好！您的账号（${escape(accountRoleZh(account))}，登录名 ${escape(account.email)}）已开通，请设置登录密码。</p>
<form method="post">
  ${csrfField(req)}
  <p><small>${escape(PASSWORD_RULE)}</small></p>
  <label for="password">新密码</label><input type="password" id="password" name="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}">
  <label for="confirm">再次输入新密码</label><input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
  ${totp}
  <button type="submit">设置密码</button>
</form>`;
  };

  router.get('/account/invitation/:token', async (req, res) => {
    const found = await usableLink(req.params.token, 'invitation');
    if ('why' in found) return linkRefused(req, res, 'invitation', found.why);
    showPage(res, 200, '设置登录密码', invitationForm(req, found.account));
  });

  /** The invitation form again (or why its link is no longer good). */
  const invitationPage: FormPage = async (req, res, status, problems) => {
    const found = await usableLink(String(req.params.token), 'invitation');
    if ('why' in found) return linkRefused(req, res, 'invitation', found.why);
    showPage(res, status, '设置登录密码', invitationForm(req, found.account, problems));
  };

  formPost('/account/invitation/:token', invitationPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, invitationPage);
    const found = await usableLink(String(req.params.token), 'invitation');
    if ('why' in found) return linkRefused(req, res, 'invitation', found.why);
    const { account, link } = found;
    const password = fieldOf(req, 'password');
    const problems: string[] = [];
    const weak = passwordProblem(password, account.email);
    if (weak) problems.push(weak);
    else if (password !== fieldOf(req, 'confirm')) problems.push('两次输入的密码不一致，请重新输入');
    const step =
      account.kind === 'staff'
        ? totpStep(account.totpSecret!, account.email, fieldOf(req, 'totp'), clock())
        : undefined;
    if (account.kind === 'staff' && step === undefined) {
      problems.push('动态验证码不正确：请确认已在身份验证器中添加上面的密钥，并输入当前显示的 6 位数字');
    }
    if (problems.length) {
      await recordAudit(db, {
        actor: 'public',
        role: 'public',
        action: 'account.invitation_refused',
        subjectKind: 'account',
        subjectId: account.id,
        reason: problems.join('；'),
        requestId: requestIdOf(req),
      });
      return showPage(res, 422, '设置登录密码', invitationForm(req, account, problems));
    }
    if (!(await useLink(db, link.id, clock()))) {
      return linkRefused(req, res, 'invitation', '该链接刚刚已被使用或已过期');
    }
    await setPasswordHash(db, account.id, await hashPassword(password), { endCredentials: false });
    if (account.kind === 'staff') {
      await confirmTotp(db, account.id, clock());
      // The code that confirmed the enrolment is used: it cannot sign in too (RFC 6238, section 5.2).
      await acceptTotpStep(db, account.id, step!);
    }
    await recordAccountAudit(db, req, account, 'account.invitation_accepted');
    showPage(
      res,
      200,
      '密码已设置',
      `<p class="ok">密码已设置${account.kind === 'staff' ? '，身份验证器已绑定' : ''}。</p><p><a href="/account/sign-in">前往登录</a></p>`,
    );
  });

  // ---- Sign in, second factor, who am I, sign out.
  const signInForm = (req: Request, problems: string[] = [], email = '') =>
    `${errorBox(problems)}
<form method="post" action="/account/sign-in">
  ${csrfField(req)}
  <label for="email">电子邮箱</label><input type="email" id="email" name="email" autocomplete="username" required value="${escape(email)}">
  <label for="password">密码</label><input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit">登录</button>
</form>
<p><a href="/account/reset">忘记密码？</a></p>${deps.oidc ? oidcSignInButton() : ''}`;

  const totpForm = (req: Request, problems: string[] = []) =>
    `${errorBox(problems)}
<p>请打开手机上的身份验证器，输入 ronghe 账号当前显示的 6 位动态验证码。</p>
<form method="post" action="/account/sign-in/totp">
  ${csrfField(req)}
  <label for="totp">动态验证码</label><input type="text" id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" required>
  <button type="submit">验证并登录</button>
</form>`;

  /** A refusal from sign-in (an AppError) as the page's problems; anything else propagates. */
  const refusalOf = (req: Request, res: Response, err: unknown): { status: number; problems: string[] } => {
    if (!(err instanceof AppError)) throw err;
    return pageProblemOf(err, req, res);
  };

  const signInPage: FormPage = (req, res, status, problems, typed) =>
    showPage(res, status, '登录', signInForm(req, problems, typed.email ?? ''));
  const totpPage: FormPage = (req, res, status, problems) =>
    showPage(res, status, '输入动态验证码', totpForm(req, problems));

  router.get('/account/sign-in', (req, res) => {
    showPage(res, 200, '登录', signInForm(req));
  });

  formPost('/account/sign-in', signInPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, signInPage);
    const email = fieldOf(req, 'email');
    let account: Account;
    try {
      account = await checkPassword(deps, req, email, fieldOf(req, 'password'));
    } catch (err) {
      const { status, problems } = refusalOf(req, res, err);
      return showPage(res, status, '登录', signInForm(req, problems, email));
    }
    if (needsSecondFactor(account)) {
      req.session.pendingSecondFactor = {
        accountId: account.id,
        email: account.email,
        epoch: account.credentialsEpoch,
        at: clock().getTime(),
      };
      return showPage(res, 200, '输入动态验证码', totpForm(req));
    }
    await startSession(deps, req, account);
    res.redirect(303, '/account');
  });

  // `checkSecondFactor` counts the code against the account's email, as the password page counts the password.
  formPost('/account/sign-in/totp', totpPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, totpPage);
    const pending = req.session.pendingSecondFactor;
    const account = pending ? await findAccount(db, pending.accountId) : undefined;
    if (
      !pending ||
      !account ||
      account.disabledAt ||
      account.credentialsEpoch !== pending.epoch ||
      clock().getTime() - pending.at > SECOND_FACTOR_WINDOW_MS
    ) {
      delete req.session.pendingSecondFactor;
      return showPage(res, 401, '登录', signInForm(req, ['登录已超时或已失效，请重新输入电子邮箱和密码']));
    }
    try {
      await checkSecondFactor(deps, req, account, fieldOf(req, 'totp'));
    } catch (err) {
      const { status, problems } = refusalOf(req, res, err);
      return showPage(res, status, '输入动态验证码', totpForm(req, problems));
    }
    await startSession(deps, req, account);
    res.redirect(303, '/account');
  });

  const signOutForm = (req: Request) =>
    `<form method="post" action="/account/sign-out">${csrfField(req)}<button type="submit">退出登录</button></form>`;

  router.get('/account', (req, res) => {
    const account = req.principal?.via === 'session' ? req.account : undefined;
    if (!account) return res.redirect(303, '/account/sign-in');
    showPage(
      res,
      200,
      '我的账号',
      `<p class="ok">已登录：<span id="account-name">${escape(account.name)}</span>（${escape(accountRoleZh(account))}，${escape(account.email)}）。</p>
<p>接口调用可使用本会话（写操作附 X-CSRF-Token，值见 <a href="/api/session">/api/session</a>），脚本请创建个人访问令牌（POST /api/access-tokens）。</p>
${signOutForm(req)}`,
    );
  });

  const signOutPage: FormPage = (req, res, status, problems) =>
    showPage(res, status, '退出登录', `${errorBox(problems)}${signOutForm(req)}`);

  formPost('/account/sign-out', signOutPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, signOutPage);
    if (req.session) await endSession(deps, req);
    showPage(res, 200, '已退出登录', '<p class="ok">您已退出登录。</p><p><a href="/account/sign-in">重新登录</a></p>');
  });

  // ---- Password reset: the request page answers the same whatever the email.
  const resetRequestForm = (req: Request, problems: string[] = [], email = '') =>
    `${errorBox(problems)}
<p>请输入账号的电子邮箱。如该邮箱有账号，系统将发送一封含重置链接的邮件（72 小时内有效，仅可使用一次）。</p>
<form method="post" action="/account/reset">
  ${csrfField(req)}
  <label for="email">电子邮箱</label><input type="email" id="email" name="email" autocomplete="username" required value="${escape(email)}">
  <button type="submit">发送重置邮件</button>
</form>`;

  router.get('/account/reset', (req, res) => {
    showPage(res, 200, '重置密码', resetRequestForm(req));
  });

  const resetRequestPage: FormPage = (req, res, status, problems, typed) =>
    showPage(res, status, '重置密码', resetRequestForm(req, problems, typed.email ?? ''));

  formPost('/account/reset', resetRequestPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, resetRequestPage);
    const email = normaliseEmail(fieldOf(req, 'email'));
    if (!email) {
      const problems = ['电子邮箱应为单个邮箱地址（如 name@example.com）'];
      return showPage(res, 422, '重置密码', resetRequestForm(req, problems, fieldOf(req, 'email')));
    }
    // Counted per email typed, sent or not; a post that is refused above counts against no one.
    await deps.signInLimits.resetRequest(req, email);
    const account = await findAccountByEmail(db, email);
    // Only a usable account gets an email; the page is the same either way (no enumeration).
    if (account && !account.disabledAt && account.passwordHash) {
      await sendAccountLink(deps, account, 'password_reset', deps.baseUrlOf(req));
    }
    await recordAudit(db, {
      actor: 'public',
      role: 'public',
      action: 'account.reset_requested',
      subjectKind: account ? 'account' : 'account_email',
      // An address that names no account is personal data (and may be mistyped): kept as its keyed digest.
      subjectId: account?.id ?? typedEmailDigest(email, deps.auditKey),
      details: { sent: Boolean(account && !account.disabledAt && account.passwordHash), ip: req.ip ?? null },
      requestId: requestIdOf(req),
    });
    showPage(
      res,
      200,
      '重置密码',
      `<p class="ok">如 ${escape(email)} 有账号，重置密码的邮件已发出，请查收（72 小时内有效）。</p><p><a href="/account/sign-in">返回登录</a></p>`,
    );
  });

  const resetForm = (req: Request, problems: string[] = []) =>
    `${errorBox(problems)}
<form method="post">
  ${csrfField(req)}
  <p><small>${escape(PASSWORD_RULE)}设置后，该账号在所有设备上的登录及个人访问令牌随即失效。</small></p>
  <label for="password">新密码</label><input type="password" id="password" name="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}">
  <label for="confirm">再次输入新密码</label><input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
  <button type="submit">设置新密码</button>
</form>`;

  router.get('/account/reset/:token', async (req, res) => {
    const found = await usableLink(req.params.token, 'password_reset');
    if ('why' in found) return linkRefused(req, res, 'password_reset', found.why);
    showPage(res, 200, '设置新密码', resetForm(req));
  });

  const resetPage: FormPage = async (req, res, status, problems) => {
    const found = await usableLink(String(req.params.token), 'password_reset');
    if ('why' in found) return linkRefused(req, res, 'password_reset', found.why);
    showPage(res, status, '设置新密码', resetForm(req, problems));
  };

  formPost('/account/reset/:token', resetPage, async (req, res) => {
    if (!hasValidCsrfToken(req)) return refusedCsrf(req, res, resetPage);
    const found = await usableLink(String(req.params.token), 'password_reset');
    if ('why' in found) return linkRefused(req, res, 'password_reset', found.why);
    const password = fieldOf(req, 'password');
    const weak = passwordProblem(password, found.account.email);
    const problem = weak ?? (password !== fieldOf(req, 'confirm') ? '两次输入的密码不一致，请重新输入' : undefined);
    if (problem) return showPage(res, 422, '设置新密码', resetForm(req, [problem]));
    if (!(await useLink(db, found.link.id, clock()))) {
      return linkRefused(req, res, 'password_reset', '该链接刚刚已被使用或已过期');
    }
    await setPasswordHash(db, found.account.id, await hashPassword(password), { endCredentials: true, at: clock() });
    await recordAccountAudit(db, req, found.account, 'account.password_reset');
    // The owner proved who they are: failed attempts by anyone else no longer hold the account back.
    await deps.signInLimits.forgive(req, emailKey(found.account.email)!);
    showPage(
      res,
      200,
      '新密码已设置',
      '<p class="ok">新密码已设置，此前的登录和个人访问令牌均已失效。</p><p><a href="/account/sign-in">前往登录</a></p>',
    );
  });

  // Errors of the GET pages (a store failure): a page too.
  router.use(accountPageErrors);
  return router;
}
