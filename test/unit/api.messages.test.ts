import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { signToken } from '../../api/auth.js';
import { z } from '../../api/route.js';
import { describeIssues, labelAt, parseOptions, type FieldError } from '../../api/validation.js';
import { MailboxSchema } from '../../mail/address.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';

/**
 * Issue 14, point 12: validation messages read as an official would write them — the field named by its zh-CN
 * label, what is needed said plainly, the JSON path kept in `errors[].path` for programs.
 */

/** What zod's own locales write (the zh-CN machine translation, the English default): never shown. */
const ZOD_WORDING = /数值过小|数值过大|期望|无效输入|无效的|Invalid|Too (small|big)|Expected|Unrecognized|received/;

function messagesOf(schema: z.ZodType, value: unknown): FieldError[] {
  const result = schema.safeParse(value, parseOptions);
  if (result.success) throw new Error('expected the value to be refused');
  const errors = describeIssues(schema, result.error.issues, '请求体');
  for (const e of errors) expect(e.message).not.toMatch(ZOD_WORDING);
  return errors;
}

const one = (schema: z.ZodType, value: unknown) => {
  const errors = messagesOf(schema, value);
  expect(errors).toHaveLength(1);
  return errors[0]!;
};

const field = <T extends z.ZodType>(label: string, schema: T) => z.object({ v: schema.openapi({ title: label }) });

describe('the formatter writes one sentence per zod issue, naming the label', () => {
  it('invalid_type: a missing field is asked for; a wrong type says what it should be', () => {
    expect(one(field('活动名称', z.string()), {})).toEqual({ path: 'v', message: '请填写活动名称', label: '活动名称' });
    expect(one(field('活动名称', z.string()), { v: 1 }).message).toBe('活动名称应为文字');
    expect(one(field('年度', z.number()), { v: '2027' }).message).toBe('年度应为数字');
    expect(one(field('年度', z.number().int()), { v: 2027.5 }).message).toBe('年度应为整数');
    expect(one(field('是否通过', z.boolean()), { v: 'yes' }).message).toBe('是否通过应为布尔值（true 或 false）');
    expect(one(field('展示单位', z.array(z.string())), { v: 'zzu' }).message).toBe('展示单位应为列表（JSON 数组）');
    expect(one(field('项目负责人', z.object({})), { v: 'x' }).message).toBe('项目负责人应为 JSON 对象');
    expect(one(field('活动名称', z.string()), { v: null }).message).toBe('活动名称不能为 null，不填时请省略该项');
  });

  it('too_small and too_big: strings in characters, numbers by value, lists in items', () => {
    const title = field('活动名称', z.string().trim().min(4).max(100));
    expect(one(title, { v: '路演会' }).message).toBe('活动名称至少 4 个字');
    expect(one(title, { v: '长'.repeat(101) }).message).toBe('活动名称不能超过 100 个字');
    expect(one(field('理由', z.string().trim().min(1)), { v: '  ' }).message).toBe('请填写理由');
    expect(one(field('工号', z.string().length(8)), { v: 'T1' }).message).toBe('工号应为 8 个字');
    const score = field('分数', z.number().min(0).max(100));
    expect(one(score, { v: 101 }).message).toBe('分数不能大于 100');
    expect(one(score, { v: -1 }).message).toBe('分数不能小于 0');
    expect(one(field('倍数', z.number().gt(0)), { v: 0 }).message).toBe('倍数应大于 0');
    expect(one(field('倍数', z.number().lt(10)), { v: 10 }).message).toBe('倍数应小于 10');
    const list = field('展示单位', z.array(z.string()).min(1).max(2));
    expect(one(list, { v: [] }).message).toBe('展示单位至少选择 1 项');
    expect(one(list, { v: ['a', 'b', 'c'] }).message).toBe('展示单位最多 2 项');
    expect(one(field('日期', z.date().min(new Date('2027-01-01T00:00:00Z'))), { v: new Date(0) }).message).toBe(
      '日期不能早于 2027-01-01T00:00:00.000Z',
    );
  });

  it('invalid_format: email, datetime, date, uuid and patterns (with the example when the schema has one)', () => {
    expect(one(field('电子邮箱', z.email()), { v: 'a@x.example;b' }).message).toBe(
      '电子邮箱格式不正确，应为单个邮箱地址（如 name@example.com）',
    );
    expect(one(field('截止时间', z.iso.datetime({ offset: true })), { v: '2027-03-31 17:00' }).message).toBe(
      '截止时间应为带时区的日期时间，如 2027-03-31T17:00:00+08:00',
    );
    expect(one(field('截止日', z.iso.date()), { v: '2027/03/31' }).message).toBe('截止日应为日期，如 2027-03-31');
    expect(one(field('活动编号', z.uuid()), { v: '42' }).message).toMatch(/^活动编号格式不正确，应为 UUID 编号，如 /);
    const round = z.object({
      v: z
        .string()
        .regex(/^round-[a-z_]+-\d{4}$/)
        .openapi({ title: '申报批次编号', example: 'round-demo_college-2027' }),
    });
    expect(one(round, { v: 'round-2027' }).message).toBe('申报批次编号格式不正确，如 round-demo_college-2027');
    expect(one(field('网址', z.url()), { v: 'nope' }).message).toBe('网址应为网址');
    expect(one(field('编号', z.string().startsWith('R')), { v: 'x' }).message).toBe('编号应以“R”开头');
  });

  it('invalid_value: an enum lists what it takes; a literal says the one value; missing is asked for', () => {
    const programme = field('项目类别', z.enum(['demo_college', 'research_project']));
    expect(one(programme, { v: 'college' }).message).toBe('项目类别应为以下之一：demo_college、research_project');
    expect(one(programme, {}).message).toBe('请填写项目类别');
    expect(one(field('取消活动', z.literal(true)), { v: false }).message).toBe('取消活动只能为 true');
  });

  it('a fixed set of values: each with its zh-CN name where the schema gives one, for an enum and a discriminated union alike; missing is asked for', () => {
    const kind = field(
      '计划类别',
      z.enum(['round', 'evaluation']).openapi({ description: 'round 年度申报；evaluation 年度动态评价' }),
    );
    expect(one(kind, { v: 'x' }).message).toBe('计划类别应为以下之一：round（年度申报）、evaluation（年度动态评价）');
    const grounds = field(
      '异议性质',
      z.enum(['substantive', 'procedural']).openapi({
        description: '异议理由的性质：substantive 实体问题；procedural 程序问题（移出名录的公示只受理程序问题）',
      }),
    );
    expect(one(grounds, { v: 'x' }).message).toBe(
      '异议性质应为以下之一：substantive（实体问题）、procedural（程序问题）',
    );
    // The walk's example: POST /api/accounts with an unknown or no `kind` said only 账号类型不符合要求.
    const account = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('staff').openapi({ title: '账号类型', description: '管理服务中心工作人员' }) }),
      z.object({ kind: z.literal('expert').openapi({ title: '账号类型' }), expertId: z.string() }),
    ]);
    expect(one(account, { kind: 'robot' })).toEqual({
      path: 'kind',
      message: '账号类型应为以下之一：staff（管理服务中心工作人员）、expert',
      label: '账号类型',
    });
    expect(one(account, { kind: 7 }).message).toBe('账号类型应为以下之一：staff（管理服务中心工作人员）、expert');
    expect(one(account, {}).message).toBe('请填写账号类型');
  });

  it('a value beyond several bounds is told the tightest one only, once', () => {
    expect(messagesOf(field('每页条数', z.number().int().max(500)), { v: 1e20 })).toEqual([
      { path: 'v', message: '每页条数不能大于 500', label: '每页条数' },
    ]);
    expect(messagesOf(field('分数', z.number().int().min(-5)), { v: -1e20 })).toEqual([
      { path: 'v', message: '分数不能小于 -5', label: '分数' },
    ]);
  });

  it('unrecognized_keys: one sentence and one path per unknown key, at the top or inside an object', () => {
    const strict = z
      .object({
        title: z.string().openapi({ title: '活动名称' }),
        rules: z.object({}).strict().openapi({ title: '规则调整' }),
      })
      .strict();
    expect(messagesOf(strict, { title: '路演', Title: 'x', rules: { quota: 1 } })).toEqual([
      { path: 'rules.quota', message: '规则调整中没有“quota”这一项，请删去（字段名区分大小写）' },
      { path: 'Title', message: '请求体中没有“Title”这一项，请删去（字段名区分大小写）' },
    ]);
  });

  it('invalid_union: the closest alternative says what to fix', () => {
    const value = field('指标值', z.union([z.string().max(3), z.number()]));
    expect(one(value, { v: 'abcd' }).message).toBe('指标值不能超过 3 个字');
    expect(one(value, {}).message).toBe('请填写指标值');
  });

  it('not_multiple_of and invalid_key (a record key)', () => {
    expect(one(field('分钟数', z.number().multipleOf(15)), { v: 20 }).message).toBe('分钟数应为 15 的整数倍');
    expect(one(field('年度指标', z.record(z.string().max(2), z.number())), { v: { 太长的名称: 1 } }).message).toBe(
      '年度指标中的名称“太长的名称”不能超过 2 个字',
    );
  });

  it('custom and refinement messages: the label goes first unless the message names the field or asks', () => {
    const day = field(
      '截止日',
      z.string().refine((s) => s === '2027-03-31', { message: '应为有效日期 YYYY-MM-DD' }),
    );
    expect(one(day, { v: 'x' }).message).toBe('截止日应为有效日期 YYYY-MM-DD');
    expect(one(field('理由', z.string().min(2, '请说明理由')), { v: '' }).message).toBe('请说明理由');
    const presenters = field(
      '展示单位',
      z.array(z.string()).refine((p) => new Set(p).size === p.length, '展示单位不能重复'),
    );
    expect(one(presenters, { v: ['a', 'a'] }).message).toBe('展示单位不能重复');
    expect(
      one(
        field(
          '年度',
          z.number().refine(() => false),
        ),
        { v: 1 },
      ).message,
    ).toBe('年度不符合要求');
    const whole = z.object({ a: z.string().optional() }).refine((b) => b.a, '改期须给出新的时间或地点');
    expect(one(whole, {})).toEqual({ path: '', message: '改期须给出新的时间或地点' });
    // Inside a list: a request to the person names the item it is about.
    const adjustments = z.object({
      adjustments: z
        .array(z.object({ reason: z.string().min(2, '请说明调整理由').openapi({ title: '调整理由' }) }))
        .openapi({ title: '名单调整' }),
    });
    expect(one(adjustments, { adjustments: [{ reason: '好的' }, { reason: '' }] })).toEqual({
      path: 'adjustments.1.reason',
      message: '第 2 个名单调整：请说明调整理由',
      label: '第 2 个名单调整的调整理由',
    });
  });

  it('the shared mailbox rule keeps its own sentence, which names the field', () => {
    expect(one(field('电子邮箱', MailboxSchema), { v: '张三 <a@x.example>' }).message).toMatch(
      /^电子邮箱应为单个邮箱地址/,
    );
  });

  it('array items are named by position, fields inside objects after the object', () => {
    const draft = z.object({
      principal: z.object({ name: z.string().min(1).openapi({ title: '姓名' }) }).openapi({ title: '项目负责人' }),
      members: z.array(z.object({ email: z.email().openapi({ title: '电子邮箱' }) })).openapi({ title: '主讲人' }),
      presenters: z.array(z.string().max(3)).openapi({ title: '展示单位' }),
    });
    expect(
      messagesOf(draft, {
        principal: { name: '' },
        members: [{ email: 'a@x.example' }, { email: 'b' }],
        presenters: ['abcd'],
      }),
    ).toEqual([
      { path: 'principal.name', message: '请填写项目负责人的姓名', label: '项目负责人的姓名' },
      {
        path: 'members.1.email',
        message: '第 2 个主讲人的电子邮箱格式不正确，应为单个邮箱地址（如 name@example.com）',
        label: '第 2 个主讲人的电子邮箱',
      },
      { path: 'presenters.0', message: '第 1 个展示单位不能超过 3 个字', label: '第 1 个展示单位' },
    ]);
    expect(labelAt(draft, [])).toBeUndefined();
    // A list inside an object: the position goes with the list it counts in.
    const rules = z.object({
      rules: z
        .object({ reminders: z.array(z.number().min(1)).openapi({ title: '提醒日' }) })
        .openapi({ title: '规则调整' }),
    });
    expect(one(rules, { rules: { reminders: [3, 0] } })).toEqual({
      path: 'rules.reminders.1',
      message: '规则调整的第 2 个提醒日不能小于 1',
      label: '规则调整的第 2 个提醒日',
    });
  });
});

describe('the API answers with those sentences', () => {
  const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0' });
  // Validation runs before any handler: no database or workflow engine is reached by these requests.
  const { app, openapi } = createApp({
    config,
    db: {} as never,
    temporal: {} as never,
    attachments: {} as never,
    logger: createLogger({ level: 'silent' }),
  });
  let server: Server;
  let base: string;
  let staff: string;

  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    staff = await signToken({ role: 'staff', id: 'tester' }, config.auth.secret);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${staff}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      problem: (await res.json()) as { code: string; detail: string; errors: FieldError[] },
    };
  };

  it('POST /api/events with a 3-character title: 422 活动名称至少 4 个字, errors[0].path title (the issue example)', async () => {
    const { status, problem } = await call('POST', '/api/events', {
      kind: 'roadshow',
      title: '路演会',
      startsAt: '2099-06-20T09:30:00+08:00',
      place: '郑州国际会展中心 2 号馆',
      presenters: ['zzu'],
    });
    expect(status).toBe(422);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.detail).toContain('活动名称至少 4 个字');
    expect(problem.errors[0]).toMatchObject({ path: 'title', message: '活动名称至少 4 个字', label: '活动名称' });
    expect(problem.detail).not.toMatch(ZOD_WORDING);
  });

  it('several problems in one body, a query parameter and a path parameter each read as sentences', async () => {
    const body = await call('POST', '/api/events', {
      kind: 'concert',
      title: '路演',
      startsAt: '2099-06-20 09:30',
      presenters: [],
      colour: 'red',
    });
    expect(body.status).toBe(422);
    expect(body.problem.detail).toBe(body.problem.errors.map((e) => e.message).join('；'));
    expect(body.problem.errors.map((e) => e.path).sort()).toEqual(
      ['colour', 'kind', 'place', 'presenters', 'startsAt', 'title'].sort(),
    );
    expect(body.problem.errors.map((e) => e.message).sort()).toEqual(
      [
        '请求体中没有“colour”这一项，请删去（字段名区分大小写）',
        '活动类型应为以下之一：roadshow、exhibition',
        '活动名称至少 4 个字',
        '活动时间应为带时区的日期时间，如 2027-06-20T09:30:00+08:00',
        '请填写活动地点',
        '展示单位至少选择 1 项',
      ].sort(),
    );

    const query = await call('GET', '/api/outbox?limit=0x10');
    expect(query.status).toBe(422);
    expect(query.problem.detail).toBe('每页条数须为十进制整数（如 100），不接受 "0x10"');
    expect(query.problem.errors).toEqual([{ path: 'limit', message: query.problem.detail, label: '每页条数' }]);

    const path = await call('GET', '/api/rounds/2027/progress');
    expect(path.status).toBe(422);
    expect(path.problem.detail).toBe('申报批次编号格式不正确，如 round-demo_college-2027');
  });

  it('every request field of every route carries a zh-CN label, shown as its title in /openapi.json', () => {
    type SchemaObject = Record<string, unknown> & {
      $ref?: string;
      title?: string;
      properties?: Record<string, SchemaObject>;
      items?: SchemaObject;
      anyOf?: SchemaObject[];
      oneOf?: SchemaObject[];
      allOf?: SchemaObject[];
    };
    const components = (openapi.components?.schemas ?? {}) as Record<string, SchemaObject>;
    const deref = (s: SchemaObject): SchemaObject => (s.$ref ? deref(components[s.$ref.split('/').pop()!]!) : s);
    const unlabelled: string[] = [];
    let fields = 0;
    const check = (where: string, title: unknown) => {
      fields += 1;
      if (typeof title !== 'string' || !/\p{Script=Han}/u.test(title)) unlabelled.push(where);
    };
    const walk = (schema: SchemaObject, where: string): void => {
      const s = deref(schema);
      for (const alternative of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(alternative, where);
      for (const [key, property] of Object.entries(s.properties ?? {})) {
        check(`${where}.${key}`, property.title ?? deref(property).title);
        walk(property, `${where}.${key}`);
      }
      if (s.items) walk(s.items, `${where}[]`);
    };
    for (const [path, operations] of Object.entries(openapi.paths ?? {})) {
      for (const [method, operation] of Object.entries(operations as Record<string, Record<string, unknown>>)) {
        const op = operation as {
          parameters?: { in: string; name: string; schema: SchemaObject }[];
          requestBody?: { content: Record<string, { schema: SchemaObject }> };
        };
        for (const p of op.parameters ?? []) {
          if (p.in !== 'header') check(`${method.toUpperCase()} ${path} ${p.in} ${p.name}`, deref(p.schema).title);
        }
        const json = op.requestBody?.content['application/json'];
        if (json) walk(json.schema, `${method.toUpperCase()} ${path} body`);
      }
    }
    expect(fields).toBeGreaterThan(150);
    expect(unlabelled).toEqual([]);
  });
});
