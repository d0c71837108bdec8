import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRound } from '../../db/repositories/round.js';
import type { PublicityWorkflow } from '../../workflows/publicity.messages.js';
import { chromiumArgs, chromiumPath, hasChromium, skipBrowserTests } from '../support/browser.js';
import { startTestStack, TEST_TASK_QUEUE, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * The public publicity page as a person meets it, in real Chromium: the list in zh-CN, and an objection
 * filed through the page's form. Then the rate limit on the public objection intake.
 */
const ROUND = 'round-demo_college-2027';
let stack: TestStack;
let browser: Browser | undefined;
let publicityId: string;

if (skipBrowserTests) {
  console.warn(
    `public page test skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH); under CI this fails instead.`,
  );
}

beforeAll(async () => {
  stack = await startTestStack({ env: { OBJECTION_RATE_LIMIT: '5' } });
  await insertRound(stack.database.db, {
    id: ROUND,
    programme: 'demo_college',
    year: 2027,
    titleZh: '2027年度产教融合示范学院申报',
    opensAt: new Date('2026-11-01T01:00:00Z'),
    launchedBy: 'staff:test',
  });
  await stack.database.db('applications').insert(
    [
      ['zzu-cs', '计算机与人工智能学院示范学院建设'],
      ['hpu-energy', '能源科学与工程学院示范学院建设'],
    ].map(([institution, title]) => ({
      round_id: ROUND,
      institution_id: institution,
      status: 'shortlisted',
      title_zh: title,
      field_key: 'next_gen_it',
      draft: '{}',
    })),
  );
  // A period in real time: five working days from today.
  await stack.client.workflow.start<PublicityWorkflow>('publicityWorkflow', {
    workflowId: `publicity-${ROUND}`,
    taskQueue: TEST_TASK_QUEUE,
    args: [{ subjectKind: 'round', subjectId: ROUND, programme: 'demo_college', year: 2027 }],
  });
  publicityId = await eventually(async () => {
    const r = await stack.request<{ items: { publicityId: string }[] }>('GET', `/api/rounds/${ROUND}/publicity`);
    return r.body.items[0]?.publicityId;
  });
  if (hasChromium || process.env.CI) {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the public publicity page', () => {
  it.skipIf(skipBrowserTests)(
    'shows the list in zh-CN and takes an objection through its form, once when the form is sent twice (real Chromium)',
    async () => {
      const page = await browser!.newPage();
      await page.goto(`${stack.api.url}/publicity/${publicityId}`);
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await page.textContent('h1')).toBe('2027年度产教融合示范学院申报拟认定名单公示');
      const rows = await page.locator('tbody tr').allTextContents();
      expect(rows).toHaveLength(2);
      expect(rows.join()).toContain('郑州大学计算机与人工智能学院');
      expect(await page.textContent('body')).toContain('个工作日');

      await page.selectOption('#entryId', { index: 1 });
      await page.fill('#name', '王建华');
      await page.fill('#unit', '河南省某科技企业');
      await page.fill('#phone', '13800138000');
      await page.fill('#email', 'wang.jianhua@objector.example');
      await page.fill('#facts', '该学院申报材料中列出的合作企业与实际合作情况不符，请核查。');
      const formKey = await page.getAttribute('input[name=idempotencyKey]', 'value');
      const filled = Object.fromEntries(
        await Promise.all(
          ['entryId', 'name', 'unit', 'phone', 'email', 'facts'].map(
            async (n) => [n, await page.inputValue(`#${n}`)] as const,
          ),
        ),
      );
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      const accepted = await page.textContent('.ok');
      expect(accepted).toContain('异议已受理');

      // The browser sends the same form again (a reload after the answer, or a double click): the same request,
      // answered with the same objection and its first receipt time; nothing filed twice.
      const resent = await fetch(`${stack.api.url}/publicity/${publicityId}/objection`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...filled, idempotencyKey: formKey! }).toString(),
      });
      expect(resent.status).toBe(201);
      const again = /<p class="ok">([^<]*)<\/p>/.exec(await resent.text())?.[1];
      expect(again).toBe(accepted);

      const rowsInDb = await stack.database.db('objections').where({ publicity_id: publicityId });
      expect(rowsInDb).toHaveLength(1);
      expect(rowsInDb[0]).toMatchObject({
        objector_name: '王建华',
        objector_unit: '河南省某科技企业',
        status: 'pending',
      });
      await page.close();
    },
  );

  it('limits how many objections one client files (429 RATE_LIMITED)', async () => {
    const body = {
      name: '赵敏',
      unit: '某大学',
      phone: '13900139000',
      email: 'zhao@objector.example',
      facts: '对公示名单中的项目有异议，请核查。',
    };
    // Sent twice without a key (a client retrying after no answer): the same objection, once — answered 200 with it.
    const first = await stack.request<{ objectionId: string }>('POST', `/api/publicity/${publicityId}/objections`, {
      body,
    });
    expect(first.status).toBe(201);
    const again = await stack.request<{ objectionId: string }>('POST', `/api/publicity/${publicityId}/objections`, {
      body,
    });
    expect([again.status, again.body]).toEqual([200, first.body]);
    expect(await stack.database.db('objections').where({ objector_email: body.email })).toHaveLength(1);

    // Five intakes per client per hour here, whatever they file (each is audited objection.receipt); the page's
    // objection and its resending above (when the browser ran) took two.
    const taken = async () =>
      Number(
        (
          await stack.database
            .db('audit_events')
            .where({ action: 'objection.receipt' })
            .count<{ n: number }[]>('* as n')
        )[0]!.n,
      );
    for (let i = 0; (await taken()) < 5; i++) {
      const other = { ...body, facts: `${body.facts}（补充说明 ${i + 1}）` };
      expect((await stack.request('POST', `/api/publicity/${publicityId}/objections`, { body: other })).status).toBe(
        201,
      );
    }
    const limited = await stack.request<{ code: string; title: string }>(
      'POST',
      `/api/publicity/${publicityId}/objections`,
      { body },
    );
    expect([limited.status, limited.body.code, limited.body.title]).toEqual([
      429,
      'RATE_LIMITED',
      '提交过于频繁，请稍后再试',
    ]);
    expect(limited.contentType).toContain('application/problem+json');
  });
});
