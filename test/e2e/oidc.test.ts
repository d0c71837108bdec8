import { Secret, TOTP } from 'otpauth';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../api/server.js';
import { confirmTotp } from '../../db/repositories/accounts.js';
import { staffAccessToken } from '../support/accounts.js';
import { chromiumArgs, chromiumPath, hasChromium, skipBrowserTests } from '../support/browser.js';
import { startIdentityProvider, type IdentityProvider } from '../support/identity-provider.js';
import { startTestStack, testLogger, type TestStack } from '../support/stack.js';

/**
 * Issue 15, point 2: signing in through the province's identity provider. Everything real: an OpenID provider
 * (`oidc-provider` 9, its development login and consent pages) on its own port, the API configured with its
 * issuer, PostgreSQL, and Chromium following the real redirects: the API's sign-in page → the provider's login
 * and consent → the API's callback → signed in.
 */
let stack: TestStack;
let idp: IdentityProvider;
let browser: Browser | undefined;
let adminToken: string;
const STAFF_MFA = 'urn:henan:mfa';
const CLIENT = { clientId: 'ronghe-test', clientSecret: 'ronghe-test-client-secret-0123456789' };

if (skipBrowserTests) {
  console.warn(
    `oidc test skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH); under CI this fails instead.`,
  );
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  stack = await startTestStack({
    env: {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: CLIENT.clientId,
      OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      // The provider's login reports this acr when it checked a second factor (test/support/identity-provider.ts).
      OIDC_STAFF_MFA: STAFF_MFA,
    },
  });
  idp.configure({ ...CLIENT, redirectUri: `${stack.api.url}/account/oidc/callback` });
  adminToken = (
    await staffAccessToken(stack.database.db, { email: 'admin@ronghe.example', staffRole: 'administrator' })
  ).token;
  if (hasChromium || process.env.CI) {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await idp?.stop();
});

/** Creates an account through the administration API (as an administrator's access token). */
async function adminCreates(body: Record<string, string>): Promise<{ id: string }> {
  const res = await stack.request<{ account: { id: string } }>('POST', '/api/accounts', {
    token: adminToken,
    body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.account;
}

/**
 * From the API's sign-in page through the provider's login (the development page takes the `sub` as login, any
 * password) and consent; returns the page where the API's callback left the browser, and its status.
 */
async function signInAtProvider(context: BrowserContext, sub: string): Promise<{ page: Page; status: number }> {
  const page = await context.newPage();
  await page.goto(`${stack.api.url}/account/sign-in`);
  const button = page.locator('#oidc-sign-in');
  expect(await button.textContent()).toBe('使用统一身份认证登录');
  await button.click();
  // The provider's development login page, on the provider's own origin.
  await page.waitForURL((url) => url.href.startsWith(`${idp.issuer}/interaction/`));
  await page.fill('input[name=login]', sub);
  await page.fill('input[name=password]', 'any password');
  const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.api.url}/account/oidc/callback`));
  await page.click('button[type=submit]');
  // Consent, the first time this browser signs in for the client.
  await page.waitForURL((url) => url.href.startsWith(stack.api.url) || url.href.includes('/interaction/'));
  if (page.url().startsWith(`${idp.issuer}/interaction/`)) await page.click('button[type=submit]');
  const response = await callback;
  await page.waitForLoadState();
  return { page, status: response.status() };
}

/** The latest `account.oidc_refused` audit row's code and reason. */
async function lastRefusal(): Promise<{ code: string; reason: string; subject_id: string }> {
  const row = await stack.database
    .db('audit_events')
    .where({ action: 'account.oidc_refused' })
    .orderBy('id', 'desc')
    .first<{ details: { code: string }; reason: string; subject_id: string } | undefined>(
      'details',
      'reason',
      'subject_id',
    );
  return { code: row!.details.code, reason: row!.reason, subject_id: row!.subject_id };
}

describe('signing in through the province’s identity provider (OIDC)', () => {
  it.skipIf(skipBrowserTests)(
    'an institution user created by an administrator signs in at the provider, through the real redirects, and calls the API; the second sign-in matches by sub',
    async () => {
      const account = await adminCreates({
        kind: 'institution',
        institutionId: 'zzu',
        email: 'zhang.san@zzu.edu.cn',
        name: '张三',
      });
      idp.users.set('henan-0001', { sub: 'henan-0001', email: 'Zhang.San@zzu.edu.cn', emailVerified: true });

      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0001');
      // The callback signs the session in and sends the browser to its account page.
      expect(status).toBe(303);
      expect(page.url()).toBe(`${stack.api.url}/account`);
      expect(await page.textContent('#account-name')).toBe('张三');
      // The same browser calls the API with the session: who am I, then a write with the CSRF token.
      const session = (await (await context.request.get(`${stack.api.url}/api/session`)).json()) as {
        account: { id: string };
        csrfToken: string;
      };
      expect(session.account.id).toBe(account.id);
      const created = await context.request.post(`${stack.api.url}/api/access-tokens`, {
        data: { name: '统一身份认证登录后创建', expiresInDays: 7 },
        headers: { 'X-CSRF-Token': session.csrfToken },
      });
      expect(created.status(), await created.text()).toBe(201);
      // The identity is stored on the account and the linking audited.
      expect(await stack.database.db('accounts').where({ id: account.id }).first()).toMatchObject({
        oidc_issuer: idp.issuer,
        oidc_subject: 'henan-0001',
      });
      const actions = await stack.database
        .db('audit_events')
        .where({ account_id: account.id })
        .whereIn('action', ['account.oidc_linked', 'account.sign_in'])
        .pluck('action');
      expect(actions.sort()).toEqual(['account.oidc_linked', 'account.sign_in']);
      await context.close();

      // The person's email changes at the provider: the next sign-in still finds the account, by (issuer, sub).
      idp.users.set('henan-0001', { sub: 'henan-0001', email: 'zhangsan@new-mail.example', emailVerified: true });
      const again = await browser!.newContext();
      const second = await signInAtProvider(again, 'henan-0001');
      expect(second.status).toBe(303);
      expect(await second.page.textContent('#account-name')).toBe('张三');
      const who = (await (await again.request.get(`${stack.api.url}/api/session`)).json()) as {
        account: { id: string };
      };
      expect(who.account.id).toBe(account.id);
      await again.close();

      // Another identity claiming the account's email is not let in: the account is linked to the first one.
      idp.users.set('henan-0099', { sub: 'henan-0099', email: 'zhang.san@zzu.edu.cn', emailVerified: true });
      const other = await browser!.newContext();
      const conflict = await signInAtProvider(other, 'henan-0099');
      expect(conflict.status).toBe(409);
      expect(await conflict.page.textContent('body')).toContain('该账号已关联另一个统一身份认证身份');
      expect(await lastRefusal()).toMatchObject({ code: 'OIDC_IDENTITY_CONFLICT', subject_id: account.id });
      await other.close();
    },
    180_000,
  );

  it('without OIDC configured, the sign-in page offers email and password only and the OIDC routes do not exist', async () => {
    const plain = await startApi({
      config: { ...stack.config, auth: { ...stack.config.auth, oidc: undefined } },
      db: stack.database.db,
      temporal: stack.client,
      attachments: stack.attachments,
      logger: testLogger(),
    });
    try {
      const signIn = await (await fetch(`${plain.url}/account/sign-in`)).text();
      expect(signIn).toContain('id="password"');
      expect(signIn).not.toContain('统一身份认证');
      expect((await fetch(`${plain.url}/account/oidc/start`, { redirect: 'manual' })).status).toBe(404);
      expect((await fetch(`${plain.url}/account/oidc/callback?code=x&state=y`)).status).toBe(404);
      // The configured API does offer it.
      expect(await (await fetch(`${stack.api.url}/account/sign-in`)).text()).toContain('使用统一身份认证登录');
    } finally {
      await plain.close();
    }
  });

  it.skipIf(skipBrowserTests)(
    'an identity whose email names no account is refused with a zh-CN page that says what to do, audited',
    async () => {
      idp.users.set('henan-0404', { sub: 'henan-0404', email: 'nobody@zzu.edu.cn', emailVerified: true });
      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0404');
      expect(status).toBe(403);
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      const text = await page.textContent('body');
      expect(text).toContain('统一身份认证的身份在本系统没有对应账号');
      expect(text).toContain('nobody@zzu.edu.cn');
      expect(text).toContain('请联系系统管理员开通');
      expect(await lastRefusal()).toMatchObject({ code: 'OIDC_NO_ACCOUNT', subject_id: `${idp.issuer}#henan-0404` });
      // Not signed in.
      expect((await context.request.get(`${stack.api.url}/api/access-tokens`)).status()).toBe(401);
      await context.close();
    },
    120_000,
  );

  it.skipIf(skipBrowserTests)(
    'an email the provider does not vouch for is not matched, even to an existing account',
    async () => {
      await adminCreates({ kind: 'institution', institutionId: 'hpu', email: 'li.si@hpu.edu.cn', name: '李四' });
      idp.users.set('henan-0002', { sub: 'henan-0002', email: 'li.si@hpu.edu.cn', emailVerified: false });
      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0002');
      expect(status).toBe(403);
      expect(await page.textContent('body')).toContain('未提供已验证的电子邮箱');
      expect((await lastRefusal()).code).toBe('OIDC_EMAIL_UNVERIFIED');
      await context.close();
    },
    120_000,
  );

  it.skipIf(skipBrowserTests)(
    'a disabled account is refused at the callback, audited',
    async () => {
      const account = await adminCreates({
        kind: 'institution',
        institutionId: 'hpu',
        email: 'wang.wu@hpu.edu.cn',
        name: '王五',
      });
      const disabled = await stack.request('POST', `/api/accounts/${account.id}/disable`, {
        token: adminToken,
        body: { reason: '人员调离' },
      });
      expect(disabled.status).toBe(200);
      idp.users.set('henan-0003', { sub: 'henan-0003', email: 'wang.wu@hpu.edu.cn', emailVerified: true });
      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0003');
      expect(status).toBe(403);
      expect(await page.textContent('body')).toContain('该账号已停用');
      expect(await lastRefusal()).toMatchObject({ code: 'ACCOUNT_DISABLED', subject_id: account.id });
      expect((await context.request.get(`${stack.api.url}/api/access-tokens`)).status()).toBe(401);
      await context.close();
    },
    120_000,
  );

  it.skipIf(skipBrowserTests)(
    'staff still give their TOTP code after the provider when its sign-in carries no OIDC_STAFF_MFA acr',
    async () => {
      const officer = await adminCreates({
        kind: 'staff',
        staffRole: 'officer',
        email: 'zhao.liu@ronghe.example',
        name: '赵六',
      });
      // Enrolment as the invitation page does it (tested in accounts.test.ts): the secret confirmed.
      await confirmTotp(stack.database.db, officer.id, new Date());
      const { totp_secret: secret } = (await stack.database.db('accounts').where({ id: officer.id }).first()) as {
        totp_secret: string;
      };
      idp.users.set('henan-0004', { sub: 'henan-0004', email: 'zhao.liu@ronghe.example', emailVerified: true });
      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0004');
      expect(status).toBe(200);
      expect(await page.textContent('h1')).toBe('输入动态验证码');
      // Not signed in yet.
      expect((await context.request.get(`${stack.api.url}/api/access-tokens`)).status()).toBe(401);
      const code = new TOTP({
        issuer: 'ronghe',
        label: 'zhao.liu@ronghe.example',
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        secret: Secret.fromBase32(secret),
      }).generate();
      await page.fill('#totp', code);
      await page.click('button[type=submit]');
      await page.waitForSelector('#account-name');
      expect(await page.textContent('#account-name')).toBe('赵六');
      expect((await context.request.get(`${stack.api.url}/api/access-tokens`)).status()).toBe(200);
      await context.close();
    },
    120_000,
  );

  it.skipIf(skipBrowserTests)(
    'staff whose provider sign-in carries an OIDC_STAFF_MFA acr are signed in without the TOTP code; without it and without TOTP enrolled, refused',
    async () => {
      const ops = await adminCreates({ kind: 'staff', staffRole: 'ops', email: 'sun.qi@ronghe.example', name: '孙七' });
      // Without the acr, and with no TOTP enrolled (invitation not completed): refused, with what to do.
      idp.users.set('henan-0005', { sub: 'henan-0005', email: 'sun.qi@ronghe.example', emailVerified: true });
      const first = await browser!.newContext();
      const refused = await signInAtProvider(first, 'henan-0005');
      expect(refused.status).toBe(403);
      expect(await refused.page.textContent('body')).toContain('绑定身份验证器');
      expect(await lastRefusal()).toMatchObject({ code: 'ACCOUNT_NOT_READY', subject_id: ops.id });
      await first.close();

      // The provider checked a second factor: signed in, no TOTP page.
      idp.users.set('henan-0005', {
        sub: 'henan-0005',
        email: 'sun.qi@ronghe.example',
        emailVerified: true,
        acr: STAFF_MFA,
      });
      const context = await browser!.newContext();
      const { page, status } = await signInAtProvider(context, 'henan-0005');
      expect(status).toBe(303);
      expect(await page.textContent('#account-name')).toBe('孙七');
      const who = (await (await context.request.get(`${stack.api.url}/api/session`)).json()) as {
        account: { id: string; staffRole: string };
      };
      expect(who.account).toMatchObject({ id: ops.id, staffRole: 'ops' });
      await context.close();
    },
    120_000,
  );

  it.skipIf(skipBrowserTests)(
    'a cancelled sign-in at the provider, and a callback this browser did not start, are refused with pages, audited',
    async () => {
      // The provider's "Cancel" link answers the API with error=access_denied.
      const context = await browser!.newContext();
      const page = await context.newPage();
      await page.goto(`${stack.api.url}/account/sign-in`);
      await page.click('#oidc-sign-in');
      await page.waitForURL((url) => url.href.startsWith(`${idp.issuer}/interaction/`));
      const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.api.url}/account/oidc/callback`));
      await page.click('text=[ Cancel ]');
      expect((await callback).status()).toBe(403);
      expect(await page.textContent('body')).toContain('统一身份认证未完成登录');
      expect(await page.textContent('body')).toContain('access_denied');
      expect((await lastRefusal()).code).toBe('OIDC_PROVIDER_REFUSED');

      // A callback with a code and state this browser never asked for (login CSRF): refused before any exchange.
      const forged = await page.goto(`${stack.api.url}/account/oidc/callback?code=stolen&state=forged`);
      expect(forged!.status()).toBe(400);
      expect(await page.textContent('body')).toContain('请回到登录页重新发起');
      expect((await lastRefusal()).code).toBe('OIDC_STATE_INVALID');

      // Started here, but answered with another state: the library's check refuses it.
      await page.goto(`${stack.api.url}/account/sign-in`);
      await page.click('#oidc-sign-in');
      await page.waitForURL((url) => url.href.startsWith(`${idp.issuer}/interaction/`));
      const swapped = await page.goto(
        `${stack.api.url}/account/oidc/callback?code=stolen&state=forged&iss=${encodeURIComponent(idp.issuer)}`,
      );
      expect(swapped!.status()).toBe(400);
      expect((await lastRefusal()).code).toBe('OIDC_STATE_INVALID');
      await context.close();
    },
    120_000,
  );
});
