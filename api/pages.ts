import { randomUUID } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { findPublicity, roundOutcome } from '../db/repositories/publicity.js';
import { formatDayZh, formatInstantZh } from '../domain/calendar/index.js';
import { AppError, fromTemporalError } from './errors.js';
import { verifyFormEncoding } from './json.js';
import { fileObjection, type ObjectionIntakeDeps } from './publicity.objections.js';
import { requestIdOf } from './request.js';
import { findShowcase } from '../db/repositories/showcase.js';
import { selectedCases } from '../db/repositories/showcase.views.js';

/** Public zh-CN pages: the publicity list with its objection form, and the 认定 result. */

function escape(text: string): string {
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
  form input[type=text], form input[type=email], form input[type=tel], form select, form textarea { width: 100%; padding: .4rem; box-sizing: border-box; }
  button { margin-top: 1rem; padding: .5rem 1.5rem; background: #b71c1c; color: #fff; border: 0; cursor: pointer; }
`;

function page(title: string, body: string): string {
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

function send(res: Response, status: number, html: string): void {
  res.status(status).type('text/html; charset=utf-8').send(html);
}

export function publicPages(deps: ObjectionIntakeDeps): Router {
  const router = Router();
  const { db } = deps;

  const publicityPage = async (publicityId: string, message = '') => {
    const p = /^[0-9a-f-]{36}$/i.test(publicityId) ? await findPublicity(db, publicityId) : undefined;
    if (!p) return undefined;
    const listed = p.entries.filter((e) => e.status === 'listed');
    const open = p.status === 'open' && deps.clock().getTime() <= p.endsAt.getTime();
    const rows = p.entries
      .map(
        (e, i) =>
          `<tr class="${e.status === 'removed' ? 'removed' : ''}"><td>${i + 1}</td><td>${escape(e.institutionName)}</td><td>${escape(e.title)}</td><td>${e.status === 'removed' ? '经异议核查撤出' : escape(e.result ?? '公示中')}</td></tr>`,
      )
      .join('\n');
    const form = open
      ? `<h2>提出异议</h2>
<p>对公示名单有异议的，请在公示期内实名提出，写明事实与理由；以单位名义提出的，请注明单位。匿名或逾期提出的异议不予受理。</p>${
          p.subjectKind === 'removal' ? '\n<p class="notice">对移出名录的公示，仅受理以程序问题为由的申诉。</p>' : ''
        }
<form method="post" action="/publicity/${p.publicityId}/objection">
  <input type="hidden" name="idempotencyKey" value="${randomUUID()}">${
    p.subjectKind === 'removal' ? '\n  <input type="hidden" name="grounds" value="procedural">' : ''
  }
  <label for="entryId">异议所涉项目</label>
  <select id="entryId" name="entryId"><option value="">整份名单</option>${listed.map((e) => `<option value="${e.entryId}">${escape(e.institutionName)}：${escape(e.title)}</option>`).join('')}</select>
  <label for="name">姓名（必填）</label><input type="text" id="name" name="name" required maxlength="40">
  <label for="unit">工作单位（必填）</label><input type="text" id="unit" name="unit" required maxlength="100">
  <label><input type="checkbox" name="onBehalfOfUnit" value="true"> 以单位名义提出</label>
  <label for="phone">联系电话（必填）</label><input type="tel" id="phone" name="phone" required maxlength="20">
  <label for="email">电子邮箱（必填）</label><input type="email" id="email" name="email" required maxlength="100">
  <label for="facts">事实与理由（必填）</label><textarea id="facts" name="facts" rows="6" required minlength="10" maxlength="5000"></textarea>
  <label for="evidence">证据材料（选填，每行一项，可填链接或说明）</label><textarea id="evidence" name="evidence" rows="3"></textarea>
  <button type="submit">提交异议</button>
</form>`
      : '<p class="notice">公示期已结束，不再受理异议。</p>';
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

  router.post(
    '/publicity/:publicityId/objection',
    express.urlencoded({ extended: false, limit: '64kb', verify: verifyFormEncoding }),
    async (req, res) => {
      const form = req.body as Record<string, string | undefined>;
      try {
        const result = await fileObjection(
          deps,
          req.params.publicityId,
          {
            entryId: form.entryId || undefined,
            name: form.name,
            unit: form.unit,
            phone: form.phone,
            email: form.email,
            onBehalfOfUnit: form.onBehalfOfUnit === 'true',
            facts: form.facts,
            ...(form.grounds === 'procedural' || form.grounds === 'substantive' ? { grounds: form.grounds } : {}),
            evidence: (form.evidence ?? '')
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean),
          },
          { clientIp: req.ip ?? 'unknown', formKey: form.idempotencyKey, requestId: requestIdOf(req) },
        );
        const html = await publicityPage(
          req.params.publicityId,
          `<p class="ok">异议已受理（编号 ${result.objectionId}，接收时间 ${formatInstantZh(new Date(result.receivedAt))}）。处理结果将发送至您填写的电子邮箱。</p>`,
        );
        send(res, 201, html!);
      } catch (err) {
        const problem = err instanceof AppError ? err : fromTemporalError(err);
        if (!problem) throw err;
        const message = `<p class="error">${escape(problem.title)}：${escape(problem.detail ?? '')}</p>`;
        const html = await publicityPage(req.params.publicityId, message);
        send(res, problem.status, html ?? page(problem.title, `<h1>${escape(problem.title)}</h1>${message}`));
      }
    },
  );

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
