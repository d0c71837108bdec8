import zlib from 'node:zlib';
import express from 'express';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { errorHandler } from '../../api/errors.js';
import { jsonBody } from '../../api/json.js';
import { ApiRoutes, z } from '../../api/route.js';
import type { RunningApi } from '../../api/server.js';
import { createApplication } from '../../db/repositories/round.applications.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';
import type { TestDatabase } from '../support/database.js';
import { insertDemoRound } from '../support/round.demo.js';
import { staffAccessToken } from '../support/accounts.js';

/**
 * Issue 14, points 1 and 9: every input gets a clear answer. The API runs on a private database with no
 * workflow engine behind it (its Temporal client points at a closed port): the routes exercised here read and
 * write PostgreSQL only, or are refused before they reach Temporal.
 */

const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0' });
let database: TestDatabase;
let api: RunningApi;
let offline: ApiWithoutTemporal;
let applicant: string;
let staff: string;
let applicationId: string;

/** 郑州大学 in GBK (the example of point 1): D6A3 D6DD B4F3 D1A7, not valid UTF-8. */
const ZHENGZHOU_UNIVERSITY_GBK = Buffer.from([0xd6, 0xa3, 0xd6, 0xdd, 0xb4, 0xf3, 0xd1, 0xa7]);

const EARLIER_DRAFT = {
  title: '郑州大学产教融合示范高校建设方案',
  field: 'next_gen_it',
  summary: '以新一代信息技术为牵引，联合企业共建现代产业学院。',
};

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
  ({ database, api } = offline);
  applicant = await signToken({ role: 'applicant', id: 'zzu' }, config.auth.secret);
  staff = await signToken({ role: 'staff', id: 'tester' }, config.auth.secret);
  await insertDemoRound(database.db);
  const app = await createApplication(database.db, {
    roundId: 'round-demo_university-2027',
    institutionId: 'zzu',
    createdBy: 'applicant:zzu',
    draft: {},
  });
  applicationId = app.id;
});

afterAll(async () => {
  await offline?.stop();
});

function send(
  method: string,
  url: string,
  options: { token?: string; contentType?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${api.url}${url}`, {
    method,
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
}

async function draftNow(): Promise<{ draft: { title?: string }; revision: number }> {
  const res = await send('GET', `/api/applications/${applicationId}`, { token: applicant });
  expect(res.status).toBe(200);
  return (await res.json()) as { draft: { title?: string }; revision: number };
}

function jsonWithTitle(title: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('{"title":"'), title, Buffer.from('"}')]);
}

describe('point 1: text that is not UTF-8 is refused, never stored', () => {
  it('knows its example: the bytes are 郑州大学 in GBK and not UTF-8', () => {
    expect(new TextDecoder('gbk', { fatal: true }).decode(ZHENGZHOU_UNIVERSITY_GBK)).toBe('郑州大学');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(ZHENGZHOU_UNIVERSITY_GBK)).toThrow();
  });

  it('when a draft’s title is sent in GBK as application/json without a charset, then 400 INVALID_ENCODING and the earlier draft is intact', async () => {
    const saved = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json',
      body: JSON.stringify(EARLIER_DRAFT),
    });
    expect(saved.status).toBe(200);
    const before = await draftNow();
    expect(before.draft.title).toBe(EARLIER_DRAFT.title);

    const res = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json',
      body: jsonWithTitle(ZHENGZHOU_UNIVERSITY_GBK),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      code: 'INVALID_ENCODING',
      title: '请求内容的字符编码无效',
      detail: expect.stringContaining('请求体'),
    });
    expect(await draftNow()).toEqual(before);
  });

  it('when the body declares UTF-8 (or an application/*+json type) and is not, then 400 too', async () => {
    const before = await draftNow();
    for (const contentType of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const res = await send('PUT', `/api/applications/${applicationId}`, {
        token: applicant,
        contentType,
        body: jsonWithTitle(ZHENGZHOU_UNIVERSITY_GBK),
      });
      expect([contentType, res.status, ((await res.json()) as { code: string }).code]).toEqual([
        contentType,
        400,
        'INVALID_ENCODING',
      ]);
    }
    expect(await draftNow()).toEqual(before);
  });

  it('when a JSON string holds a lone surrogate or U+0000 (no UTF-8 carries it, PostgreSQL cannot store it), then 400 naming the field, not 500', async () => {
    const before = await draftNow();
    for (const [body, field] of [
      ['{"title":"\\ud800郑州大学"}', 'title'],
      ['{"title":"郑州\\u0000大学"}', 'title'],
      ['{"summary":"x","principal":{"name":"王\\udc00"}}', 'principal.name'],
    ] as const) {
      const res = await send('PUT', `/api/applications/${applicationId}`, {
        token: applicant,
        contentType: 'application/json',
        body,
      });
      expect([body, res.status]).toEqual([body, 400]);
      expect(await res.json()).toMatchObject({ code: 'INVALID_ENCODING', detail: expect.stringContaining(field) });
    }
    expect(await draftNow()).toEqual(before);
  });

  it('when the body declares GBK or UTF-16, then it is decoded by that charset; bytes not valid in it are 400; an unknown charset is 415', async () => {
    const gbk = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=GBK',
      body: jsonWithTitle(ZHENGZHOU_UNIVERSITY_GBK),
    });
    expect(gbk.status).toBe(200);
    expect((await draftNow()).draft.title).toBe('郑州大学');

    const utf16 = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=utf-16le',
      body: Buffer.from(JSON.stringify(EARLIER_DRAFT), 'utf16le'),
    });
    expect(utf16.status).toBe(200);
    const before = await draftNow();
    expect(before.draft.title).toBe(EARLIER_DRAFT.title);

    const badGbk = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=gbk',
      body: jsonWithTitle(Buffer.from([0xd6, 0xa3, 0x81, 0x20])),
    });
    expect(badGbk.status).toBe(400);
    expect(await badGbk.json()).toMatchObject({ code: 'INVALID_ENCODING', detail: expect.stringContaining('GBK') });

    const unknown = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=x-no-such-charset',
      body: JSON.stringify({ title: 'x' }),
    });
    expect(unknown.status).toBe(415);
    expect(await unknown.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await draftNow()).toEqual(before);
  });

  it('when a query string, a path parameter or an upload’s fileName is percent-encoded GBK (or NUL), then 400 INVALID_ENCODING and nothing is written', async () => {
    const gbk = '%D6%A3%D6%DD%B4%F3%D1%A7';
    const cases: [string, string][] = [
      ['GET', `/api/rounds/round-demo_university-2027/applications?status=${gbk}`],
      ['GET', `/api/applications/${gbk}`],
      ['GET', `/api/applications/${applicationId}?x=1&note=${gbk}`],
      ['POST', `/api/applications/${applicationId}/attachments?kind=application_form&fileName=${gbk}.pdf`],
      ['GET', `/api/applications/%zz`],
      ['GET', '/api/rounds/round-demo_university-2027/applications?status=%00'],
      ['POST', `/api/applications/${applicationId}/attachments?kind=application_form&fileName=a%00.pdf`],
    ];
    for (const [method, url] of cases) {
      const res = await send(method, url, {
        token: applicant,
        ...(method === 'POST' ? { contentType: 'application/pdf', body: Buffer.from('%PDF-1.4\n%%EOF\n') } : {}),
      });
      expect([url, res.status, ((await res.json()) as { code: string }).code]).toEqual([url, 400, 'INVALID_ENCODING']);
    }
    const files = await database.db('attachments').where({ application_id: applicationId });
    expect(files).toEqual([]);
  });

  it('when the query is valid percent-encoded UTF-8, then it is read as such', async () => {
    const res = await send(
      'GET',
      `/api/rounds/round-demo_university-2027/applications?status=${encodeURIComponent('草稿')}`,
      {
        token: applicant,
      },
    );
    expect(res.status).toBe(200);
  });

  it('documents INVALID_ENCODING on every operation, and MALFORMED_JSON and 415 where a JSON body is taken', async () => {
    const doc = (await (await send('GET', '/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: unknown; responses: Record<string, { description: string }> }>
      >;
    };
    for (const [pathName, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        expect(op.responses['400']?.description, `${method} ${pathName}`).toContain('INVALID_ENCODING');
      }
    }
    const put = doc.paths['/api/applications/{applicationId}']!.put!;
    expect(put.responses['400']!.description).toContain('MALFORMED_JSON');
    expect(put.responses['415']!.description).toContain('UNSUPPORTED_MEDIA_TYPE');
  });

  it('when the public objection form is posted with percent-encoded GBK or a NUL, then a 400 page saying what is wrong', async () => {
    const res = await send('POST', '/publicity/00000000-0000-4000-8000-000000000000/objection', {
      contentType: 'application/x-www-form-urlencoded',
      body: 'name=%D6%A3%D6%DD&unit=x&phone=1&email=a%40b.example&facts=0123456789',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('不是有效的 UTF-8 编码文字');
    const nul = await send('POST', '/publicity/00000000-0000-4000-8000-000000000000/objection', {
      contentType: 'application/x-www-form-urlencoded',
      body: 'name=%E7%8E%8B%00&unit=x&phone=1&email=a%40b.example&facts=0123456789',
    });
    expect(nul.status).toBe(400);
    expect(await nul.text()).toContain('无法保存的控制字符（NUL）');
  });
});

describe('point 9: requests behave as a caller expects', () => {
  it('when limit is empty, then the default applies', async () => {
    const outbox = await send('GET', '/api/outbox?limit=', { token: staff });
    expect(outbox.status).toBe(200);
    const applications = await send('GET', '/api/rounds/round-demo_university-2027/applications?limit=&after=', {
      token: staff,
    });
    expect(applications.status).toBe(200);
    const emptyAfter = await send('GET', '/api/outbox?after=&limit=5', { token: staff });
    expect(emptyAfter.status).toBe(200);
  });

  const surprises = ['0x10', '1e2', '+5', ' 5', '5 ', '5.0', '05', '-0', '0b11', 'Infinity', '١٢'];

  it.each(surprises)('when a query integer is written %j, then 422 naming the parameter', async (form) => {
    const cases: [string, string][] = [
      [`/api/outbox?limit=${encodeURIComponent(form)}`, 'limit'],
      [`/api/outbox?after=${encodeURIComponent(form)}`, 'after'],
      [`/api/rounds/round-demo_university-2027/applications?limit=${encodeURIComponent(form)}`, 'limit'],
      [`/api/calendar/period?opens=2027-03-15&workingDays=${encodeURIComponent(form)}`, 'workingDays'],
      [
        `/api/calendar/reminder?deadlineDay=2027-04-06&workingDaysBefore=${encodeURIComponent(form)}`,
        'workingDaysBefore',
      ],
    ];
    for (const [url, field] of cases) {
      const res = await send('GET', url, { token: staff });
      const problem = (await res.json()) as { code: string; errors?: { path: string; message: string }[] };
      expect([url, res.status, problem.code]).toEqual([url, 422, 'VALIDATION_FAILED']);
      expect(problem.errors?.map((e) => e.path)).toEqual([field]);
      expect(problem.errors?.[0]?.message).toContain('十进制整数');
    }
  });

  it.each(['0x7EB', '2027.0', '2.027e3', '+2027'])(
    'when a path integer is written %j, then 422 naming the parameter',
    async (form) => {
      for (const [method, url, field] of [
        ['GET', `/api/calendar/years/${encodeURIComponent(form)}`, 'year'],
        ['POST', `/api/outbox/${encodeURIComponent(form)}/resend`, 'id'],
      ] as const) {
        const res = await send(method, url, { token: staff });
        const problem = (await res.json()) as { code: string; errors?: { path: string }[] };
        expect([url, res.status, problem.code]).toEqual([url, 422, 'VALIDATION_FAILED']);
        expect(problem.errors?.map((e) => e.path)).toEqual([field]);
      }
    },
  );

  it('when a query names a parameter the route does not read (a mistyped filter), then 422 naming it; an empty one is absent', async () => {
    for (const url of [
      `/api/rounds/round-demo_university-2027/applications?statuss=submitted`,
      `/api/rounds/round-demo_university-2027?foo=1`,
    ]) {
      const res = await send('GET', url, { token: staff });
      const problem = (await res.json()) as { code: string; errors: { path: string; message: string }[] };
      expect([url, res.status, problem.code]).toEqual([url, 422, 'VALIDATION_FAILED']);
      expect(problem.errors[0]!.message).toMatch(/查询参数中没有“(statuss|foo)”这一项/);
    }
    const empty = await send('GET', `/api/rounds/round-demo_university-2027?foo=`, { token: staff });
    expect(empty.status).toBe(200);
  });

  it('when a query integer is repeated, then 422; a canonical one is read', async () => {
    const repeated = await send('GET', '/api/outbox?limit=1&limit=2', { token: staff });
    expect(repeated.status).toBe(422);
    expect(((await repeated.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['limit']);
    expect((await send('GET', '/api/outbox?limit=5&after=0', { token: staff })).status).toBe(200);
    expect((await send('GET', '/api/calendar/years/2027', { token: staff })).status).not.toBe(422);
  });

  it('documents every integer in a query or a path as an integer with its bounds', async () => {
    const doc = (await (await send('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; schema: { type?: string } }[] }>>;
    };
    const limit = doc.paths['/api/outbox']!.get!.parameters!.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 100 });
    const year = doc.paths['/api/calendar/years/{year}']!.get!.parameters!.find((p) => p.name === 'year');
    expect(year?.schema).toMatchObject({ type: 'integer', minimum: 1901, maximum: 2099 });
  });

  it('when an application is withdrawn without a body, then the request is taken (not 422), as with {}', async () => {
    // No workflow engine here: past validation, the withdrawal is received and kept for delivery (503); on the
    // base commit it was refused as an invalid body (422).
    const res = await send('POST', `/api/applications/${applicationId}/withdraw`, { token: applicant });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([503, 'RECEIPT_KEPT']);
  });

  it('documents the body of an action with nothing to say as optional, and of a replacement as required', async () => {
    const doc = (await (await send('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    };
    expect(doc.paths['/api/applications/{applicationId}/withdraw']!.post!.requestBody?.required).toBe(false);
    expect(doc.paths['/api/applications/{applicationId}']!.put!.requestBody?.required).toBe(true);
  });

  describe('an absent body, for any route', () => {
    let server: ReturnType<express.Express['listen']>;
    let base: string;

    beforeAll(async () => {
      const routes = new ApiRoutes({
        db: database.db,
        clock: () => new Date(),
        temporal: offline.temporal,
      });
      const optional = z.object({ reason: z.string().max(10).optional() });
      const required = z.object({ title: z.string().min(4), year: z.number().int(), note: z.string().optional() });
      for (const [method, pathName, body] of [
        ['post', '/accept', optional],
        ['delete', '/drop', optional],
        ['post', '/create', required],
        ['put', '/replace', optional],
      ] as const) {
        routes.add<undefined, undefined, unknown>({
          method,
          path: pathName,
          summary: pathName,
          tags: ['test'],
          access: 'public',
          body,
          responses: { 200: { description: 'ok' } },
          handler: ({ body: received }) => Promise.resolve({ status: 200, body: { received } }),
        });
      }
      const app = express();
      app.use(jsonBody('1mb'));
      app.use(routes.router);
      app.use(errorHandler(createLogger({ level: 'silent' })));
      server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(() => {
      server?.close();
    });

    it('when an action whose body is all optional gets none (or an empty JSON body), then it is {}', async () => {
      for (const [method, url, contentType] of [
        ['POST', '/accept', undefined],
        ['POST', '/accept', 'application/json'],
        ['DELETE', '/drop', undefined],
      ] as const) {
        const res = await fetch(`${base}${url}`, {
          method,
          ...(contentType ? { headers: { 'Content-Type': contentType }, body: '' } : {}),
        });
        expect([method, url, res.status]).toEqual([method, url, 200]);
        expect(await res.json()).toEqual({ received: {} });
      }
    });

    it('when a body with required fields is left out, then 422 naming each of them', async () => {
      const res = await fetch(`${base}/create`, { method: 'POST' });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path)).toEqual(['title', 'year']);
    });

    it('when a replacement (PUT) is sent without a body, then 422: it is not read as "empty everything"', async () => {
      const res = await fetch(`${base}/replace`, { method: 'PUT' });
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        detail: expect.stringContaining('缺少请求体'),
      });
    });

    it('when a JSON route is sent a body of another type, then 415: the body is never read as absent', async () => {
      for (const [url, contentType, body] of [
        ['/accept', 'text/plain', '{"reason":"材料有误"}'],
        ['/accept', 'application/x-www-form-urlencoded', 'reason=x'],
        ['/create', 'application/x-www-form-urlencoded', 'title=abcd&year=2027'],
        ['/create', undefined, '{"title":"abcd","year":2027}'],
      ] as const) {
        const res = await fetch(`${base}${url}`, {
          method: 'POST',
          headers: contentType ? { 'Content-Type': contentType } : {},
          body,
        });
        const problem = (await res.json()) as { code: string; detail: string };
        expect([url, contentType, res.status, problem.code]).toEqual([url, contentType, 415, 'UNSUPPORTED_MEDIA_TYPE']);
        expect(problem.detail).toContain('application/json');
      }
      // An empty body of another type is no body.
      const empty = await fetch(`${base}/accept`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: '',
      });
      expect([empty.status, await empty.json()]).toEqual([200, { received: {} }]);
    });

    it.each(['gzip', 'deflate', 'br'])(
      'when a JSON body says Content-Encoding %s but is not so compressed, then 400 BODY_UNREADABLE; compressed, it is read',
      async (encoding) => {
        const bad = await fetch(`${base}/accept`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
          body: '{"reason":"x"}',
        });
        expect([bad.status, bad.headers.get('content-type')]).toEqual([400, 'application/problem+json; charset=utf-8']);
        expect(await bad.json()).toMatchObject({
          code: 'BODY_UNREADABLE',
          title: '请求体未完整收到或无法解压',
          detail: expect.stringContaining('请求体须按其压缩'),
        });
        const compress = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync }[encoding]!;
        const good = await fetch(`${base}/accept`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
          body: compress(Buffer.from('{"reason":"已压缩"}')),
        });
        expect([good.status, await good.json()]).toEqual([200, { received: { reason: '已压缩' } }]);
      },
    );
  });
});

describe('a JSON object names each field once', () => {
  it('when a draft names a field twice, at any depth or escaped, then 400 DUPLICATE_JSON_KEY naming it and the earlier draft is intact', async () => {
    const before = await draftNow();
    const cases: [string, string][] = [
      ['{"title":"郑州大学建设方案甲","title":"郑州大学建设方案乙"}', 'title'],
      // A name spelt with an escape is the same name once decoded.
      ['{"title":"郑州大学建设方案甲","tit\\u006ce":"郑州大学建设方案乙"}', 'title'],
      ['{"title":"郑州大学建设方案","partners":[{"name":"甲","name":"乙"}]}', 'partners.0.name'],
    ];
    for (const [body, path] of cases) {
      const res = await send('PUT', `/api/applications/${applicationId}`, {
        token: applicant,
        contentType: 'application/json',
        body,
      });
      const problem = (await res.json()) as { code: string; title: string; detail: string; errors: { path: string }[] };
      expect([body, res.status, problem.code, problem.title]).toEqual([
        body,
        400,
        'DUPLICATE_JSON_KEY',
        '请求体中同一字段出现了多次',
      ]);
      expect(problem.detail).toContain(`字段 ${path.split('.').at(-1)} 出现了不止一次`);
      expect(problem.errors.map((e) => e.path)).toEqual([path]);
    }
    expect(await draftNow()).toEqual(before);
    // The same name in two objects is two fields, not a repetition.
    const twoObjects = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json',
      body: JSON.stringify({ ...EARLIER_DRAFT, partners: [{ name: '甲' }, { name: '乙' }] }),
    });
    expect(twoObjects.status).not.toBe(400);
  });

  it('when a body nests thousands deep (10 kB of brackets, no sign-in needed), then 400 MALFORMED_JSON saying so, not 500', async () => {
    for (const body of ['['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)]) {
      const res = await send('POST', '/api/session', { contentType: 'application/json', body });
      const problem = (await res.json()) as { code: string; detail: string };
      expect([res.status, problem.code]).toEqual([400, 'MALFORMED_JSON']);
      expect(problem.detail).toContain('嵌套层级过深');
    }
    // Brackets inside a string are text, not nesting.
    const text = await send('POST', '/api/session', {
      contentType: 'application/json',
      body: JSON.stringify({ email: '['.repeat(5000), password: 'x' }),
    });
    expect(text.status).not.toBe(400);
  });

  it('when a review comment or an RSVP reason holds a control or bidi character, or a confirmation carries a reason, then 422 naming it', async () => {
    const expert = await signToken({ role: 'expert', id: 'exp-001' }, config.auth.secret);
    const someId = '00000000-0000-4000-8000-000000000000';
    const cases: [string, string, string, unknown, string][] = [
      ['PUT', `/api/assignments/${someId}/review`, expert, { scores: { a: 80 }, comment: '意见\u202e反向' }, 'comment'],
      ['POST', `/api/events/${someId}/rsvp`, applicant, { response: 'decline', reason: '时间\u0007冲突' }, 'reason'],
      ['POST', `/api/events/${someId}/rsvp`, applicant, { response: 'confirm', reason: '一定参加' }, 'reason'],
    ];
    for (const [method, url, token, body, field] of cases) {
      const res = await send(method, url, { token, contentType: 'application/json', body: JSON.stringify(body) });
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      expect([url, res.status, problem.code]).toEqual([url, 422, 'VALIDATION_FAILED']);
      expect(problem.errors.map((e) => e.path)).toContain(field);
    }
  });

  it('documents DUPLICATE_JSON_KEY where a JSON body is taken', async () => {
    const doc = (await (await send('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    expect(doc.paths['/api/accounts']!.post!.responses['400']!.description).toContain('DUPLICATE_JSON_KEY');
  });
});

describe('a body that cannot be read whole or is sent as another type, on every kind of route', () => {
  const notGzip = { 'Content-Encoding': 'gzip' };

  it('when a withdrawal is sent with a body not compressed as declared, then 400 BODY_UNREADABLE (not 500)', async () => {
    const res = await send('POST', `/api/applications/${applicationId}/withdraw`, {
      token: applicant,
      contentType: 'application/json',
      body: '{"reason":"材料有误"}',
      headers: notGzip,
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([400, 'BODY_UNREADABLE']);
  });

  it('when a withdrawal’s reason is sent as text/plain, then 415 and nothing is received without it', async () => {
    const receipts = () => database.db('update_receipts').count<{ n: string }[]>('* as n');
    const before = await receipts();
    const res = await send('POST', `/api/applications/${applicationId}/withdraw`, {
      token: applicant,
      contentType: 'text/plain',
      body: '{"reason":"材料有误"}',
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await receipts()).toEqual(before);
  });

  it('when a form page is posted with a body not compressed as declared, then a 400 page says so (not 500)', async () => {
    for (const url of [
      '/account/sign-in',
      '/account/reset',
      '/publicity/00000000-0000-4000-8000-000000000000/objection',
    ]) {
      const res = await send('POST', url, {
        contentType: 'application/x-www-form-urlencoded',
        body: 'email=a%40b.example&password=x',
        headers: notGzip,
      });
      expect([url, res.status, res.headers.get('content-type')]).toEqual([url, 400, 'text/html; charset=utf-8']);
      expect(await res.text()).toMatch(/未完整收到/);
    }
    // An assignment link's page looks its link up first: an unknown one is a 404 page, whatever the body.
    const link = await send('POST', '/review/assignment/0123456789abcdef0123456789abcdef', {
      contentType: 'application/x-www-form-urlencoded',
      body: 'email=a%40b.example&password=x',
      headers: notGzip,
    });
    expect([link.status, link.headers.get('content-type')]).toEqual([404, 'text/html; charset=utf-8']);
  });

  it('when a file is uploaded compressed, then 415 and nothing is stored', async () => {
    const res = await send(
      'POST',
      `/api/applications/${applicationId}/attachments?kind=application_form&fileName=a.pdf`,
      {
        token: applicant,
        contentType: 'application/pdf',
        body: zlib.gzipSync(Buffer.from('%PDF-1.4\n%%EOF\n')),
        headers: notGzip,
      },
    );
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await database.db('attachments').where({ application_id: applicationId })).toEqual([]);
  });

  it('documents BODY_UNREADABLE and PAYLOAD_TOO_LARGE where a JSON body is taken, and 415 on uploads', async () => {
    const doc = (await (await send('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    const withdraw = doc.paths['/api/applications/{applicationId}/withdraw']!.post!;
    expect(withdraw.responses['400']!.description).toContain('BODY_UNREADABLE');
    expect(withdraw.responses['413']!.description).toContain('PAYLOAD_TOO_LARGE');
    expect(withdraw.responses['415']!.description).toContain('UNSUPPORTED_MEDIA_TYPE');
    const upload = doc.paths['/api/applications/{applicationId}/attachments']!.post!;
    expect(upload.responses['415']!.description).toContain('UNSUPPORTED_MEDIA_TYPE');
  });
});

/**
 * A request sent with Node's own client, which sends a header given as a list once per value (fetch would join
 * them into one): two Authorization or Content-Type headers as a script can send them.
 */
function rawRequest(
  method: string,
  url: string,
  headers: Record<string, string | string[]>,
  body?: string | Buffer,
): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${api.url}${url}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a fresh walk: every input gets a clear answer (issue 14, second pass)', () => {
  it('when a JSON body declares a charset no Chinese text is written in (iso-8859-1, latin1, windows-1252, big5…), then 415 naming it and saying to send UTF-8, and nothing is written; a WHATWG label of UTF-8, UTF-16, GBK or GB18030 is read', async () => {
    const saved = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json',
      body: JSON.stringify(EARLIER_DRAFT),
    });
    expect(saved.status).toBe(200);
    const before = await draftNow();
    // The tester's example: UTF-8 bytes declared ISO-8859-1 were stored as mojibake with C1 controls (200).
    for (const charset of ['iso-8859-1', 'latin1', 'windows-1252', 'big5', 'us-ascii', 'utf-7']) {
      const res = await send('PUT', `/api/applications/${applicationId}`, {
        token: applicant,
        contentType: `application/json; charset=${charset}`,
        body: Buffer.from(JSON.stringify({ ...EARLIER_DRAFT, title: '郑州大学研究' }), 'utf8'),
      });
      expect([charset, res.status]).toEqual([charset, 415]);
      const problem = (await res.json()) as { code: string; detail: string };
      expect(problem.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(problem.detail).toContain(`不支持字符集 ${charset}`);
      expect(problem.detail).toContain('UTF-8');
    }
    expect(await draftNow()).toEqual(before);

    // Labels the Encoding Standard maps to an accepted encoding are read by it.
    const gb2312 = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=gb2312',
      body: jsonWithTitle(ZHENGZHOU_UNIVERSITY_GBK),
    });
    expect(gb2312.status).toBe(200);
    expect((await draftNow()).draft.title).toBe('郑州大学');
    for (const label of ['utf8', 'unicode-1-1-utf-8', '"UTF-8"']) {
      const res = await send('PUT', `/api/applications/${applicationId}`, {
        token: applicant,
        contentType: `application/json; charset=${label}`,
        body: JSON.stringify(EARLIER_DRAFT),
      });
      expect([label, res.status]).toEqual([label, 200]);
    }
    expect((await draftNow()).draft.title).toBe(EARLIER_DRAFT.title);

    // The form pages agree: a charset other than UTF-8 is a 415 page.
    const form = await send('POST', '/publicity/00000000-0000-4000-8000-000000000000/objection', {
      contentType: 'application/x-www-form-urlencoded; charset=iso-8859-1',
      body: 'name=x',
    });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toContain('text/html');
    expect(await form.text()).toContain('不支持字符集 iso-8859-1');
  });

  it('when the charset is given twice, or Content-Type is sent twice, then 415 saying it may be given once — on the JSON API and on the form pages', async () => {
    const before = await draftNow();
    const twice = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json; charset=gbk; charset=utf-8',
      body: JSON.stringify({ ...EARLIER_DRAFT, title: 'Zhengzhou University study' }),
    });
    expect(twice.status).toBe(415);
    const problem = (await twice.json()) as { code: string; detail: string };
    expect(problem).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(problem.detail).toContain('字符集（charset）只能给出一次');

    const twoHeaders = await rawRequest(
      'PUT',
      `/api/applications/${applicationId}`,
      { authorization: `Bearer ${applicant}`, 'content-type': ['application/json; charset=gbk', 'application/json'] },
      JSON.stringify({ ...EARLIER_DRAFT, title: 'Zhengzhou University study' }),
    );
    expect(twoHeaders.status).toBe(415);
    expect(twoHeaders.text).toContain('Content-Type 请求头只能给出一次');
    expect(await draftNow()).toEqual(before);

    for (const path of ['/publicity/00000000-0000-4000-8000-000000000000/objection', '/account/sign-in']) {
      const form = await send('POST', path, {
        contentType: 'application/x-www-form-urlencoded; charset=gbk; charset=utf-8',
        body: 'name=x&email=a%40b.example',
      });
      expect([path, form.status]).toEqual([path, 415]);
      expect(form.headers.get('content-type')).toContain('text/html');
      expect(await form.text()).toContain('字符集（charset）只能给出一次');
    }
  });

  it('when a page’s path or query is not UTF-8, or a page does not exist, then a zh-CN HTML page with the status says what to do; the API still answers problem+json', async () => {
    const cases: [string, number][] = [
      ['/publicity/%FF', 400],
      ['/rounds/%FF/outcome', 400],
      ['/showcases/%FF', 400],
      ['/showcases/x?q=%FF', 400],
      ['/showcases/showcase-2027?q=%D6%A3%D6%DD%B4%F3%D1%A7', 400],
      ['/publicity/%zz', 400],
      ['/no-such-page', 404],
    ];
    for (const [url, status] of cases) {
      const res = await send('GET', url);
      expect([url, res.status, res.headers.get('content-type')]).toEqual([url, status, 'text/html; charset=utf-8']);
      const html = await res.text();
      expect(html).toContain('<html lang="zh-CN">');
      expect(html).toContain(status === 400 ? '请求内容的字符编码无效' : '未找到请求的资源');
      expect(html).toContain(status === 400 ? '请从本系统的页面' : '请核对网址');
      expect(html).toContain('请求编号');
    }
    for (const url of ['/api/applications/%FF', '/openapi.json?x=%FF', '/healthz?x=%FF', '/api/no-such-thing']) {
      const res = await send('GET', url, { token: applicant });
      expect([url, res.headers.get('content-type')]).toEqual([url, 'application/problem+json; charset=utf-8']);
    }
  });

  it('when Authorization is sent twice, then 401 UNAUTHENTICATED saying only one may be given (neither is used)', async () => {
    const res = await rawRequest('GET', `/api/applications/${applicationId}`, {
      authorization: [`Bearer ${applicant}`, `Bearer ${staff}`],
    });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({
      code: 'UNAUTHENTICATED',
      detail: expect.stringContaining('只能给出一个 Authorization 请求头'),
    });
    const once = await rawRequest('GET', `/api/applications/${applicationId}`, {
      authorization: `Bearer ${applicant}`,
    });
    expect(once.status).toBe(200);
  });

  it('when a query integer is far beyond its range, then one sentence, the tightest bound (not also the safe-integer limit)', async () => {
    const res = await send('GET', '/api/outbox?limit=99999999999999999999', { token: staff });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { detail: string; errors: unknown[] };
    expect(problem.detail).toBe('每页条数不能大于 500');
    expect(problem.errors).toHaveLength(1);
  });

  it('when an account’s kind is unknown or missing, then 422 listing the kinds, or asking for it', async () => {
    const { token } = await staffAccessToken(database.db, {
      email: 'admin.h40@ronghe.example',
      staffRole: 'administrator',
    });
    const post = async (body: unknown) => {
      const res = await send('POST', '/api/accounts', {
        token,
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(422);
      return ((await res.json()) as { detail: string }).detail;
    };
    expect(await post({ kind: 'robot', email: 'x@ronghe.example', name: '李明' })).toBe(
      '账号类型应为以下之一：staff（管理服务中心工作人员）、institution（申报单位用户）、enterprise（合作企业用户）、expert（评审专家）',
    );
    expect(await post({ email: 'x@ronghe.example', name: '李明' })).toBe('请填写账号类型');
    const list = await send('GET', '/api/accounts?kind=robot', { token });
    expect(list.status).toBe(422);
    expect(((await list.json()) as { detail: string }).detail).toBe(
      '账号类型应为以下之一：staff、institution、enterprise、expert',
    );
  });

  it('when a PDF is sent as the account import (as application/octet-stream or as CSV), then 415 saying it is a PDF and to save as .xlsx, not 422 about its first line', async () => {
    const { token } = await staffAccessToken(database.db, {
      email: 'admin2.h40@ronghe.example',
      staffRole: 'administrator',
    });
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n', 'latin1');
    for (const contentType of ['application/octet-stream', 'text/csv']) {
      const res = await send('POST', '/api/accounts/imports', { token, contentType, body: pdf });
      expect([contentType, res.status]).toEqual([contentType, 415]);
      const problem = (await res.json()) as { code: string; detail: string };
      expect(problem.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(problem.detail).toContain('PDF 文件');
      expect(problem.detail).toContain('.xlsx');
    }
  });

  it('when a JSON body is over the limit, then 413 saying the limit and that attachments go through the upload operation', async () => {
    const res = await send('PUT', `/api/applications/${applicationId}`, {
      token: applicant,
      contentType: 'application/json',
      body: JSON.stringify({ ...EARLIER_DRAFT, summary: 'x'.repeat(1024 * 1024 + 1) }),
    });
    expect(res.status).toBe(413);
    const problem = (await res.json()) as { code: string; detail?: string };
    expect(problem.code).toBe('PAYLOAD_TOO_LARGE');
    expect(problem.detail).toContain('不能超过 1mb');
    expect(problem.detail).toContain('/api/applications/{applicationId}/attachments');
  });
});
