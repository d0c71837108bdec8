import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { disableAccount } from '../../db/repositories/accounts.js';
import * as oneAccountPerExpert from '../../db/migrations/019_one_account_per_expert.js';
import { hashPassword } from '../../services/accounts.js';
import { accountAccessToken, staffAccessToken } from '../support/accounts.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';

/**
 * Guards of account administration and personal access tokens (issue 15 walk): one account per expert, no
 * administrator disabling themselves or the last one, tokens made from a browser session only, re-invitations
 * refused with an account code, names on one line. The real API on PostgreSQL; these routes reach no workflow.
 */
let offline: ApiWithoutTemporal;
const PASSWORD = '黄河之水天上来 2027 河南';

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
}, 120_000);

afterAll(async () => {
  await offline?.stop();
});

const db = () => offline.database.db;

interface Answer {
  status: number;
  body: {
    code?: string;
    title?: string;
    detail?: string;
    errors?: { path: string; message: string; label?: string }[];
    token?: string;
    account?: { id: string };
  };
  cookie?: string;
}

async function call(
  method: string,
  path: string,
  { token, body, cookie, csrf }: { token?: string; body?: unknown; cookie?: string; csrf?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${offline.api.url}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(cookie ? { Cookie: cookie } : {}),
      ...(csrf ? { 'X-CSRF-Token': csrf } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const setCookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('ronghe.sid='));
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Answer['body']) : {},
    ...(setCookie ? { cookie: setCookie } : {}),
  };
}

let admin: { accountId: string; token: string };
beforeAll(async () => {
  admin = await staffAccessToken(db(), { email: 'guard.admin@ronghe.example', staffRole: 'administrator' });
});

describe('one value per field', () => {
  it('refuses an account whose JSON names staffRole twice (officer, then administrator): 400 naming it, nothing created', async () => {
    const email = 'twice.role@ronghe.example';
    const res = await fetch(`${offline.api.url}/api/accounts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
      body: `{"kind":"staff","staffRole":"officer","staffRole":"administrator","email":"${email}","name":"王五"}`,
    });
    const problem = (await res.json()) as { code: string; detail: string };
    expect([res.status, problem.code]).toEqual([400, 'DUPLICATE_JSON_KEY']);
    expect(problem.detail).toBe('请求体中字段 staffRole 出现了不止一次，同一字段只能给一个值');
    expect(await db()('accounts').where({ email })).toEqual([]);
  });
});

describe('a body sent to an operation that takes none', () => {
  it('enabling an account with a reason is 400 BODY_NOT_ACCEPTED and changes nothing; with {} or nothing it is done', async () => {
    const target = await staffAccessToken(db(), { email: 'enable.reason@ronghe.example' });
    const disable = () =>
      db()('accounts')
        .where({ id: target.accountId })
        .update({ disabled_at: new Date(), disabled_by: 'staff:test', disabled_reason: '测试' });
    await disable();
    const path = `/api/accounts/${target.accountId}/enable`;
    const withReason = await call('POST', path, { token: admin.token, body: { reason: '复核后恢复' } });
    expect([withReason.status, withReason.body.code, withReason.body.title]).toEqual([
      400,
      'BODY_NOT_ACCEPTED',
      '此操作不接受请求体',
    ]);
    expect(withReason.body.detail).toContain('不会被记录');
    const asText = await fetch(`${offline.api.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'text/plain' },
      body: '复核后恢复',
    });
    expect(asText.status).toBe(400);
    const still = await db()('accounts').where({ id: target.accountId }).first<{ disabled_at: Date | null }>();
    expect(still.disabled_at).not.toBeNull();
    expect((await call('POST', path, { token: admin.token, body: {} })).status).toBe(200);
    await disable();
    expect((await call('POST', path, { token: admin.token })).status).toBe(200);
  });
});

describe('account state and references, each named', () => {
  it('disabling an account already disabled is 409 naming when and why, the first reason kept; enabling an enabled one is 409', async () => {
    const target = await staffAccessToken(db(), { email: 'twice.disabled@ronghe.example' });
    const path = `/api/accounts/${target.accountId}/disable`;
    expect((await call('POST', path, { token: admin.token, body: { reason: '调离岗位' } })).status).toBe(200);
    const again = await call('POST', path, { token: admin.token, body: { reason: '另一个原因' } });
    expect([again.status, again.body.code]).toEqual([409, 'ACCOUNT_STATE_CONFLICT']);
    expect(again.body.detail).toMatch(/^该账号已于 .+（北京时间）停用（原因：调离岗位），无需再次停用/);
    const row = await db()('accounts').where({ id: target.accountId }).first<{ disabled_reason: string }>();
    expect(row.disabled_reason).toBe('调离岗位');
    const enable = `/api/accounts/${target.accountId}/enable`;
    expect((await call('POST', enable, { token: admin.token })).status).toBe(200);
    const enabledAgain = await call('POST', enable, { token: admin.token });
    expect([enabledAgain.status, enabledAgain.body.code, enabledAgain.body.detail]).toEqual([
      409,
      'ACCOUNT_STATE_CONFLICT',
      '该账号未停用，无需启用',
    ]);
  });

  it('a reference naming nothing of its kind is a 422 naming the field, and what the id is instead', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ kind: 'institution', institutionId: 'nope' }, 'institutionId', /^没有编号为“nope”的申报单位/],
      [{ kind: 'enterprise', enterpriseId: 'zzu' }, 'enterpriseId', /^“zzu”（郑州大学）是申报单位，不是合作企业/],
      [{ kind: 'institution', institutionId: 'exp-001' }, 'institutionId', /是专家库中的专家，不是申报单位/],
      [{ kind: 'expert', expertId: 'exp-999' }, 'expertId', /^没有编号为“exp-999”的专家库中的专家/],
    ];
    for (const [reference, field, message] of cases) {
      const res = await call('POST', '/api/accounts', {
        token: admin.token,
        body: { ...reference, email: `ref.${field}@ronghe.example`, name: '王五' },
      });
      expect([res.status, res.body.code], JSON.stringify(reference)).toEqual([422, 'VALIDATION_FAILED']);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: field })]);
      expect(res.body.errors![0]!.message).toMatch(message);
    }
  });
});

describe('one account per expert', () => {
  it('refuses a second account for an expert with 409 naming the expert, and the database refuses one too', async () => {
    const expert = await db()('experts').where({ id: 'exp-001' }).first<{ name_zh: string }>('name_zh');
    const first = await call('POST', '/api/accounts', {
      token: admin.token,
      body: { kind: 'expert', expertId: 'exp-001', email: 'exp001@pool.ronghe.example', name: expert.name_zh },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await call('POST', '/api/accounts', {
      token: admin.token,
      body: { kind: 'expert', expertId: 'exp-001', email: 'other@pool.ronghe.example', name: expert.name_zh },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body).toMatchObject({ code: 'EXPERT_ACCOUNT_EXISTS', title: '该专家已有账号' });
    expect(second.body.detail).toContain(`exp-001（${expert.name_zh}）已有账号`);
    // Disabled, it still holds the expert: it is enabled again, not replaced.
    await db()('accounts').where({ id: first.body.account!.id }).update({
      disabled_at: new Date(),
      disabled_by: 'staff:test',
      disabled_reason: '测试',
    });
    const afterDisable = await call('POST', '/api/accounts', {
      token: admin.token,
      body: { kind: 'expert', expertId: 'exp-001', email: 'third@pool.ronghe.example', name: expert.name_zh },
    });
    expect(afterDisable.body.code).toBe('EXPERT_ACCOUNT_EXISTS');
    expect(await db()('accounts').where({ expert_id: 'exp-001' }).count()).toEqual([{ count: 1 }]);
    // Written straight to the database (as the import or a script would), the index refuses it.
    await expect(
      db()('accounts').insert({
        kind: 'expert',
        expert_id: 'exp-001',
        email: 'fourth@pool.ronghe.example',
        name: expert.name_zh,
        created_by: 'staff:test',
      }),
    ).rejects.toMatchObject({ code: '23505', constraint: 'accounts_expert_unique' });
  });

  it('migration 019 fails on a database where an expert has two accounts, naming them, and changes nothing', async () => {
    const trx = await db().transaction();
    try {
      await oneAccountPerExpert.down(trx);
      await trx('accounts').insert(
        ['dup.a@pool.ronghe.example', 'dup.b@pool.ronghe.example'].map((email) => ({
          kind: 'expert',
          expert_id: 'exp-003',
          email,
          name: '重复专家',
          created_by: 'staff:test',
        })),
      );
      await expect(oneAccountPerExpert.up(trx)).rejects.toThrow(
        /more than one account.*exp-003: .*<dup\.a@pool\.ronghe\.example>, .*<dup\.b@pool\.ronghe\.example>/,
      );
    } finally {
      await trx.rollback();
    }
    // Rolled back: the index is there again, without the duplicates.
    expect(await db()('accounts').where({ expert_id: 'exp-003' }).count()).toEqual([{ count: 0 }]);
    const { rows } = await db().raw<{ rows: unknown[] }>(
      "select 1 from pg_indexes where tablename = 'accounts' and indexname = 'accounts_expert_unique'",
    );
    expect(rows).toHaveLength(1);
  });
});

describe('disabling administrators', () => {
  it('refuses an administrator disabling their own account', async () => {
    const self = await call('POST', `/api/accounts/${admin.accountId}/disable`, {
      token: admin.token,
      body: { reason: '自我停用测试' },
    });
    expect(self.status).toBe(409);
    expect(self.body).toMatchObject({
      code: 'ACCOUNT_SELF_DISABLE',
      title: '不能停用本人账号，请由其他系统管理员操作',
    });
    const row = await db()('accounts').where({ id: admin.accountId }).first<{ disabled_at: Date | null }>();
    expect(row.disabled_at).toBeNull();
  });

  it('two administrators disabling each other at once: one is refused as the last administrator', async () => {
    const a = await staffAccessToken(db(), { email: 'mutual.a@ronghe.example', staffRole: 'administrator' });
    const b = await staffAccessToken(db(), { email: 'mutual.b@ronghe.example', staffRole: 'administrator' });
    // The other administrators step aside first (leaving a and b the only enabled ones).
    await db()('accounts')
      .where({ kind: 'staff', staff_role: 'administrator' })
      .whereNotIn('id', [a.accountId, b.accountId])
      .whereNull('disabled_at')
      .update({ disabled_at: new Date(), disabled_by: 'staff:test', disabled_reason: '测试' });
    const answers = await Promise.all([
      call('POST', `/api/accounts/${b.accountId}/disable`, { token: a.token, body: { reason: '互相停用测试' } }),
      call('POST', `/api/accounts/${a.accountId}/disable`, { token: b.token, body: { reason: '互相停用测试' } }),
    ]);
    const codes = answers.map((x) => (x.status === 200 ? 'disabled' : x.body.code));
    // One goes through; the other is refused as the last administrator, or — when it is read after the first
    // committed — because its own account has just been disabled.
    expect(
      codes.filter((c) => c === 'disabled'),
      JSON.stringify(codes),
    ).toHaveLength(1);
    expect(['LAST_ADMINISTRATOR', 'SESSION_ENDED']).toContain(codes.find((c) => c !== 'disabled'));
    // Either refusal says what to do instead.
    const refused = answers.find((x) => x.status !== 200)!;
    expect(refused.body.detail).toMatch(/请先创建或启用另一位系统管理员|如需恢复，请联系系统管理员/);
    const enabled = await db()('accounts')
      .where({ kind: 'staff', staff_role: 'administrator' })
      .whereNull('disabled_at')
      .pluck('id');
    expect(enabled).toHaveLength(1);
    // Restore an administrator for the tests below.
    await db()('accounts').where({ id: admin.accountId }).update({
      disabled_at: null,
      disabled_by: null,
      disabled_reason: null,
    });
  });

  it('disabling the last two administrators at the same moment leaves one (the rows are locked, not counted twice)', async () => {
    const c = await staffAccessToken(db(), { email: 'race.c@ronghe.example', staffRole: 'administrator' });
    const d = await staffAccessToken(db(), { email: 'race.d@ronghe.example', staffRole: 'administrator' });
    const pair = [c.accountId, d.accountId];
    await db()('accounts')
      .where({ kind: 'staff', staff_role: 'administrator' })
      .whereNotIn('id', pair)
      .whereNull('disabled_at')
      .update({ disabled_at: new Date(), disabled_by: 'staff:test', disabled_reason: '测试' });
    // A transaction holds the administrators' rows, so both disables start before either can finish.
    const holder = await db().transaction();
    await holder('accounts').whereIn('id', pair).forUpdate().select('id');
    const by = { actor: 'staff:test', reason: '并发停用测试', at: new Date() };
    const both = Promise.all(pair.map((id) => disableAccount(db(), id, by)));
    // Both are waiting on the lock (PostgreSQL shows them so), then it is released.
    for (let waiting = 0; waiting < 2;) {
      const { rows } = await db().raw<{ rows: { n: number }[] }>(
        "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
      );
      waiting = rows[0]!.n;
    }
    await holder.commit();
    const results = await both;
    expect(results.filter((r) => r === 'last-administrator')).toHaveLength(1);
    expect(results.filter((r) => typeof r === 'object')).toHaveLength(1);
    // The administrator of the other tests again (its token still good: set aside directly, its epoch kept).
    await db()('accounts')
      .where({ id: admin.accountId })
      .update({ disabled_at: null, disabled_by: null, disabled_reason: null });
  });
});

describe('personal access tokens', () => {
  it('are created from a browser session only: a bearer token asking for one is refused 403, so none outlives it', async () => {
    const email = 'token.user@zzu.edu.cn';
    const created = await accountAccessToken(db(), {
      kind: 'institution',
      institutionId: 'zzu',
      email,
      name: '令牌测试',
    });
    await db()('accounts')
      .where({ id: created.accountId })
      .update({ password_hash: await hashPassword(PASSWORD) });

    const viaToken = await call('POST', '/api/access-tokens', {
      token: created.token,
      body: { name: '续命令牌', expiresInDays: 90 },
    });
    expect(viaToken.status, JSON.stringify(viaToken.body)).toBe(403);
    expect(viaToken.body.code).toBe('SESSION_REQUIRED');
    expect(viaToken.body.title).toContain('登录后');
    // A development token cannot either.
    const dev = await call('POST', '/api/access-tokens', {
      token: await signToken({ role: 'staff', id: 'dev' }, offline.config.auth.secret),
      body: { name: '开发' },
    });
    expect(dev.body.code).toBe('SESSION_REQUIRED');
    expect(await db()('access_tokens').where({ account_id: created.accountId }).count()).toEqual([{ count: 1 }]);

    // Signed in with the password, the same person makes one.
    const signedIn = await call('POST', '/api/session', { body: { email, password: PASSWORD } });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const cookie = signedIn.cookie!;
    const { csrfToken } = (await call('GET', '/api/session', { cookie })).body as unknown as { csrfToken: string };
    const viaSession = await call('POST', '/api/access-tokens', {
      cookie,
      csrf: csrfToken,
      body: { name: '数据导出脚本', expiresInDays: 7 },
    });
    expect(viaSession.status, JSON.stringify(viaSession.body)).toBe(201);
    expect(viaSession.body.token).toMatch(/^rh_pat_/);
  });
});

describe('re-invitations and names', () => {
  it('re-inviting an active or disabled account is refused with an account code, not a workflow one', async () => {
    const active = await accountAccessToken(db(), {
      kind: 'institution',
      institutionId: 'zzu',
      email: 'active.user@zzu.edu.cn',
      name: '已启用',
    });
    await db()('accounts')
      .where({ id: active.accountId })
      .update({ password_hash: await hashPassword(PASSWORD) });
    const again = await call('POST', `/api/accounts/${active.accountId}/invitation`, { token: admin.token });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ACCOUNT_STATE_CONFLICT', title: '账号当前状态不允许此操作' });
    expect(again.body.detail).toContain('已完成设置');
    await db()('accounts')
      .where({ id: active.accountId })
      .update({ disabled_at: new Date(), disabled_by: 'staff:test', disabled_reason: '测试' });
    const disabled = await call('POST', `/api/accounts/${active.accountId}/invitation`, { token: admin.token });
    expect(disabled.body).toMatchObject({ code: 'ACCOUNT_STATE_CONFLICT' });
    expect(disabled.body.detail).toContain('已停用');
  });

  it('refuses a name with a line break, another control character or an invisible one, naming the field', async () => {
    // A zero-width space alone shows as no name; a BOM, a joiner or a bidi override inside makes a name that looks
    // like 张三 but is not (one person recorded twice, an avoidance list that misses them).
    const invisible = ['\u200b', '张\ufeff三', '张\u200d三', '李\u202e明', '\u00ad王五'];
    // Nothing that shows at all: a combining accent alone.
    const nothingVisible = ['\u0301', ' \u0301\u0302 '];
    for (const name of ['a\nBcc: y@z.com', '张\r三', '张\t三', '张\u2028三', ...invisible, ...nothingVisible]) {
      const res = await call('POST', '/api/accounts', {
        token: admin.token,
        body: { kind: 'institution', institutionId: 'zzu', email: 'line.break@zzu.edu.cn', name },
      });
      expect(res.status, JSON.stringify(name)).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'name', label: '姓名' })]);
      const expected = invisible.includes(name) ? '不可见字符' : nothingVisible.includes(name) ? '可见的文字' : '换行';
      expect(res.body.errors![0]!.message).toContain(expected);
    }
    expect(await db()('accounts').where({ email: 'line.break@zzu.edu.cn' }).count()).toEqual([{ count: 0 }]);
  });
});
