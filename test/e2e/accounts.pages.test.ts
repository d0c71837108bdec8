import { spawn } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { createDb } from '../../db/knex.js';
import {
  confirmTotp,
  insertAccount,
  setPasswordHash,
  type Account,
  type NewAccount,
} from '../../db/repositories/accounts.js';
import { Outbox } from '../../mail/outbox.js';
import { createSmtpTransport } from '../../mail/transport.js';
import { freePort } from '../../local-stack/ports.js';
import { hashPassword, newTotpSecret, sendAccountLink } from '../../services/accounts.js';
import { accountLinkIn, authenticator } from '../support/accounts.js';
import { startProductionApi } from '../support/another-api.js';
import { startTestStack, testLogger, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 15, hardening of the account pages: every post answered with a zh-CN page, errors inside the page routes
 * as pages, the TOTP step limited per pending account, the enrolment code used once, resources closed with the
 * API, email links never from the Host header, password reset end to end, no typed address in clear in the audit
 * trail. Real PostgreSQL, SMTP sink and Temporal; HTTP with a cookie jar (the pages are plain forms).
 */
let stack: TestStack;
let outbox: Outbox;
const PASSWORD = '黄河之水天上来 2027 河南';
const NEW_PASSWORD = '长风破浪会有时 直挂云帆济沧海';
/** The per-account sign-in limit of this file's API (the per-address one is high: every request is local). */
const ACCOUNT_LIMIT = 3;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SIGNIN_ACCOUNT_RATE_LIMIT: String(ACCOUNT_LIMIT), SIGNIN_ADDRESS_RATE_LIMIT: '1000' },
  });
  outbox = new Outbox(
    stack.database.db,
    createSmtpTransport(stack.maildev.smtpUrl),
    stack.config.smtp.from,
    testLogger(),
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface PageResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A browser without a browser: one cookie jar, any method, headers (Host included) and raw body. */
class Visitor {
  private cookie: string | undefined;

  constructor(private readonly baseUrl: string = stack.api.url) {}

  request(
    method: string,
    path: string,
    { headers = {}, body }: { headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<PageResponse> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          headers: {
            ...(this.cookie ? { cookie: this.cookie } : {}),
            ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const set = res.headers['set-cookie']?.find((c) => c.startsWith('ronghe.sid='));
            if (set) this.cookie = set.split(';')[0];
            resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.request('GET', path, { headers });
  }

  /** Posts a form as a browser does (urlencoded UTF-8), `_csrf` added from the page `from` when given. */
  async submit(
    path: string,
    fields: Record<string, string>,
    { from, headers = {} }: { from?: PageResponse; headers?: Record<string, string> } = {},
  ): Promise<PageResponse> {
    const csrf = from ? csrfIn(from) : undefined;
    return this.request('POST', path, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ ...(csrf ? { _csrf: csrf } : {}), ...fields }).toString(),
    });
  }

  async json(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await this.request(method, path, {
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { ...res, body: res.text ? (JSON.parse(res.text) as Record<string, unknown>) : {} };
  }
}

function csrfIn(page: PageResponse): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no CSRF field in the page (${page.status}): ${page.text.slice(0, 300)}`);
  return token.replaceAll('&amp;', '&');
}

/** What a page says to the person (its text, tags dropped). */
function textOf(page: PageResponse): string {
  return page.text
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

/** Asserts a zh-CN HTML page with this status. */
function expectPage(page: PageResponse, status: number): void {
  expect([page.status, page.headers['content-type']], page.text.slice(0, 400)).toEqual([
    status,
    'text/html; charset=utf-8',
  ]);
  expect(page.text).toContain('<html lang="zh-CN">');
}

/** An account that finished its invitation (password set; staff: TOTP confirmed), written to the database. */
async function readyAccount(
  input: Omit<NewAccount, 'createdBy' | 'name'> & { name?: string },
): Promise<Account & { totpSecret: string | null }> {
  const account = await insertAccount(stack.database.db, {
    name: '测试用户',
    ...input,
    ...(input.kind === 'staff' ? { totpSecret: newTotpSecret() } : {}),
    createdBy: 'test',
  });
  if (!account) throw new Error(`${input.email} exists`);
  await setPasswordHash(stack.database.db, account.id, await hashPassword(PASSWORD), { endCredentials: false });
  if (account.kind === 'staff') await confirmTotp(stack.database.db, account.id, new Date());
  return account;
}

/** The one-time link of the `n`th (from 0) email of `purpose` to `to`, once it arrived in the sink. */
const linkIn = (to: string, purpose: string, n = 0): Promise<string> => accountLinkIn(stack.mailbox, to, purpose, n);

describe('every post to an account form is answered with a zh-CN page', () => {
  const email = 'typed.here@zzu.edu.cn';
  const secret = 'Secret-never-echoed-9';
  const shapes: {
    what: string;
    status: number;
    says: string;
    headers?: Record<string, string>;
    body: string | Buffer;
    keepsEmail?: boolean;
  }[] = [
    { what: 'an empty post', status: 403, says: '安全令牌', body: '' },
    {
      what: 'a multipart form without its CSRF token',
      status: 403,
      says: '安全令牌',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: `--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}\r\n--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n${secret}\r\n--XyZ--\r\n`,
      keepsEmail: true,
    },
    {
      what: 'JSON',
      status: 415,
      says: '只受理网页表单提交',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: secret }),
      keepsEmail: true,
    },
    {
      what: 'text/plain',
      status: 415,
      says: '只受理网页表单提交',
      headers: { 'content-type': 'text/plain' },
      body: `email=${email}\r\npassword=${secret}\r\n`,
      keepsEmail: true,
    },
    {
      what: 'another charset',
      status: 415,
      says: '请使用 UTF-8',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=gbk' },
      body: `email=${email}&password=${secret}`,
    },
    {
      what: 'bytes that are not UTF-8',
      status: 400,
      says: '不是有效的 UTF-8',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${email}&password=%FF%FE${secret}`,
    },
    {
      what: 'a NUL',
      status: 400,
      says: 'NUL',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${email}%00&password=${secret}`,
    },
    {
      what: 'an oversize post',
      status: 413,
      says: '提交的内容过长',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${email}&password=${'x'.repeat(20_000)}`,
    },
    {
      what: 'a repeated field',
      status: 422,
      says: '电子邮箱只能填写一项',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${email}&email=other@zzu.edu.cn&password=${secret}`,
      keepsEmail: true,
    },
  ];

  for (const shape of shapes) {
    it(`${shape.what}: ${shape.status}, says what to fix${shape.keepsEmail ? ', keeps the email' : ''}, never the password`, async () => {
      const visitor = new Visitor();
      await visitor.get('/account/sign-in');
      const page = await visitor.request('POST', '/account/sign-in', {
        ...(shape.headers ? { headers: shape.headers } : {}),
        body: shape.body,
      });
      expectPage(page, shape.status);
      expect(textOf(page)).toContain(shape.says);
      // The sign-in form again, with a fresh CSRF token: sending it again is one click.
      expect(csrfIn(page)).toBeTruthy();
      if (shape.keepsEmail) expect(page.text).toContain(`value="${email}"`);
      expect(page.text).not.toContain(secret);
    });
  }

  it('the other forms too: the reset request keeps the email; the invitation page keeps its form', async () => {
    const visitor = new Visitor();
    const reset = await visitor.request('POST', '/account/reset', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expectPage(reset, 415);
    expect(reset.text).toContain(`value="${email}"`);
    const invitation = await visitor.request('POST', '/account/invitation/not-a-token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' },
      body: 'password=x',
    });
    // The link is checked when the form is shown again: a page saying the link is not good.
    expectPage(invitation, 410);
    const signOut = await visitor.request('POST', '/account/sign-out', {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expectPage(signOut, 415);
  });
});

describe('only a real check is a sign-in attempt', () => {
  it('posts refused before any password is checked (415, 422, no CSRF token) never lock an administrator out', async () => {
    const email = 'admin.not.locked@ronghe.example';
    const account = await readyAccount({ kind: 'staff', staffRole: 'administrator', email });
    const visitor = new Visitor();
    const form = await visitor.get('/account/sign-in');
    const formBody = `email=${encodeURIComponent(email)}&password=wrong`;
    for (let i = 0; i < ACCOUNT_LIMIT + 2; i++) {
      // The JSON API sent a form, a body without its password, a password that is not text.
      const asForm = await visitor.request('POST', '/api/session', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody,
      });
      expect(asForm.status).toBe(415);
      expect((await visitor.json('POST', '/api/session', { email })).status).toBe(422);
      expect((await visitor.json('POST', '/api/session', { email, password: 12345678 })).status).toBe(422);
      // Nothing readable at all: no email, shared by nobody.
      const empty = await visitor.request('POST', '/api/session', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'password=wrong',
      });
      expect(empty.status).toBe(415);
      // The page sent text, a repeated field, no CSRF token.
      const asText = await visitor.request('POST', '/account/sign-in', {
        headers: { 'content-type': 'text/plain' },
        body: formBody,
      });
      expectPage(asText, 415);
      const repeated = await visitor.request('POST', '/account/sign-in', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrfIn(form))}&${formBody}&email=${encodeURIComponent(email)}`,
      });
      expectPage(repeated, 422);
      expectPage(await visitor.submit('/account/sign-in', { email, password: 'wrong' }), 403);
      // The page without a password, or with an empty one: nothing to check yet.
      const unfilled = await visitor.submit('/account/sign-in', { email }, { from: form });
      expectPage(unfilled, 422);
      expect(textOf(unfilled)).toContain('请填写密码');
      expectPage(await visitor.submit('/account/sign-in', { email, password: '' }, { from: form }), 422);
    }
    const code = authenticator(account.totpSecret!, email).generate();
    const signedIn = await new Visitor().json('POST', '/api/session', { email, password: PASSWORD, totp: code });
    expect([signedIn.status, signedIn.body.code]).toEqual([200, undefined]);
  });
});

describe("someone else's guesses", () => {
  it('lock an account out only until its owner resets the password from the emailed link', async () => {
    const email = 'guessed.at@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      expect((await new Visitor().json('POST', '/api/session', { email, password: `guess ${i}` })).status).toBe(401);
    }
    const locked = await new Visitor().json('POST', '/api/session', { email, password: PASSWORD });
    expect([locked.status, locked.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(String(locked.body.detail)).toContain('重置后即可登录');

    const owner = new Visitor();
    const form = await owner.get('/account/reset');
    expectPage(await owner.submit('/account/reset', { email }, { from: form }), 200);
    const link = await linkIn(email, 'account.password_reset');
    const newPasswordForm = await owner.get(link);
    const done = await owner.submit(
      new URL(link).pathname,
      { password: NEW_PASSWORD, confirm: NEW_PASSWORD },
      { from: newPasswordForm },
    );
    expectPage(done, 200);
    const signedIn = await new Visitor().json('POST', '/api/session', { email, password: NEW_PASSWORD });
    expect(signedIn.status, signedIn.text).toBe(200);
  });
});

describe('errors inside the account page routes are pages', () => {
  it('a sign-in limit: 429 with when to try again, the typed email kept', async () => {
    const email = 'limited.page@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    const visitor = new Visitor();
    let form = await visitor.get('/account/sign-in');
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      form = await visitor.submit('/account/sign-in', { email, password: `wrong ${i}` }, { from: form });
      expectPage(form, 401);
    }
    const limited = await visitor.submit('/account/sign-in', { email, password: PASSWORD }, { from: form });
    expectPage(limited, 429);
    expect(textOf(limited)).toMatch(
      /该账号登录失败次数过多，请于\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间）后再试/,
    );
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.text).toContain(`value="${email}"`);
    expect(limited.text).not.toContain(PASSWORD);
  });

  it('a store failure: 503 page with the typed email (PostgreSQL out of reach)', async () => {
    const closedPort = await freePort();
    const db = createDb(`postgres://ronghe@127.0.0.1:${closedPort}/nowhere`);
    const created = createApp({
      config: stack.config,
      db,
      temporal: stack.client,
      attachments: stack.attachments,
      logger: testLogger(),
    });
    const server = created.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const visitor = new Visitor(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      const page = await visitor.request('POST', '/account/sign-in', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=store.down%40zzu.edu.cn&password=whatever',
      });
      expectPage(page, 503);
      expect(textOf(page)).toContain('服务暂时不可用');
      expect(page.headers['retry-after']).toBeDefined();
      expect(page.text).toContain('value="store.down@zzu.edu.cn"');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await created.close();
      await db.destroy();
    }
  });
});

describe('the second factor', () => {
  it('the TOTP page is limited per account waiting for its second factor, shared with the JSON sign-in', async () => {
    const email = 'totp.guesser@ronghe.example';
    const account = await readyAccount({ kind: 'staff', staffRole: 'officer', email });
    const visitor = new Visitor();
    const form = await visitor.get('/account/sign-in');
    let page = await visitor.submit('/account/sign-in', { email, password: PASSWORD }, { from: form });
    expectPage(page, 200);
    expect(textOf(page)).toContain('输入动态验证码');
    // express-rate-limit takes a successful attempt back after its response has gone (skipSuccessfulRequests):
    // wait for that, or the first wrong code may be counted on top of it.
    await eventually(
      async () => {
        const [row] = await stack.database
          .db('rate_limit.records_aggregated')
          .where({ key: email })
          .sum<{ n: string | null }[]>('count as n');
        return Number(row?.n ?? 0) === 0 ? true : undefined;
      },
      { what: `the password step for ${email} no longer counted` },
    );
    const right = authenticator(account.totpSecret!, email);
    // A code no step of the window accepts.
    let wrong = '000000';
    while (right.validate({ token: wrong, window: 2 }) !== null) wrong = String(Number(wrong) + 1).padStart(6, '0');
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      page = await visitor.submit('/account/sign-in/totp', { totp: wrong }, { from: page });
      expectPage(page, 401);
    }
    page = await visitor.submit('/account/sign-in/totp', { totp: right.generate() }, { from: page });
    expectPage(page, 429);
    expect(textOf(page)).toContain('该账号登录失败次数过多');
    // The same count as the JSON sign-in's: no second door.
    const api = await new Visitor().json('POST', '/api/session', { email, password: PASSWORD, totp: right.generate() });
    expect([api.status, api.body.code]).toEqual([429, 'RATE_LIMITED']);
  });

  it('the code that confirmed the enrolment cannot sign in again', async () => {
    const email = 'totp.replay@ronghe.example';
    const account = await insertAccount(stack.database.db, {
      kind: 'staff',
      staffRole: 'officer',
      email,
      name: '赵六',
      totpSecret: newTotpSecret(),
      createdBy: 'test',
    });
    const { url } = await sendAccountLink(
      { db: stack.database.db, outbox, clock: () => new Date() },
      account!,
      'invitation',
      stack.api.url,
    );
    const visitor = new Visitor();
    const form = await visitor.get(url);
    expectPage(form, 200);
    const code = authenticator(account!.totpSecret!, email).generate();
    const accepted = await visitor.submit(
      new URL(url).pathname,
      { password: PASSWORD, confirm: PASSWORD, totp: code },
      { from: form },
    );
    expectPage(accepted, 200);
    expect(textOf(accepted)).toContain('身份验证器已绑定');
    const replay = await new Visitor().json('POST', '/api/session', { email, password: PASSWORD, totp: code });
    expect([replay.status, replay.body.code]).toEqual([401, 'SECOND_FACTOR_INVALID']);
  });
});

describe('links in emails', () => {
  it('a reset requested with Host: evil.example links to the API’s own address, not to evil.example', async () => {
    const email = 'host.header@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    const visitor = new Visitor();
    const headers = { host: 'evil.example', 'x-forwarded-host': 'evil.example' };
    const form = await visitor.get('/account/reset', headers);
    expectPage(form, 200);
    expectPage(await visitor.submit('/account/reset', { email }, { from: form, headers }), 200);
    const link = await linkIn(email, 'account.password_reset');
    expect(link).not.toContain('evil.example');
    expect(link.startsWith(`${stack.api.url}/account/reset/`)).toBe(true);
  });
});

describe('password reset, end to end', () => {
  it('same page for a known and an unknown email → email → new password → every earlier session and token refused; the link is single use', async () => {
    const email = 'reset.me@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    // Two sessions (the page, the JSON API) and a personal access token.
    const onPage = new Visitor();
    const signInForm = await onPage.get('/account/sign-in');
    expect((await onPage.submit('/account/sign-in', { email, password: PASSWORD }, { from: signInForm })).status).toBe(
      303,
    );
    expectPage(await onPage.get('/account'), 200);
    const viaApi = new Visitor();
    const session = await viaApi.json('POST', '/api/session', { email, password: PASSWORD });
    expect(session.status).toBe(200);
    const created = await viaApi.json(
      'POST',
      '/api/access-tokens',
      { name: '导出脚本', expiresInDays: 7 },
      {
        'x-csrf-token': String(session.body.csrfToken),
      },
    );
    expect(created.status, created.text).toBe(201);
    const token = String(created.body.token);
    expect((await stack.request('GET', '/api/session', { token })).status).toBe(200);

    // The request page answers the same whatever the email.
    const asker = new Visitor();
    const resetForm = await asker.get('/account/reset');
    const known = await asker.submit('/account/reset', { email }, { from: resetForm });
    const unknown = await asker.submit('/account/reset', { email: 'no.such.person@zzu.edu.cn' }, { from: resetForm });
    expectPage(known, 200);
    expect([unknown.status, textOf(unknown).replace('no.such.person@zzu.edu.cn', email)]).toEqual([200, textOf(known)]);

    const link = await linkIn(email, 'account.password_reset');
    const stranger = new Visitor();
    const newPasswordForm = await stranger.get(link);
    expectPage(newPasswordForm, 200);
    const done = await stranger.submit(
      new URL(link).pathname,
      { password: NEW_PASSWORD, confirm: NEW_PASSWORD },
      { from: newPasswordForm },
    );
    expectPage(done, 200);
    expect(textOf(done)).toContain('新密码已设置');

    // Every earlier session and token: refused.
    const pageAfter = await onPage.get('/account');
    expectPage(pageAfter, 401);
    expect(textOf(pageAfter)).toContain('密码已重置');
    const apiAfter = await viaApi.json('GET', '/api/session');
    expect([apiAfter.status, apiAfter.body.code]).toEqual([401, 'SESSION_ENDED']);
    const tokenAfter = await stack.request<{ code: string }>('GET', '/api/session', { token });
    expect([tokenAfter.status, tokenAfter.body.code]).toEqual([401, 'SESSION_ENDED']);

    // The link is single use, to open and to post.
    const again = await new Visitor().get(link);
    expectPage(again, 410);
    expect(textOf(again)).toContain('只能使用一次');
    const postAgain = await stranger.submit(
      new URL(link).pathname,
      { password: PASSWORD, confirm: PASSWORD },
      { from: newPasswordForm },
    );
    expectPage(postAgain, 410);

    // The new password signs in; the old one does not.
    expect((await new Visitor().json('POST', '/api/session', { email, password: NEW_PASSWORD })).status).toBe(200);
    expect((await new Visitor().json('POST', '/api/session', { email, password: PASSWORD })).status).toBe(401);
  });

  it('in production the session cookie is Secure (sent only over HTTPS, behind a trusted proxy)', async () => {
    const email = 'secure.cookie@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    const { api } = await startProductionApi(stack, { TRUST_PROXY: 'loopback' });
    try {
      const viaTls = new Visitor(api.url);
      const signedIn = await viaTls.json(
        'POST',
        '/api/session',
        { email, password: PASSWORD },
        {
          'x-forwarded-proto': 'https',
        },
      );
      expect(signedIn.status).toBe(200);
      const cookie = signedIn.headers['set-cookie']?.find((c) => c.startsWith('ronghe.sid='));
      expect(cookie).toBeDefined();
      expect(cookie!.split(/;\s*/).map((a) => a.toLowerCase())).toEqual(
        expect.arrayContaining(['secure', 'httponly', 'samesite=lax']),
      );
      // Over plain HTTP the cookie is never sent.
      const plain = await new Visitor(api.url).json('POST', '/api/session', { email, password: PASSWORD });
      expect(plain.headers['set-cookie']?.find((c) => c.startsWith('ronghe.sid='))).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});

describe('the audit trail', () => {
  it('keeps an email that names no account as a keyed digest, never in clear', async () => {
    const typed = ['nobody.here@ronghe.example', 'Hunter2-typed-in-the-email-box'];
    await new Visitor().json('POST', '/api/session', { email: typed[0], password: 'whatever it is' });
    const visitor = new Visitor();
    const form = await visitor.get('/account/sign-in');
    expectPage(await visitor.submit('/account/sign-in', { email: typed[1]!, password: 'x' }, { from: form }), 401);
    const resetForm = await visitor.get('/account/reset');
    expectPage(await visitor.submit('/account/reset', { email: typed[0]! }, { from: resetForm }), 200);
    const rows = await stack.database
      .db<{ action: string; subject_kind: string; subject_id: string }>('audit_events')
      .whereIn('action', ['account.sign_in_refused', 'account.reset_requested'])
      .where({ subject_kind: 'account_email' })
      .orderBy('id');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) {
      expect(row.subject_id).toMatch(/^hmac:[0-9a-f]{16}$/);
      const all = JSON.stringify(row).toLowerCase();
      for (const t of typed) expect(all).not.toContain(t.toLowerCase());
    }
    // The same address typed twice: the same digest (repeated attempts can be told apart). This test's reset is
    // the last one written (earlier tests requested resets for other addresses).
    const digests = rows.filter((r) => r.action === 'account.reset_requested').map((r) => r.subject_id);
    expect(rows.filter((r) => r.action === 'account.sign_in_refused').map((r) => r.subject_id)).toContain(
      digests.at(-1),
    );
  });
});

describe('closing the API', () => {
  it('leaves nothing open: its session pool and prune timer, rate limits and SMTP transport end; no unhandled error', async () => {
    const email = 'close.check@zzu.edu.cn';
    await readyAccount({ kind: 'institution', institutionId: 'zzu', email });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/api-close.child.ts'], {
      env: {
        ...process.env,
        RONGHE_CHILD_DATABASE_URL: stack.database.url,
        RONGHE_CHILD_SMTP_URL: stack.maildev.smtpUrl,
        RONGHE_CHILD_TEMPORAL_ADDRESS: stack.temporal.address,
        RONGHE_CHILD_EMAIL: email,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as {
      closed: boolean;
      openSockets: string[];
      timersLeft: string[];
      resources: string[];
      unhandled: string[];
    };
    expect(report.closed).toBe(true);
    // Right after close: no connection to PostgreSQL or SMTP left open.
    expect(report.openSockets).toEqual([]);
    // No library timer left set (the session store's prune timer is unref'd: it would fire on a closed pool).
    expect(report.timersLeft).toEqual([]);
    expect(report.unhandled).toEqual([]);
    // When the loop ran dry: nothing but the process's own pipes.
    expect(report.resources.filter((r) => !['PipeWrap', 'TTYWrap'].includes(r))).toEqual([]);
    // The reset email went out through the child's own transport before it closed.
    await linkIn(email, 'account.password_reset');
  }, 120_000);
});
