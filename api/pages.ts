import { randomUUID } from 'node:crypto';
import { UUID_PATTERN } from './schemas.js';
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { findPublicity, roundOutcome } from '../db/repositories/publicity.js';
import { formatDayZh, formatInstantZh } from '../domain/calendar/index.js';
import { AppError, problemFor, RETRY_AFTER_SECONDS, type Problem } from './errors.js';
import { fileObjection, type ObjectionIntakeDeps } from './publicity.objections.js';
import { csrfTokenOf } from './session.js';
import { findShowcase } from '../db/repositories/showcase.js';
import { selectedCases } from '../db/repositories/showcase.views.js';
import { formBody, OBJECTION_FIELDS, readForm, type TypedForm } from './pages.forms.js';

/**
 * Public zh-CN pages: the publicity list with its objection form, the 认定 result and the showcase. A post to the
 * form is always answered with a page (4xx saying what to fix, the form re-filled with what was typed).
 */

/** Text made safe for HTML (element content and quoted attributes). */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; max-width: 960px; margin: 2rem auto; padding: 0 1rem; color: #1f2933; line-height: 1.6; }
  h1 { font-size: 1.5rem; border-bottom: 2px solid #b71c1c; padding-bottom: .5rem; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  th, td { border: 1px solid #cbd2d9; padding: .4rem .6rem; text-align: left; }
  th { background: #f5f7fa; }
  .removed { color: #9aa5b1; text-decoration: line-through; }
  .notice { background: #fff8e1; border-left: 4px solid #f9a825; padding: .6rem 1rem; }
  .ok { background: #e8f5e9; border-left: 4px solid #2e7d32; padding: .6rem 1rem; }
  .error { background: #ffebee; border-left: 4px solid #c62828; padding: .6rem 1rem; }
  form label { display: block; margin: .6rem 0 .2rem; }
  form input[type=text], form input[type=email], form input[type=tel], form input[type=password], form select, form textarea { width: 100%; padding: .4rem; box-sizing: border-box; }
  button { margin-top: 1rem; padding: .5rem 1.5rem; background: #b71c1c; color: #fff; border: 0; cursor: pointer; }
`;

/** A whole zh-CN page: the letterhead header, `body` (HTML) and the footer. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><style>${STYLE}</style></head>
<body>
<header><small>河南省教育厅 · 河南省高等教育学会产教融合管理服务中心</small></header>
${body}
<footer><p><small>本页面由 ronghe 系统生成。</small></p></footer>
</body>
</html>`;
}

/** Sends a page with its status. */
export function send(res: Response, status: number, html: string): void {
  res.status(status).type('text/html; charset=utf-8').send(html);
}

/**
 * Sends a page headed by its title that no cache keeps (`Cache-Control: no-store`): the account and sign-in
 * pages, which carry a session's CSRF token or a person's details.
 */
export function showPage(res: Response, status: number, title: string, body: string): void {
  res.setHeader('Cache-Control', 'no-store');
  send(res, status, page(title, `<h1>${escape(title)}</h1>${body}`));
}

/** The problems (zh-CN) in the pages' error box; nothing when there are none. */
export function errorBox(problems: string[]): string {
  return problems.length ? `<div class="error">${problems.map((p) => `<p>${escape(p)}</p>`).join('')}</div>` : '';
}

/** The hidden field that carries the session's CSRF token in a form (`_csrf`, read by api/session.ts). */
export function csrfField(req: Request): string {
  return `<input type="hidden" name="_csrf" value="${escape(csrfTokenOf(req))}">`;
}

/** What a person can do about a page's error, by its status. */
function whatToDo(problem: Problem): string {
  const { status, code } = problem;
  if (code === 'INVALID_ENCODING') {
    return '网址中含有无法识别的字符（网址应为 UTF-8 编码）。请从本系统的页面、公示公告或通知邮件中的链接重新打开，不要手工修改网址。';
  }
  if (status === 404) return '请核对网址，或从本系统的页面、公示公告或通知邮件中的链接重新打开。';
  if (status === 401) return '请先登录后再打开本页面。';
  if (status === 403) return '当前账号无权查看本页面；如需查看，请联系管理服务中心。';
  if (status === 429) return '请求过于频繁，请稍后再试。';
  if (status >= 500) return '系统暂时无法处理，请稍后刷新本页面重试；如仍不能打开，请联系管理服务中心。';
  return '请核对网址或所填内容后重试。';
}

/**
 * The page answering an error on a page's path (api/errors.ts `errorHandler`; everything outside `/api/` and
 * `/openapi.json`): the problem's zh-CN title as heading, its detail, what to do (`whatToDo`), the request id to
 * quote when asking the centre, a link to sign in on 401; the problem's status, never problem+json. Not cached.
 */
export function errorPage(res: Response, problem: Problem): void {
  const detail = problem.detail && problem.detail !== problem.title ? `<p>${escape(problem.detail)}</p>` : '';
  const signIn = problem.status === 401 ? '<p><a href="/account/sign-in">登录</a></p>' : '';
  const reference = problem.requestId
    ? `<p><small>如需联系管理服务中心，请提供请求编号：<code>${escape(problem.requestId)}</code></small></p>`
    : '';
  showPage(
    res,
    problem.status,
    problem.title,
    `<div class="error">${detail}<p>${escape(whatToDo(problem))}</p></div>${signIn}${reference}`,
  );
}

/**
 * The most a post to a public form may carry: the objection form at its longest (5,000 characters of facts and
 * of evidence, each CJK character 9 bytes once %-escaped) fits well within it.
 */
const FORM_BODY_LIMIT = '256kb';

/** The checkbox as browsers send it (`value="true"`, or `on` for a box without a value). */
function isChecked(value: string | undefined): boolean {
  return value === 'true' || value === 'on';
}

/** What the person sent, to copy, where no form can take it again (an unknown or closed publicity). */
function typedCopy(typed: TypedForm): string {
  const rows = (Object.keys(OBJECTION_FIELDS) as (keyof typeof OBJECTION_FIELDS)[])
    .filter((f) => f !== 'idempotencyKey' && f !== 'grounds' && typed[f])
    .map((f) => `<dt>${OBJECTION_FIELDS[f]}</dt><dd><pre>${escape(typed[f]!)}</pre></dd>`);
  return rows.length ? `<h2>您填写的内容</h2><p>请复制保存：</p><dl>${rows.join('')}</dl>` : '';
}

export function publicPages(deps: ObjectionIntakeDeps): Router {
  const router = Router();
  const { db } = deps;

  /**
   * The publicity page; `message` (HTML) above the list; `typed` re-fills the objection form with what the
   * person sent (escaped), or, when the period is over, shows it to copy. `undefined` for an unknown publicity.
   */
  const publicityPage = async (publicityId: string, message = '', typed?: TypedForm, options = { form: true }) => {
    const p = UUID_PATTERN.test(publicityId) ? await findPublicity(db, publicityId) : undefined;
    if (!p) return undefined;
    const listed = p.entries.filter((e) => e.status === 'listed');
    const open = p.status === 'open' && deps.clock().getTime() <= p.endsAt.getTime();
    const rows = p.entries
      .map(
        (e, i) =>
          `<tr class="${e.status === 'removed' ? 'removed' : ''}"><td>${i + 1}</td><td>${escape(e.institutionName)}</td><td>${escape(e.title)}</td><td>${e.status === 'removed' ? '经异议核查撤出' : escape(e.result ?? '公示中')}</td></tr>`,
      )
      .join('\n');
    const v = typed ?? {};
    const value = (field: keyof TypedForm) => escape(v[field] ?? '');
    // A refused form keeps its key, so sending the corrected form twice is still one objection.
    const formKey = v.idempotencyKey && UUID_PATTERN.test(v.idempotencyKey) ? v.idempotencyKey : randomUUID();
    const form = !options.form
      ? ''
      : open
        ? `<h2>提出异议</h2>
<p>对公示名单有异议的，请在公示期内实名提出，写明事实与理由；以单位名义提出的，请注明单位。匿名或逾期提出的异议不予受理。</p>${
            p.subjectKind === 'removal' ? '\n<p class="notice">对移出名录的公示，仅受理以程序问题为由的申诉。</p>' : ''
          }
<form method="post" action="/publicity/${p.publicityId}/objection">
  <input type="hidden" name="idempotencyKey" value="${formKey}">${
    p.subjectKind === 'removal' ? '\n  <input type="hidden" name="grounds" value="procedural">' : ''
  }
  <label for="entryId">异议所涉项目</label>
  <select id="entryId" name="entryId"><option value="">整份名单</option>${listed.map((e) => `<option value="${e.entryId}"${v.entryId === e.entryId ? ' selected' : ''}>${escape(e.institutionName)}：${escape(e.title)}</option>`).join('')}</select>
  <label for="name">姓名（必填）</label><input type="text" id="name" name="name" required maxlength="40" value="${value('name')}">
  <label for="unit">工作单位（必填）</label><input type="text" id="unit" name="unit" required maxlength="100" value="${value('unit')}">
  <label><input type="checkbox" name="onBehalfOfUnit" value="true"${isChecked(v.onBehalfOfUnit) ? ' checked' : ''}> 以单位名义提出</label>
  <label for="phone">联系电话（必填）</label><input type="tel" id="phone" name="phone" required maxlength="20" value="${value('phone')}">
  <label for="email">电子邮箱（必填）</label><input type="email" id="email" name="email" required maxlength="100" value="${value('email')}">
  <label for="facts">事实与理由（必填）</label><textarea id="facts" name="facts" rows="6" required minlength="10" maxlength="5000">${value('facts')}</textarea>
  <label for="evidence">证据材料（选填，每行一项，至多 10 项，可填链接或说明）</label><textarea id="evidence" name="evidence" rows="3" maxlength="5000">${value('evidence')}</textarea>
  <button type="submit">提交异议</button>
</form>`
        : `<p class="notice">公示期已结束，不再受理异议。</p>${typedCopy(v)}`;
    return page(
      p.title,
      `<h1>${escape(p.title)}</h1>
${message}
<p>公示期：${formatDayZh(p.firstDay)}至${formatInstantZh(p.endsAt)}（${p.workingDays}个工作日${p.estimated ? '，按预计节假日安排计算' : ''}）。</p>
<table><thead><tr><th>序号</th><th>单位</th><th>项目名称</th><th>状态</th></tr></thead><tbody>
${rows}
</tbody></table>
${form}`,
    );
  };

  router.get('/publicity/:publicityId', async (req, res) => {
    const html = await publicityPage(req.params.publicityId);
    if (!html) return send(res, 404, page('未找到该公示', '<h1>未找到该公示</h1>'));
    send(res, 200, html);
  });

  /** Answers a post to the objection form that could not be filed: a page saying why, keeping what was typed. */
  const refusalPage = async (req: Request, res: Response, status: number, problems: string[], typed: TypedForm) => {
    const message = `<div class="error"><p>${problems.length > 1 ? '提交未成功，请修改以下内容后重新提交：' : '提交未成功：'}</p><ul>${problems
      .map((m) => `<li>${escape(m)}</li>`)
      .join('')}</ul></div>`;
    let html: string | undefined;
    try {
      html = await publicityPage(String(req.params.publicityId), message, typed);
    } catch (err) {
      req.log?.error({ err }, 'publicity page failed');
    }
    const title = status === 404 ? '未找到该公示' : '提交未成功';
    send(res, status, html ?? page(title, `<h1>${title}</h1>${message}${typedCopy(typed)}`));
  };

  // After an answer the browser's address is the form's action: reloading it by GET goes back to the page.
  router.get('/publicity/:publicityId/objection', (req, res) => {
    res.redirect(303, `/publicity/${encodeURIComponent(req.params.publicityId)}`);
  });

  router.post(
    '/publicity/:publicityId/objection',
    // Any body, read here: the page answers every shape of post with a page (see api/pages.forms.ts).
    formBody(FORM_BODY_LIMIT),
    async (req, res) => {
      const { values, refusal } = await readForm(req, OBJECTION_FIELDS);
      if (refusal) return refusalPage(req, res, refusal.status, refusal.problems, values);
      const publicityId = req.params.publicityId;
      try {
        const p = UUID_PATTERN.test(publicityId) ? await findPublicity(db, publicityId) : undefined;
        if (!p) return await refusalPage(req, res, 404, ['未找到该公示，请核对网址'], values);
        const listed = p.entries.filter((e) => e.status === 'listed').map((e) => e.entryId);
        if (values.entryId && !listed.includes(values.entryId)) {
          return await refusalPage(req, res, 422, ['所选的异议所涉项目不在公示名单中，请重新选择'], values);
        }
        if (values.grounds && values.grounds !== 'procedural' && values.grounds !== 'substantive') {
          return await refusalPage(req, res, 422, ['异议理由的性质无效，请刷新页面后重新填写'], values);
        }
        const result = await fileObjection(
          deps,
          publicityId,
          {
            entryId: values.entryId || undefined,
            name: values.name,
            unit: values.unit,
            phone: values.phone,
            email: values.email,
            onBehalfOfUnit: isChecked(values.onBehalfOfUnit),
            facts: values.facts,
            ...(values.grounds === 'procedural' || values.grounds === 'substantive' ? { grounds: values.grounds } : {}),
            evidence: (values.evidence ?? '')
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean),
          },
          { http: { req, res }, formKey: values.idempotencyKey },
        );
        const html = await publicityPage(
          publicityId,
          `<p class="ok">异议已受理（编号 ${result.objectionId}，接收时间 ${formatInstantZh(new Date(result.receivedAt))}）。处理结果将发送至您填写的电子邮箱。</p>`,
        );
        send(res, 201, html!);
      } catch (err) {
        if (err instanceof AppError && err.code === 'RECEIPT_KEPT') {
          // Kept, and judged later by its receipt time: say so with the receipt id, and offer no form to send again.
          const receiptId = typeof err.extra.receiptId === 'string' ? err.extra.receiptId : '';
          const kept = `<div class="notice"><p>${escape(err.detail ?? err.title)}。</p><p>回执编号：<code>${escape(receiptId)}</code>。处理结果可凭回执编号<a href="/api/receipts/${encodeURIComponent(receiptId)}">查询</a>；未能受理的，将发送邮件告知您填写的电子邮箱。</p></div>`;
          const html = await publicityPage(publicityId, kept, undefined, { form: false });
          return send(res, 202, html ?? page(err.title, `<h1>${escape(err.title)}</h1>${kept}`));
        }
        const { problem, known } = problemFor(err, req);
        if (!known || problem.status >= 500) req.log?.error({ err }, 'objection form failed');
        if (problem.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        const detail = problem.detail && problem.detail !== publicityId ? problem.detail : undefined;
        // A checker's detail lists each problem (separated by '；'); ours (5xx) adds the title: try again later.
        const problems = !detail
          ? [problem.title]
          : problem.status >= 500
            ? [`${problem.title}（${detail}）`]
            : detail.split('；');
        await refusalPage(req, res, problem.status, problems, values);
      }
    },
  );

  // What the body reader refuses before the handler runs (too large, cut short, wrongly compressed).
  const formBodyErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (req.method !== 'POST' || res.headersSent) return next(err);
    const { problem } = problemFor(err, req);
    const why =
      problem.code === 'PAYLOAD_TOO_LARGE'
        ? `提交的内容过长（不超过 ${FORM_BODY_LIMIT}），请精简事实与理由或证据材料后重新提交`
        : problem.code === 'UNSUPPORTED_MEDIA_TYPE'
          ? '不支持该内容编码，请在本页面填写后提交'
          : problem.code === 'BODY_UNREADABLE'
            ? '提交未完整收到，请重新提交'
            : problem.title;
    void refusalPage(req, res, problem.status, [why], {});
  };
  router.use('/publicity/:publicityId/objection', formBodyErrors);

  router.get('/rounds/:roundId/outcome', async (req, res) => {
    const outcome = await roundOutcome(db, req.params.roundId);
    if (!outcome) return send(res, 404, page('未找到该申报批次', '<h1>未找到该申报批次</h1>'));
    const title = `${outcome.title}认定结果`;
    const body =
      outcome.status === 'approved'
        ? `<p>经专家评审和公示，以下 ${outcome.approved.length} 项认定为${escape(outcome.programme)}（${formatInstantZh(outcome.approvedAt!)}）。</p>
<table><thead><tr><th>序号</th><th>单位</th><th>项目名称</th></tr></thead><tbody>
${outcome.approved.map((a, i) => `<tr><td>${i + 1}</td><td>${escape(a.institutionName)}</td><td>${escape(a.title)}</td></tr>`).join('\n')}
</tbody></table>`
        : '<p class="notice">该批次尚未认定。</p>';
    send(res, 200, page(title, `<h1>${escape(title)}</h1>${body}`));
  });

  // The published showcase: the selected cases grouped by industry, then programme; searchable.
  router.get('/showcases/:showcaseId', async (req, res) => {
    const showcase = /^showcase-\d{4}$/.test(req.params.showcaseId)
      ? await findShowcase(db, req.params.showcaseId)
      : undefined;
    if (!showcase) return send(res, 404, page('未找到该年度成果推广', '<h1>未找到该年度成果推广</h1>'));
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    const cases = await selectedCases(db, showcase.id, q);
    const groups = new Map<string, Map<string, typeof cases>>();
    for (const c of cases) {
      const industry = c.industryName ?? '其他产业';
      const byProgramme = groups.get(industry) ?? new Map<string, typeof cases>();
      byProgramme.set(c.programmeName, [...(byProgramme.get(c.programmeName) ?? []), c]);
      groups.set(industry, byProgramme);
    }
    const sections = [...groups]
      .map(
        ([industry, byProgramme]) =>
          `<section><h2>${escape(industry)}</h2>${[...byProgramme]
            .map(
              ([programme, list]) =>
                `<h3>${escape(programme)}</h3>${list
                  .map(
                    (c) =>
                      `<article class="case"><h4>${escape(c.title)}</h4><p><small>${escape(c.institutionName)}</small></p><p>${escape(c.summary)}</p></article>`,
                  )
                  .join('\n')}`,
            )
            .join('\n')}</section>`,
      )
      .join('\n');
    const title = `${showcase.titleZh}成果展示`;
    const base = `/api/showcases/${showcase.id}/cases`;
    const body =
      showcase.status !== 'published'
        ? '<p class="notice">入选案例尚未公布。</p>'
        : `<p>经专家评审和公示，共 ${cases.length} 个案例${q ? `符合“${escape(q)}”` : '入选'}（${formatInstantZh(showcase.publishedAt!)}公布）。</p>
<form method="get" action="/showcases/${showcase.id}"><label for="q">检索案例</label><input type="text" id="q" name="q" value="${escape(q)}" placeholder="案例名称、单位、产业……"><button type="submit">检索</button></form>
<p>下载：<a href="${base}?format=xlsx">Excel（XLSX）</a> · <a href="${base}?format=csv">CSV</a> · <a href="${base}">JSON</a></p>
${cases.length > 0 ? sections : '<p class="notice">没有符合条件的案例。</p>'}`;
    send(res, 200, page(title, `<h1>${escape(title)}</h1>${body}`));
  });

  return router;
}
