import { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { findAccount, recordSignIn, type Account } from '../db/repositories/accounts.js';
import {
  accountOfExpert,
  findAssignmentLinkByHash,
  noteAssignmentLinkUse,
  type AssignmentLink,
} from '../db/repositories/assignment-links.js';
import { recordAudit } from '../db/repositories/audit.js';
import { expertAssignments } from '../db/repositories/review.js';
import { formatInstantZh } from '../domain/calendar/index.js';
import type { Letterhead } from '../mail/templates/common.js';
import { tokenHash } from '../services/tokens.js';
import { principalOfAccount } from './auth.js';
import { AppError, problemFor } from './errors.js';
import { formBody, readForm } from './pages.forms.js';
import { csrfField, errorBox, escape, showPage } from './pages.js';
import type { SignInLimits } from './rate-limit.js';
import { requestIdOf } from './request.js';
import { hasValidCsrfToken } from './session.js';
import { checkPassword, regenerateSession, startSession, type SignInDeps } from './sign-in.js';

/**
 * Experts act from the email (issue 15, point 4). The link in a review invitation or reminder
 * (`/review/assignment/<token>`, activities/review.links.ts) signs the browser in as the expert's account for
 * the assignments of that email only: a session whose principal carries `assignmentLink`, so the API answers it
 * only on those assignments' routes (view the material, accept or decline, save scores; `linkScope` in
 * api/route.ts) and 403 ASSIGNMENT_LINK_ONLY elsewhere. The link is good any number of times until it expires
 * (domain/review/links.ts); the session ends with it.
 *
 * An expired link shows a password form (email and password, counted by the sign-in limits): the expert signs
 * in fully and goes on to the assignments. A revoked or unknown link, an expert without an account or with a
 * disabled one, is a zh-CN page that says what to do or whom to contact. Every use and refusal is audited
 * (`review.link_used`, `review.link_refused`, with the link's row id).
 */

export interface AssignmentLinkPageDeps extends SignInDeps {
  /** Limits failed password attempts (the expired link's form counts with the sign-in page). */
  signInLimits: SignInLimits;
  /** Whom an expert without a usable account contacts (NOTICE_CONTACT_NAME, NOTICE_CONTACT_PHONE). */
  letterhead: Letterhead;
}

/** The page the link leads to once the session is open: the expert's assignments (the link's only). */
export const ASSIGNMENTS_PAGE = '/review/assignments';

/** The fields of the expired link's password form, with their zh-CN labels. */
const LINK_FORM_FIELDS = { _csrf: '安全令牌', email: '电子邮箱', password: '密码' } as const;

function show(res: Response, status: number, title: string, body: string): void {
  // The page's URL holds the token: no Referer carries it to another site.
  res.setHeader('Referrer-Policy', 'no-referrer');
  showPage(res, status, title, body);
}

export function assignmentLinkPages(deps: AssignmentLinkPageDeps): Router {
  const router = Router();
  const { db, clock } = deps;
  const contact = `${deps.letterhead.contactName}（电话 ${deps.letterhead.contactPhone}）`;

  const audit = async (
    req: Request,
    action: 'review.link_used' | 'review.link_refused',
    link: AssignmentLink | undefined,
    fields: { account?: Account | undefined; reason?: string; details?: Record<string, unknown> },
  ) => {
    const principal = fields.account ? principalOfAccount(fields.account, 'session') : undefined;
    await recordAudit(db, {
      actor: principal?.actor ?? 'public',
      role: principal?.role ?? 'public',
      action,
      subjectKind: 'assignment_link',
      // The link's row id, never its token; an unknown token by a prefix of its hash.
      subjectId: link ? link.id : `unknown:${tokenHash(String(req.params.token)).slice(0, 16)}`,
      reason: fields.reason,
      details: { ...(link ? { expertId: link.expertId, assignmentIds: link.assignmentIds } : {}), ...fields.details },
      requestId: requestIdOf(req),
    });
  };

  /** The expired link's page: sign in with the password, then on to the assignments. */
  const passwordForm = (req: Request, link: AssignmentLink, problems: string[] = [], email = '') =>
    `${errorBox(problems)}
<p>该评审任务链接已于 ${escape(formatInstantZh(link.expiresAt))}（北京时间）过期。请以您的评审专家账号的电子邮箱和密码登录，登录后即可查看您的评审任务。</p>
<form method="post">
  ${csrfField(req)}
  <label for="email">电子邮箱</label><input type="email" id="email" name="email" autocomplete="username" required value="${escape(email)}">
  <label for="password">密码</label><input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit">登录</button>
</form>
<p><a href="/account/reset">忘记密码？</a> 如尚未设置密码，请联系 ${escape(contact)}。</p>`;

  /** A link that cannot sign anyone in: why, and what to do. */
  const refused = async (
    req: Request,
    res: Response,
    status: number,
    link: AssignmentLink | undefined,
    why: string,
    next: string,
    account?: Account,
  ) => {
    await audit(req, 'review.link_refused', link, { account, reason: why });
    show(res, status, '评审任务链接无法使用', `${errorBox([why])}<p>${next}</p>`);
  };

  /** The link named by the path, its expert's account, or why it signs no one in (the page answered). */
  const resolve = async (
    req: Request,
    res: Response,
  ): Promise<{ link: AssignmentLink; account: Account; expired: boolean } | undefined> => {
    const link = await findAssignmentLinkByHash(db, tokenHash(String(req.params.token)));
    if (!link) {
      await refused(req, res, 404, undefined, '链接无效', '请核对邮件中的完整链接（整行复制到浏览器地址栏）。');
      return undefined;
    }
    if (link.revokedAt) {
      await refused(
        req,
        res,
        410,
        link,
        '该评审任务链接已被撤销',
        `请在 <a href="/account/sign-in">登录页</a> 以电子邮箱和密码登录；如有疑问请联系 ${escape(contact)}。`,
      );
      return undefined;
    }
    const accountId = await accountOfExpert(db, link.expertId);
    const account = accountId ? await findAccount(db, accountId) : undefined;
    if (!account) {
      await refused(
        req,
        res,
        403,
        link,
        '您在专家库中尚无 ronghe 系统账号，无法通过链接登录',
        `请联系 ${escape(contact)}，由管理服务中心为您开通评审专家账号。`,
      );
      return undefined;
    }
    if (account.disabledAt) {
      await refused(req, res, 403, link, '您的评审专家账号已停用', `如有疑问请联系 ${escape(contact)}。`, account);
      return undefined;
    }
    return { link, account, expired: link.expiresAt.getTime() <= clock().getTime() };
  };

  router.get('/review/assignment/:token', async (req, res, next) => {
    try {
      const found = await resolve(req, res);
      if (!found) return;
      const { link, account, expired } = found;
      if (expired) {
        await audit(req, 'review.link_refused', link, { account, reason: '链接已过期，已请求输入密码' });
        return show(res, 410, '评审任务链接已过期', passwordForm(req, link));
      }
      // A browser already signed in fully as this expert keeps its session (a link never narrows it).
      const principal = req.principal;
      if (!(principal?.via === 'session' && principal.accountId === account.id && !principal.assignmentLink)) {
        await regenerateSession(req);
        req.session.account = {
          id: account.id,
          epoch: account.credentialsEpoch,
          signedInAt: clock().getTime(),
          link: { id: link.id, assignmentIds: link.assignmentIds, expiresAt: link.expiresAt.getTime() },
        };
        await recordSignIn(db, account.id, clock());
      }
      await noteAssignmentLinkUse(db, link.id, clock());
      await audit(req, 'review.link_used', link, { account, details: { ip: req.ip ?? null } });
      res.redirect(303, ASSIGNMENTS_PAGE);
    } catch (err) {
      next(err);
    }
  });

  const formPage = async (req: Request, res: Response, status: number, problems: string[]) => {
    const found = await resolve(req, res);
    if (!found) return;
    const email =
      typeof (req.body as { email?: unknown })?.email === 'string' ? (req.body as { email: string }).email : '';
    show(res, status, '评审任务链接已过期', passwordForm(req, found.link, problems, email));
  };

  const rawBody = formBody('16kb');
  const pageErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const { problem } = problemFor(err, req);
    const problems =
      problem.detail && problem.detail !== problem.title ? [problem.title, problem.detail] : [problem.title];
    formPage(req, res, problem.status, problems).catch(next);
  };
  const read: RequestHandler = async (req, res, next) => {
    try {
      const { values, refusal } = await readForm(req, LINK_FORM_FIELDS);
      req.body = values;
      if (refusal) return await formPage(req, res, refusal.status, refusal.problems);
      next();
    } catch (err) {
      next(err);
    }
  };
  const signIn: RequestHandler = async (req, res, next) => {
    try {
      const body = req.body as { email?: string; password?: string };
      if (!hasValidCsrfToken(req)) {
        return await formPage(req, res, 403, ['页面已过期：表单缺少有效的安全令牌（CSRF），请重新提交。']);
      }
      const found = await resolve(req, res);
      if (!found) return;
      let account: Account;
      try {
        account = await checkPassword(deps, req, body.email, body.password);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return show(
          res,
          err.status,
          '评审任务链接已过期',
          passwordForm(req, found.link, [err.detail ?? err.title], body.email ?? ''),
        );
      }
      if (account.id !== found.account.id) {
        await audit(req, 'review.link_refused', found.link, { account, reason: '登录的账号不是该链接所属的专家' });
        return show(
          res,
          403,
          '评审任务链接已过期',
          passwordForm(req, found.link, ['该链接属于另一位评审专家，请以收到该邮件的专家本人的账号登录'], ''),
        );
      }
      await startSession(deps, req, account);
      res.redirect(303, ASSIGNMENTS_PAGE);
    } catch (err) {
      next(err);
    }
  };
  router.post('/review/assignment/:token', rawBody, read, signIn, pageErrors);

  router.get(ASSIGNMENTS_PAGE, async (req, res, next) => {
    try {
      const principal = req.principal;
      if (principal?.via !== 'session' || principal.role !== 'expert') {
        return show(
          res,
          401,
          '我的评审任务',
          '<p>请使用评审邀请或提醒邮件中的链接打开本页，或<a href="/account/sign-in">以评审专家账号登录</a>。</p>',
        );
      }
      const scope = principal.assignmentLink?.assignmentIds;
      const all = await expertAssignments(db, principal.expertId!);
      const items = scope ? all.filter((a) => scope.includes(a.assignmentId)) : all;
      const statusZh: Record<string, string> = {
        invited: '待接受',
        accepted: '已接受',
        declined: '已谢绝',
        timed_out: '已逾期',
        submitted: '已提交评分',
      };
      const rows = items
        .map(
          (a) =>
            `<tr data-assignment-id="${escape(a.assignmentId)}"><td>${escape(a.title)}</td><td>${escape(a.institutionName)}</td><td>${escape(formatInstantZh(a.dueAt))}</td><td>${escape(statusZh[a.status] ?? a.status)}</td><td><code>${escape(a.assignmentId)}</code></td></tr>`,
        )
        .join('');
      const scoped = scope
        ? '<p class="notice">您通过邮件中的链接登录，本次登录仅可处理下列评审任务。处理其他任务请退出后以电子邮箱和密码登录。</p>'
        : '';
      show(
        res,
        200,
        '我的评审任务',
        `${scoped}<table><thead><tr><th>评审对象</th><th>单位</th><th>截止时间</th><th>状态</th><th>任务编号</th></tr></thead><tbody>${rows}</tbody></table>
<p>查看评审材料：GET /api/assignments/&lt;任务编号&gt;；接受：POST /api/assignments/&lt;任务编号&gt;/accept；谢绝：POST /api/assignments/&lt;任务编号&gt;/decline；提交评分：PUT /api/assignments/&lt;任务编号&gt;/review（写操作请在请求头 X-CSRF-Token 中附上 <a href="/api/session">/api/session</a> 返回的 csrfToken）。接口说明见 <a href="/docs">/docs</a>。</p>
<form method="post" action="/account/sign-out">${csrfField(req)}<button type="submit">退出登录</button></form>`,
      );
    } catch (err) {
      next(err);
    }
  });

  return router;
}
