import { Router, type Request, type Response } from 'express';
import type { Account } from '../db/repositories/accounts.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  matchAccount,
  OIDC_PENDING_MS,
  OidcRefusal,
  type OidcClaims,
  type OidcProvider,
  type PendingOidcSignIn,
} from '../services/oidc.js';
import { recordAccountAudit } from './auth.js';
import { AppError } from './errors.js';
import { csrfField, errorBox, showPage } from './pages.js';
import { requestIdOf } from './request.js';
import { needsSecondFactor, startSession, type SignInDeps } from './sign-in.js';

/**
 * Sign-in through the province's identity provider (issue 15, point 2; README "Signing in through the province's
 * identity provider"), when OIDC_ISSUER is configured:
 *
 * - `GET /account/oidc/start` (the sign-in page's button "使用统一身份认证登录"): keeps `state`, `nonce` and the
 *   PKCE verifier in the session and redirects (303) to the provider;
 * - `GET /account/oidc/callback`: the provider redirects back here; openid-client validates the answer and the ID
 *   token; the identity is matched to an account (`matchAccount`); the session is signed in as it. A staff
 *   member gives the TOTP code as after a password, unless the ID token's `acr` is one of OIDC_STAFF_MFA.
 *
 * Every refusal — no pending sign-in or another `state`, an error from the provider, an answer that fails the
 * library's checks, no matching account, an unverified email, an identity conflict, a disabled or unfinished
 * account — is a zh-CN page with a 4xx that says what to do, audited as `account.oidc_refused`.
 */

/** The callback's path; the provider must have `${PUBLIC_BASE_URL}/account/oidc/callback` registered. */
export const OIDC_CALLBACK_PATH = '/account/oidc/callback';

declare module 'express-session' {
  interface SessionData {
    /** A sign-in sent to the identity provider and not yet back (`services/oidc.ts`). */
    oidc?: PendingOidcSignIn;
  }
}

export interface OidcPageDeps extends SignInDeps {
  provider: OidcProvider;
  /** PUBLIC_BASE_URL, else the API's own local address (never the Host header); no trailing slash. */
  baseUrlOf: (req: Request) => string;
}

/** What each refusal tells the person to do next (zh-CN, HTML). */
const NEXT_STEP: Record<string, string> = {
  OIDC_STATE_INVALID: '请回到<a href="/account/sign-in">登录页</a>，重新点击“使用统一身份认证登录”。',
  OIDC_PROVIDER_REFUSED:
    '如需继续，请回到<a href="/account/sign-in">登录页</a>重新发起；如统一身份认证账号有问题，请联系统一身份认证平台的管理员。',
  OIDC_RESPONSE_INVALID: '请回到<a href="/account/sign-in">登录页</a>重新登录；如仍不成功，请联系管理服务中心。',
  OIDC_NO_ACCOUNT:
    '账号由管理服务中心的系统管理员开通，且账号的电子邮箱须与统一身份认证登记的邮箱一致。请联系系统管理员开通或核对账号；已有账号的也可<a href="/account/sign-in">使用电子邮箱和密码登录</a>。',
  OIDC_EMAIL_UNVERIFIED:
    '首次使用统一身份认证登录时，系统依据其已验证的电子邮箱匹配账号。请在统一身份认证平台验证电子邮箱后重试，或<a href="/account/sign-in">使用电子邮箱和密码登录</a>。',
  OIDC_IDENTITY_CONFLICT:
    '一个账号只能关联一个统一身份认证身份。请使用首次登录时的统一身份认证账号，或联系管理服务中心的系统管理员处理。',
  ACCOUNT_DISABLED: '如有疑问，请联系管理服务中心。',
  ACCOUNT_NOT_READY: '请先通过邀请邮件中的链接完成设置，再回到<a href="/account/sign-in">登录页</a>登录。',
};

/**
 * The sign-in page's button: a link to the start route. A link, not a form: the API's Content-Security-Policy
 * (`form-action 'self'`) rightly stops a form post from being redirected to another origin, and starting a
 * sign-in changes nothing but the session's pending request (the callback's `state` check is the CSRF defence).
 */
export function oidcSignInButton(): string {
  return `<p><a id="oidc-sign-in" href="/account/oidc/start" role="button" style="display:inline-block;margin-top:1rem;padding:.5rem 1.5rem;background:#1f5fa8;color:#fff;text-decoration:none">使用统一身份认证登录</a></p>`;
}

/** The TOTP form after the provider's sign-in (it posts to the password sign-in's second step). */
function totpForm(req: Request): string {
  return `<p>已通过统一身份认证。工作人员还须输入身份验证器中 ronghe 账号当前显示的 6 位动态验证码。</p>
<form method="post" action="/account/sign-in/totp">
  ${csrfField(req)}
  <label for="totp">动态验证码</label><input type="text" id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" required>
  <button type="submit">验证并登录</button>
</form>`;
}

/** The OIDC routes (mount only when OIDC is configured). */
export function oidcPages(deps: OidcPageDeps): Router {
  const router = Router();
  const { db, clock, provider } = deps;
  const redirectUriOf = (req: Request) => `${deps.baseUrlOf(req)}${OIDC_CALLBACK_PATH}`;

  /** Audits the refusal and answers with its page. */
  const refuse = async (
    req: Request,
    res: Response,
    error: AppError,
    audit: { reason: string; account?: Account | undefined; claims?: OidcClaims | undefined; providerError?: unknown },
  ) => {
    await recordAudit(db, {
      actor: 'public',
      role: 'public',
      action: 'account.oidc_refused',
      subjectKind: audit.account ? 'account' : 'oidc_identity',
      subjectId: audit.account?.id ?? (audit.claims ? `${audit.claims.issuer}#${audit.claims.subject}` : 'unknown'),
      reason: audit.reason,
      details: {
        code: error.code,
        issuer: audit.claims?.issuer ?? null,
        subject: audit.claims?.subject ?? null,
        email: audit.claims?.email ?? null,
        providerError: audit.providerError ?? null,
        ip: req.ip ?? null,
      },
      requestId: requestIdOf(req),
    });
    const lines = [error.title, ...(error.detail ? [error.detail] : [])];
    showPage(res, error.status, '统一身份认证登录', `${errorBox(lines)}<p>${NEXT_STEP[error.code] ?? ''}</p>`);
  };

  /**
   * Keeps the account waiting for its TOTP code: the same second step as after a password (`POST
   * /account/sign-in/totp` in pages.accounts.ts reads it, for 10 minutes, and starts the session).
   */
  const holdForSecondFactor = (req: Request, account: Account) => {
    req.session.pendingSecondFactor = { accountId: account.id, epoch: account.credentialsEpoch, at: clock().getTime() };
  };

  const unreachable = (req: Request, err: unknown): AppError => {
    req.log?.warn({ err }, 'identity provider unreachable');
    return new AppError('SERVICE_UNAVAILABLE', '统一身份认证服务暂时无法连接，请稍后重试，或使用电子邮箱和密码登录');
  };

  router.get('/account/oidc/start', async (req, res) => {
    let request: Awaited<ReturnType<OidcProvider['authorizationRequest']>>;
    try {
      request = await provider.authorizationRequest(redirectUriOf(req), clock());
    } catch (err) {
      throw unreachable(req, err);
    }
    req.session.oidc = request.pending;
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, request.url.href);
  });

  router.get(OIDC_CALLBACK_PATH, async (req, res) => {
    const pending = req.session.oidc;
    delete req.session.oidc;
    if (!pending || clock().getTime() - pending.at > OIDC_PENDING_MS) {
      return refuse(
        req,
        res,
        new AppError(
          'OIDC_STATE_INVALID',
          '没有找到本浏览器发起的登录请求（可能已超过 10 分钟，或链接并非从本系统发起）',
        ),
        { reason: pending ? 'pending sign-in expired' : 'no pending sign-in in the session' },
      );
    }
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    let claims: OidcClaims;
    try {
      claims = await provider.complete(new URL(`${redirectUriOf(req)}${query}`), pending);
    } catch (err) {
      if (!(err instanceof OidcRefusal)) throw unreachable(req, err);
      const detail = err.providerError
        ? `统一身份认证返回：${err.providerError.error}${err.providerError.description ? `（${err.providerError.description}）` : ''}`
        : undefined;
      return refuse(req, res, new AppError(err.code, detail), {
        reason: err.message,
        providerError: err.providerError,
      });
    }

    const match = await matchAccount(db, claims, clock());
    if ('refusal' in match) {
      const detail =
        match.refusal === 'OIDC_NO_ACCOUNT'
          ? `统一身份认证登记的电子邮箱为 ${claims.email ?? '（未提供）'}，本系统没有以此邮箱开通的账号`
          : match.refusal === 'OIDC_EMAIL_UNVERIFIED'
            ? claims.email
              ? `统一身份认证未确认电子邮箱 ${claims.email} 已验证`
              : '统一身份认证未提供电子邮箱'
            : `账号 ${match.account?.email ?? ''} 已关联另一个统一身份认证身份`;
      return refuse(req, res, new AppError(match.refusal, detail), {
        reason: match.refusal,
        account: match.account,
        claims,
      });
    }
    const { account } = match;
    if (match.linked) {
      await recordAccountAudit(db, req, account, 'account.oidc_linked', {
        details: { issuer: claims.issuer, subject: claims.subject, email: claims.email ?? null },
      });
    }
    if (account.disabledAt) {
      return refuse(req, res, new AppError('ACCOUNT_DISABLED'), { reason: 'account disabled', account, claims });
    }
    if (needsSecondFactor(account) && !(claims.acr && provider.settings.staffMfaAcr.includes(claims.acr))) {
      if (!account.totpConfirmedAt) {
        return refuse(req, res, new AppError('ACCOUNT_NOT_READY', '工作人员须先通过邀请邮件中的链接绑定身份验证器'), {
          reason: 'staff without a confirmed TOTP secret',
          account,
          claims,
        });
      }
      holdForSecondFactor(req, account);
      return showPage(res, 200, '输入动态验证码', totpForm(req));
    }
    await startSession(deps, req, account);
    res.redirect(303, '/account');
  });

  return router;
}
