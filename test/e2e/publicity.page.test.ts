import { randomUUID } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath, hasChromium, skipBrowserTests } from '../support/browser.js';
import { openDemoCollegePublicity } from '../support/publicity.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * The public publicity page as a person meets it, in real Chromium: the list in zh-CN, and an objection
 * filed through the page's form. Then the rate limit on the public objection intake.
 */
let stack: TestStack;
let browser: Browser | undefined;
let publicityId: string;

if (skipBrowserTests) {
  console.warn(
    `public page test skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH); under CI this fails instead.`,
  );
}

beforeAll(async () => {
  stack = await startTestStack({ env: { OBJECTION_RATE_LIMIT: '10' } });
  // A period in real time: five working days from today.
  publicityId = await openDemoCollegePublicity(stack, 2027);
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

  it.skipIf(skipBrowserTests)(
    'answers a form the checks refuse with the page again: what to fix, and the form keeps what was typed (real Chromium)',
    async () => {
      const page = await browser!.newPage();
      await page.goto(`${stack.api.url}/publicity/${publicityId}`);
      const typed = {
        name: '李<b>明</b> & "张"',
        unit: '河南省某研究院',
        // The browser does not check a telephone field; the server does.
        phone: '电话号码',
        email: 'li.ming@objector.example',
        facts: '申报材料中的<script>合作协议</script>与实际情况不符 & 请核查。',
        evidence: '合作协议扫描件\n企业证明',
      };
      await page.selectOption('#entryId', { index: 2 });
      const entryId = await page.inputValue('#entryId');
      for (const [field, value] of Object.entries(typed)) await page.fill(`#${field}`, value);
      await page.check('input[name=onBehalfOfUnit]');
      const [answer] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(answer!.status()).toBe(422);
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await page.textContent('.error')).toContain('联系电话格式不正确');
      for (const [field, value] of Object.entries(typed)) expect(await page.inputValue(`#${field}`)).toBe(value);
      expect(await page.inputValue('#entryId')).toBe(entryId);
      expect(await page.isChecked('input[name=onBehalfOfUnit]')).toBe(true);

      // Corrected and sent again from the same page: filed.
      await page.fill('#phone', '0371-12345678');
      const [filed] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(filed!.status()).toBe(201);
      expect(await page.textContent('.ok')).toContain('异议已受理');
      expect(await stack.database.db('objections').where({ objector_email: typed.email })).toHaveLength(1);
      await page.close();
    },
  );

  it('answers every shape of post to the objection form with a zh-CN page and a 4xx status, keeping what was typed', async () => {
    const form = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();
    const multipart = (fields: [string, string | Blob][]) => {
      const data = new FormData();
      for (const [name, value] of fields) data.append(name, value);
      return data;
    };
    const urlencoded = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const unknownPublicity = '00000000-0000-4000-8000-000000000000';
    const cases: {
      shape: string;
      headers?: Record<string, string>;
      body?: string | FormData | Uint8Array;
      publicity?: string;
      status: number;
      says: string;
      keeps?: string[];
    }[] = [
      {
        shape: 'an empty post (no body, no content type)',
        status: 422,
        says: '请填写：姓名、工作单位、联系电话、电子邮箱',
      },
      { shape: 'an empty form', headers: urlencoded, body: '', status: 422, says: '请填写：姓名' },
      {
        shape: 'a multipart form missing fields',
        body: multipart([
          ['name', '周<杰>'],
          ['unit', '某大学'],
        ]),
        status: 422,
        says: '请填写：联系电话、电子邮箱',
        keeps: ['value="周&lt;杰&gt;"', 'value="某大学"'],
      },
      {
        shape: 'a multipart form with a file for the facts',
        body: multipart([
          ['name', '周杰'],
          ['facts', new Blob(['x'], { type: 'text/plain' })],
        ]),
        status: 422,
        says: '事实与理由应为文字，不能上传文件',
        keeps: ['value="周杰"'],
      },
      {
        shape: 'a repeated field',
        headers: urlencoded,
        body: form([
          ['name', '甲'],
          ['name', '乙'],
        ]),
        status: 422,
        says: '姓名只能填写一项',
        keeps: ['value="甲"'],
      },
      {
        shape: 'JSON',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: '韩梅梅', unit: '某单位', facts: 42 }),
        status: 415,
        says: '本页面只受理网页表单提交',
        keeps: ['value="韩梅梅"', 'value="某单位"'],
      },
      {
        shape: 'malformed JSON',
        headers: { 'Content-Type': 'application/json' },
        body: '{"name": "韩梅梅",',
        status: 415,
        says: '本页面只受理网页表单提交',
      },
      {
        shape: 'text/plain (enctype=text/plain)',
        headers: { 'Content-Type': 'text/plain' },
        body: 'name=李雷\r\nunit=某企业\r\n',
        status: 415,
        says: '本页面只受理网页表单提交',
        keeps: ['value="李雷"', 'value="某企业"'],
      },
      {
        shape: 'another charset',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=gbk' },
        body: 'name=%D6%A3',
        status: 415,
        says: '不支持字符集 gbk',
      },
      {
        shape: 'not UTF-8 (GBK bytes %-escaped)',
        headers: urlencoded,
        body: 'name=%D6%A3%D6%DD&unit=x',
        status: 400,
        says: '不是有效的 UTF-8 编码',
      },
      {
        shape: 'a NUL character (%00), which no text field can store',
        headers: urlencoded,
        body: 'name=%E7%8E%8B%00&unit=x',
        status: 400,
        says: '无法保存的控制字符',
      },
      {
        shape: 'an oversize post',
        headers: urlencoded,
        body: form([['facts', '异'.repeat(40_000)]]),
        status: 413,
        says: '提交的内容过长',
      },
      {
        shape: 'an email address that is not one mailbox (a list, with a header injected)',
        headers: urlencoded,
        body: form([
          ['name', '王五'],
          ['unit', '某单位'],
          ['phone', '13800138000'],
          ['email', 'a@x.example\r\nBcc: c@z.example'],
          ['facts', '该项目的合作企业与实际情况不符，请核查。'],
        ]),
        status: 422,
        says: '电子邮箱应为单个邮箱地址',
        keeps: ['value="王五"'],
      },
      {
        shape: 'an item not on the list',
        headers: urlencoded,
        body: form([
          ['entryId', unknownPublicity],
          ['name', '王五'],
        ]),
        status: 422,
        says: '不在公示名单中',
        keeps: ['value="王五"'],
      },
      {
        shape: 'an unknown publicity',
        publicity: unknownPublicity,
        headers: urlencoded,
        body: form([
          ['name', '王五'],
          ['facts', '事实<与>理由'],
        ]),
        status: 404,
        says: '未找到该公示',
        keeps: ['王五', '事实&lt;与&gt;理由'],
      },
      {
        shape: 'a malformed publicity id',
        publicity: 'not-a-publicity',
        headers: urlencoded,
        body: form([['name', '王五']]),
        status: 404,
        says: '未找到该公示',
        keeps: ['王五'],
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${stack.api.url}/publicity/${c.publicity ?? publicityId}/objection`, {
        method: 'POST',
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      const html = await res.text();
      expect([c.shape, res.status, res.headers.get('content-type')]).toEqual([
        c.shape,
        c.status,
        'text/html; charset=utf-8',
      ]);
      expect(html, c.shape).toContain('<html lang="zh-CN">');
      expect(html, c.shape).toContain(c.says);
      for (const kept of c.keeps ?? []) expect(html, c.shape).toContain(kept);
      expect(html, c.shape).not.toMatch(/<(b|script|杰|与)>/);
    }

    // A complete form sent as multipart/form-data (a form with enctype="multipart/form-data") is filed.
    const filed = await fetch(`${stack.api.url}/publicity/${publicityId}/objection`, {
      method: 'POST',
      body: multipart([
        ['name', '周杰'],
        ['unit', '某大学'],
        ['phone', '13700137000'],
        ['email', 'zhou@objector.example'],
        ['facts', '公示名单中的项目合作企业情况与实际不符，请核查。'],
      ]),
    });
    expect([filed.status, filed.headers.get('content-type')]).toEqual([201, 'text/html; charset=utf-8']);
    expect(await filed.text()).toContain('异议已受理');
    // Reloading the answer's address goes back to the page.
    const reload = await fetch(`${stack.api.url}/publicity/${publicityId}/objection`, { redirect: 'manual' });
    expect([reload.status, reload.headers.get('location')]).toEqual([303, `/publicity/${publicityId}`]);
  });

  it('keeps a form sent while the workflow engine is out of reach and says so with its receipt id, offering no form to send again; sent again later, it is filed once with its first receipt time', async () => {
    const form = {
      entryId: '',
      name: '孙立',
      unit: '某研究院',
      phone: '13700137000',
      email: 'sun.li@objector.example',
      facts: '公示名单中某项目的合作企业资质存疑，请核查其营业执照与合作协议。',
      idempotencyKey: randomUUID(),
    };
    const post = () =>
      fetch(`${stack.api.url}/publicity/${publicityId}/objection`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    // Temporal stops (its whole process group) while the form is sent: the API keeps it after its 30 s wait.
    const temporalGroup = -stack.temporal.process.pid!;
    process.kill(temporalGroup, 'SIGSTOP');
    let kept: Response;
    try {
      kept = await post();
    } finally {
      process.kill(temporalGroup, 'SIGCONT');
    }
    expect(kept.status).toBe(202);
    const html = await kept.text();
    expect(html).toContain('收到并留存该请求');
    expect(html).not.toContain('<form');
    const receiptId = /回执编号：<code>([^<]+)<\/code>/.exec(html)?.[1];
    expect(receiptId).toMatch(/^public\/form\//);
    const receipt = await stack.database
      .db('update_receipts')
      .where({ update_id: receiptId! })
      .first<{ status: string; received_at: Date }>('status', 'received_at');
    expect(receipt?.status).toBe('pending');

    // The person sends the same form again once the engine is back: the same Update, filed once, first receipt time.
    await eventually(async () => ((await stack.request('GET', '/healthz')).status === 200 ? true : undefined), {
      what: 'the API to reach Temporal again',
    });
    const again = await post();
    expect(again.status).toBe(201);
    expect(await again.text()).toContain('异议已受理');
    const filed = await stack.database.db('objections').where({ objector_email: form.email });
    expect(filed).toHaveLength(1);
    expect(filed[0].received_at).toEqual(receipt.received_at);
  });

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
    // The same objection through another channel — with an Idempotency-Key, or the public page's form under a
    // fresh page's key — is still the one objection (found by a fresh walk: each channel filed it again).
    const keyed = await fetch(`${stack.api.url}/api/publicity/${publicityId}/objections`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'another-channel-1' },
      body: JSON.stringify(body),
    });
    expect([keyed.status, await keyed.json()]).toEqual([200, first.body]);
    const viaForm = await fetch(`${stack.api.url}/publicity/${publicityId}/objection`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...body, entryId: '', idempotencyKey: randomUUID() }).toString(),
    });
    expect(viaForm.status).toBe(201);
    expect(await viaForm.text()).toContain(`编号 ${first.body.objectionId}`);
    expect(await stack.database.db('objections').where({ objector_email: body.email })).toHaveLength(1);

    // Ten intakes per client per hour here, whatever they file (each is audited objection.receipt); the tests
    // above took some (three by the browser when it ran, one multipart form, two while the engine was stopped).
    const taken = async () =>
      Number(
        (
          await stack.database
            .db('audit_events')
            .where({ action: 'objection.receipt' })
            .count<{ n: number }[]>('* as n')
        )[0]!.n,
      );
    for (let i = 0; (await taken()) < 10; i++) {
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
