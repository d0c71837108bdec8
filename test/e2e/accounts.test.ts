import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { insertRound } from '../../db/repositories/round.js';
import { Outbox } from '../../mail/outbox.js';
import { createSmtpTransport } from '../../mail/transport.js';
import { bootstrapAdministrator } from '../../scripts/account.js';
import { accountLinkIn, authenticator } from '../support/accounts.js';
import { startAnotherApi, startProductionApi } from '../support/another-api.js';
import { chromiumArgs, chromiumPath, hasChromium, skipBrowserTests } from '../support/browser.js';
import { startTestStack, testLogger, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 15, first slice: real people sign in. Everything real: PostgreSQL (accounts, sessions), the SMTP sink
 * (invitation emails), Chromium (the zh-CN pages), the API as the other end-to-end tests start it. TOTP codes
 * are computed with otpauth from the secret the enrolment page shows.
 */
let stack: TestStack;
let browser: Browser | undefined;
let outbox: Outbox;
const ADMIN = 'admin@ronghe.example';
const OFFICER = 'officer.li@ronghe.example';
const ZZU_USER = 'zhang.san@zzu.edu.cn';
const PASSWORD = '黄河之水天上来 2027 河南';

if (skipBrowserTests) {
  console.warn(
    `accounts test skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH); under CI this fails instead.`,
  );
}

beforeAll(async () => {
  stack = await startTestStack();
  outbox = new Outbox(
    stack.database.db,
    createSmtpTransport(stack.maildev.smtpUrl),
    stack.config.smtp.from,
    testLogger(),
  );
  if (hasChromium || process.env.CI) {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The one-time link of the `after`th (from 0) email of `purpose` to `to`, once it arrived in the sink. */
const linkIn = (to: string, purpose = 'account.invitation', after = 0): Promise<string> =>
  accountLinkIn(stack.mailbox, to, purpose, after);

/**
 * The code the authenticator shows now, or with `next` the one it shows in the next 30-second step: a code is
 * used once (the one that confirmed the enrolment included), so signing in right after enrolling takes the next
 * one; the API accepts one step of drift, so it is good at once.
 */
const totpCode = (secret: string, email: string, { next = false } = {}) =>
  authenticator(secret, email).generate({ timestamp: Date.now() + (next ? 30_000 : 0) });

/** Opens the invitation in Chromium and sets the password (staff: enrols TOTP); returns the TOTP secret shown. */
async function acceptInvitation(context: BrowserContext, link: string, email: string): Promise<string | undefined> {
  const page = await context.newPage();
  await page.goto(link);
  expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
  expect(await page.textContent('h1')).toBe('设置登录密码');
  await page.fill('#password', PASSWORD);
  await page.fill('#confirm', PASSWORD);
  let secret: string | undefined;
  if ((await page.locator('#totp-secret').count()) > 0) {
    secret = (await page.textContent('#totp-secret'))!.trim();
    expect(await page.textContent('#totp-uri')).toContain('otpauth://totp/');
    await page.fill('#totp', totpCode(secret, email));
  }
  await page.click('button[type=submit]');
  expect(await page.textContent('body')).toContain('密码已设置');
  await page.close();
  return secret;
}

/** Signs in on the page (staff: then the TOTP code). */
async function signIn(context: BrowserContext, email: string, secret?: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${stack.api.url}/account/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  if (secret) {
    expect(await page.textContent('h1')).toBe('输入动态验证码');
    await page.fill('#totp', totpCode(secret, email, { next: true }));
    await page.click('button[type=submit]');
  }
  await page.waitForSelector('#account-name');
  await page.close();
}

/** The session's CSRF token (GET /api/session, same cookie jar as the pages). */
async function csrfOf(context: BrowserContext): Promise<string> {
  const res = await context.request.get(`${stack.api.url}/api/session`);
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

let adminContext: BrowserContext;

async function adminCreates(body: Record<string, string>): Promise<{ id: string }> {
  const res = await adminContext.request.post(`${stack.api.url}/api/accounts`, {
    data: body,
    headers: { 'X-CSRF-Token': await csrfOf(adminContext) },
  });
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { account: { id: string } }).account;
}

async function adminDisables(accountId: string, reason: string): Promise<void> {
  const res = await adminContext.request.post(`${stack.api.url}/api/accounts/${accountId}/disable`, {
    data: { reason },
    headers: { 'X-CSRF-Token': await csrfOf(adminContext) },
  });
  expect(res.status(), await res.text()).toBe(200);
}

describe('accounts: invitation, password, TOTP, session, CSRF, disable', () => {
  it.skipIf(skipBrowserTests)(
    'an administrator invites a staff officer, who sets a password, enrols TOTP, signs in and acts; disabled, the same session is refused',
    async () => {
      // The first administrator, as `npm run account -- admin` makes it.
      const bootstrap = await bootstrapAdministrator(
        { db: stack.database.db, outbox, baseUrl: stack.api.url },
        ADMIN,
        '系统管理员',
      );
      expect(await linkIn(ADMIN)).toBe(bootstrap.url);
      adminContext = await browser!.newContext();
      const adminSecret = await acceptInvitation(adminContext, bootstrap.url, ADMIN);
      expect(adminSecret).toMatch(/^[A-Z2-7]+=*$/);
      await signIn(adminContext, ADMIN, adminSecret);

      // A write through the session without its CSRF token is refused, and audited.
      const noToken = await adminContext.request.post(`${stack.api.url}/api/accounts`, {
        data: { kind: 'staff', staffRole: 'officer', email: OFFICER, name: '李明' },
      });
      expect(noToken.status()).toBe(403);
      expect(await noToken.json()).toMatchObject({
        code: 'CSRF_TOKEN_INVALID',
        title: expect.stringContaining('CSRF'),
      });

      const officer = await adminCreates({ kind: 'staff', staffRole: 'officer', email: OFFICER, name: '李明' });
      const invitation = await eventually(async () => {
        const e = (await stack.mailbox.list()).find((m) => m.to === OFFICER);
        return e;
      });
      expect(invitation.subject).toBe('【账号开通】请设置 ronghe 系统登录密码');
      expect(invitation.text).toContain('李明：');
      expect(invitation.text).toContain('业务人员');
      // Signed like every notice: the issuing body and the contact at the foot.
      expect(invitation.text).toContain('联系人：王老师');

      const officerContext = await browser!.newContext();
      const link = await linkIn(OFFICER);
      const officerSecret = await acceptInvitation(officerContext, link, OFFICER);
      await signIn(officerContext, OFFICER, officerSecret);
      const session = (await (await officerContext.request.get(`${stack.api.url}/api/session`)).json()) as {
        account: { id: string; status: string; staffRole: string };
        csrfToken: string;
      };
      expect(session.account).toMatchObject({ id: officer.id, status: 'active', staffRole: 'officer' });
      const cookie = (await officerContext.cookies()).find((c) => c.name === 'ronghe.sid');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });

      // The officer acts: a staff route with the CSRF token; without it, refused.
      const launch = { programme: 'demo_college', year: 2027 };
      const refused = await officerContext.request.post(`${stack.api.url}/api/rounds`, { data: launch });
      expect(refused.status()).toBe(403);
      expect(((await refused.json()) as { code: string }).code).toBe('CSRF_TOKEN_INVALID');
      const launched = await officerContext.request.post(`${stack.api.url}/api/rounds`, {
        data: launch,
        headers: { 'X-CSRF-Token': session.csrfToken },
      });
      expect(launched.status(), await launched.text()).toBe(201);
      // Account administration is the administrator's.
      const notAdmin = await officerContext.request.get(`${stack.api.url}/api/accounts`);
      expect(notAdmin.status()).toBe(403);
      // Every audit row written for the officer's requests names the account.
      const audit = await stack.database
        .db('audit_events')
        .whereIn('action', ['round.launch', 'account.csrf_refused', 'account.sign_in'])
        .where({ account_id: officer.id })
        .pluck('action');
      expect(new Set(audit)).toEqual(new Set(['round.launch', 'account.csrf_refused', 'account.sign_in']));

      const read = `${stack.api.url}/api/rounds/round-demo_college-2027`;
      expect((await officerContext.request.get(read)).status()).toBe(200);
      await adminDisables(officer.id, '调离岗位');
      // The same cookie jar: the session is ended and refused, and stays so.
      const after = await officerContext.request.get(read);
      expect(after.status()).toBe(401);
      // Told why and whom to ask: signing in again would be refused (ACCOUNT_DISABLED).
      expect(await after.json()).toMatchObject({
        code: 'SESSION_ENDED',
        title: '登录已失效',
        detail: '该账号已停用，其全部登录和令牌随之失效；如需恢复，请联系系统管理员',
      });
      expect((await officerContext.request.get(read)).status()).toBe(401);
      // Signing in again is refused too, with what to do.
      const again = await officerContext.request.post(`${stack.api.url}/api/session`, {
        data: { email: OFFICER, password: PASSWORD, totp: totpCode(officerSecret!, OFFICER) },
      });
      expect(again.status()).toBe(403);
      expect(await again.json()).toMatchObject({ code: 'ACCOUNT_DISABLED', title: expect.stringContaining('停用') });
      // The account and its history stay.
      const row = await stack.database.db('accounts').where({ id: officer.id }).first();
      expect(row).toMatchObject({ disabled_reason: '调离岗位', credentials_epoch: 1 });
      expect(
        await stack.database
          .db('audit_events')
          .where({ account_id: officer.id, action: 'account.session_ended' })
          .count(),
      ).toEqual([{ count: 1 }]);

      // The invitation link was used once: opening it again says so (410), audited.
      const reused = await officerContext.newPage();
      const response = await reused.goto(link);
      expect(response!.status()).toBe(410);
      expect(await reused.textContent('body')).toContain('只能使用一次');
      await officerContext.close();
    },
    180_000,
  );

  it.skipIf(skipBrowserTests)(
    'an institution user signs in without TOTP and reaches its own applications only; its access token ends when it is disabled',
    async () => {
      await insertRound(stack.database.db, {
        id: 'round-demo_college-2030',
        programme: 'demo_college',
        year: 2030,
        titleZh: '2030年度产教融合示范学院申报',
        opensAt: new Date('2029-11-01T01:00:00Z'),
        launchedBy: 'staff:test',
      });
      const [own, other] = await stack.database
        .db('applications')
        .insert(
          ['zzu', 'hpu'].map((institution) => ({
            round_id: 'round-demo_college-2030',
            institution_id: institution,
            status: 'draft',
            title_zh: `${institution} 示范学院建设`,
            field_key: 'next_gen_it',
            draft: '{}',
          })),
        )
        .returning<{ id: string }[]>('id');

      const user = await adminCreates({ kind: 'institution', institutionId: 'zzu', email: ZZU_USER, name: '张三' });
      const context = await browser!.newContext();
      expect(await acceptInvitation(context, await linkIn(ZZU_USER), ZZU_USER)).toBeUndefined();
      await signIn(context, ZZU_USER);
      expect((await context.request.get(`${stack.api.url}/api/applications/${own!.id}`)).status()).toBe(200);
      const foreign = await context.request.get(`${stack.api.url}/api/applications/${other!.id}`);
      expect(foreign.status()).toBe(403);

      // A personal access token, shown once, works as a bearer token …
      const created = await context.request.post(`${stack.api.url}/api/access-tokens`, {
        data: { name: '数据导出脚本', expiresInDays: 7 },
        headers: { 'X-CSRF-Token': await csrfOf(context) },
      });
      expect(created.status(), await created.text()).toBe(201);
      const { token } = (await created.json()) as { token: string };
      expect(token).toMatch(/^rh_pat_/);
      const viaToken = await stack.request('GET', `/api/applications/${own!.id}`, { token });
      expect(viaToken.status).toBe(200);
      // … needs no CSRF token for writes (no cookie) …
      const listed = await stack.request<{ items: { name: string }[] }>('GET', '/api/access-tokens', { token });
      expect(listed.body.items.map((t) => t.name)).toEqual(['数据导出脚本']);
      // … and ends with the account.
      await adminDisables(user.id, '人员变动');
      const refused = await stack.request<{ code: string }>('GET', `/api/applications/${own!.id}`, { token });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('SESSION_ENDED');
      await context.close();
    },
    180_000,
  );

  it.skipIf(skipBrowserTests)(
    'an invitation link expires after 72 hours (the API’s clock moved on, not the wall clock)',
    async () => {
      const email = 'wang.wu@ronghe.example';
      await adminCreates({ kind: 'staff', staffRole: 'ops', email, name: '王五' });
      const link = await linkIn(email);
      const later = await startAnotherApi(stack, { clock: () => new Date(Date.now() + 72 * 3_600_000 + 60_000) });
      try {
        const expired = await fetch(link.replace(stack.api.url, later.url));
        expect(expired.status).toBe(410);
        expect(await expired.text()).toContain('过期');
      } finally {
        await later.close();
      }
      // Still good on the API's own clock.
      expect((await fetch(link)).status).toBe(200);
      const refusals = await stack.database
        .db('audit_events')
        .where({ action: 'account.link_refused' })
        .pluck('reason');
      expect(refusals.some((r: string) => r.includes('过期'))).toBe(true);
    },
  );

  it('a wrong password and a missing or wrong second factor are refused in zh-CN, audited', async () => {
    const wrong = await stack.request<{ code: string; title: string }>('POST', '/api/session', {
      body: { email: ADMIN, password: 'not the password at all' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'SIGN_IN_FAILED', title: expect.stringContaining('密码不正确') });
    const unknown = await stack.request<{ code: string }>('POST', '/api/session', {
      body: { email: 'nobody@ronghe.example', password: PASSWORD },
    });
    expect(unknown.body.code).toBe('SIGN_IN_FAILED');
    if (!skipBrowserTests) {
      const missing = await stack.request<{ code: string }>('POST', '/api/session', {
        body: { email: ADMIN, password: PASSWORD },
      });
      expect(missing.status).toBe(401);
      expect(missing.body.code).toBe('SECOND_FACTOR_REQUIRED');
      const bad = await stack.request<{ code: string }>('POST', '/api/session', {
        body: { email: ADMIN, password: PASSWORD, totp: '000000' },
      });
      expect(bad.body.code).toBe('SECOND_FACTOR_INVALID');
    }
    const audited = await stack.database
      .db('audit_events')
      .where({ action: 'account.sign_in_refused' })
      .pluck('details');
    expect(audited.map((d: { code: string }) => d.code)).toEqual(
      expect.arrayContaining(['SIGN_IN_FAILED', ...(skipBrowserTests ? [] : ['SECOND_FACTOR_REQUIRED'])]),
    );
  });

  it('production refuses development tokens with 401 in zh-CN', async () => {
    const { api, config: production } = await startProductionApi(stack);
    try {
      const token = await signToken({ role: 'staff', id: 'dev' }, production.auth.secret);
      const res = await fetch(`${api.url}/api/outbox`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        code: 'DEVELOPMENT_TOKEN_REFUSED',
        title: '生产环境不接受开发令牌，请使用账号登录或个人访问令牌',
      });
      // The same token is still good outside production (tests and npm start use it).
      expect(
        (await stack.request('GET', '/api/outbox', { token: await stack.token({ role: 'staff', id: 'dev' }) })).status,
      ).toBe(200);
    } finally {
      await api.close();
    }
  });
});
