import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../db/seed.js';
import { staffAccessToken } from '../support/accounts.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';
import { XLSX_CONTENT_TYPE } from '../../services/spreadsheet.js';

/**
 * Issue 16, slice 2: institutions, enterprises and partnerships belong to staff. The real API on PostgreSQL (these
 * routes reach no workflow), an administrator's and an officer's personal access tokens; workbooks are written
 * by exceljs here as a person's Excel would save them, and row counts and versions are read from the database.
 */
let offline: ApiWithoutTemporal;
let adminToken: string;
let adminAccountId: string;
let officerToken: string;
const XLSX = XLSX_CONTENT_TYPE;
const INSTITUTION_HEADERS = ['编号', '名称', '所属高校', '城市', '联系人', '联系电话', '联系邮箱'];

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
  ({ token: adminToken, accountId: adminAccountId } = await staffAccessToken(db(), {
    email: 'admin@ronghe.example',
    staffRole: 'administrator',
  }));
  ({ token: officerToken } = await staffAccessToken(db(), { email: 'officer@ronghe.example' }));
}, 120_000);

afterAll(async () => {
  await offline?.stop();
});

const db = () => offline.database.db;

interface Answer {
  status: number;
  body: Record<string, unknown> & {
    code?: string;
    errors?: { path: string; message: string; label?: string }[];
    problems?: { row: number; column: string; message: string }[];
    items?: Record<string, unknown>[];
  };
}

async function call(
  method: string,
  path: string,
  { body, token = adminToken, raw }: { body?: unknown; token?: string; raw?: { type: string; data: Buffer } } = {},
): Promise<Answer> {
  const res = await fetch(`${offline.api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(raw ? { 'content-type': raw.type } : {}),
    },
    body: raw ? raw.data : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

async function workbook(headers: string[], rows: string[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Sheet1');
  sheet.addRow(headers);
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await book.xlsx.writeBuffer());
}

const importFile = (list: string, data: Buffer, dryRun: boolean) =>
  call('POST', `/api/reference/${list}/import?dryRun=${dryRun}`, { raw: { type: XLSX, data } });

const count = async (table: string) => Number((await db()(table).count<{ c: string }[]>('* as c'))[0]!.c);

/** Every row of the three tables and every version, to compare before and after. */
async function snapshot(): Promise<unknown> {
  return {
    institutions: await db()('institutions').orderBy('id').select('*'),
    enterprises: await db()('enterprises').orderBy('id').select('*'),
    partnerships: await db()('institution_partners').orderBy(['institution_id', 'enterprise_id']).select('*'),
    experts: await db()('experts').orderBy('id').select('*'),
    conflicts: await db()('expert_conflicts')
      .orderBy('id')
      .select('expert_id', 'institution_id', 'enterprise_id', 'source'),
    versions: await db()('reference_versions')
      .whereIn('kind', ['institution', 'enterprise', 'partnership', 'expert'])
      .orderBy(['kind', 'subject_id', 'version'])
      .select('kind', 'subject_id', 'version'),
  };
}

describe('the seed', () => {
  it('loads the demo institutions through the import path: version 1 from the seed', async () => {
    const versions = await call('GET', '/api/reference/institutions/zzu-cs/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.items).toHaveLength(1);
    expect(versions.body.items![0]).toMatchObject({ version: 1, source: 'seed', actor: 'system:seed' });
    expect((versions.body.items![0]!.data as Record<string, unknown>).parent_id).toBe('zzu');
  });
});

describe('institutions from an XLSX', () => {
  const good = [
    ['zzsf', '郑州示范大学', '', '郑州', '教务处', '0371-86608000', 'JWC@zzsf.edu.example'],
    ['zzsf-cs', '郑州示范大学计算机学院', 'zzsf', '郑州', '', '', 'cs@zzsf.edu.example'],
  ];
  const bad = [
    ['zzsf-mat', '郑州示范大学材料学院', 'zzsf-university', '郑州', '', '', 'mat@zzsf.edu.example'],
    ['zzsf-food', '郑州示范大学食品学院', '郑州示范大学', '郑州', '', '', 'food at zzsf'],
  ];
  const fixed = [
    ['zzsf-mat', '郑州示范大学材料学院', 'zzsf', '郑州', '', '', 'mat@zzsf.edu.example'],
    ['zzsf-food', '郑州示范大学食品学院', '郑州示范大学', '郑州', '', '', 'food@zzsf.edu.example'],
  ];

  it('lists both bad rows in a dry run and a real import, and writes nothing', async () => {
    const before = await snapshot();
    const file = await workbook(INSTITUTION_HEADERS, [good[0]!, bad[0]!, good[1]!, bad[1]!]);
    const dry = await importFile('institutions', file, true);
    expect(dry.status).toBe(200);
    expect(dry.body.valid).toBe(false);
    expect(dry.body.problems).toEqual([
      { row: 3, column: '所属高校', message: '未找到高校“zzsf-university”，请核对编号或全称' },
      { row: 5, column: '联系邮箱', message: '“food at zzsf”不是单个邮箱地址（如 name@example.com）' },
    ]);
    const real = await importFile('institutions', file, false);
    expect(real.status).toBe(422);
    expect(real.body.code).toBe('REFERENCE_IMPORT_INVALID');
    expect(real.body.problems).toEqual(dry.body.problems);
    expect(await snapshot()).toEqual(before);
  });

  it('imports the fixed file as versions from the import, and the same file again changes nothing', async () => {
    const file = await workbook(INSTITUTION_HEADERS, [good[0]!, fixed[0]!, good[1]!, fixed[1]!]);
    const real = await importFile('institutions', file, false);
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ valid: true, created: 4, changed: 0, unchanged: 0 });
    const college = await db()('institutions').where({ id: 'zzsf-food' }).first();
    expect(college).toMatchObject({ kind: 'college', parent_id: 'zzsf', contact_email: 'food@zzsf.edu.example' });
    expect(await db()('institutions').where({ id: 'zzsf' }).first()).toMatchObject({
      contact_email: 'jwc@zzsf.edu.example',
      contact_phone: '0371-86608000',
    });
    const versions = await call('GET', '/api/reference/institutions/zzsf-food/versions');
    expect(versions.body.items).toEqual([
      expect.objectContaining({
        version: 1,
        source: 'import',
        importSha256: real.body.fileSha256,
        accountId: adminAccountId,
      }),
    ]);
    const before = await snapshot();
    const again = await importFile('institutions', file, false);
    expect(again.body).toMatchObject({ created: 0, changed: 0, unchanged: 4 });
    expect(await snapshot()).toEqual(before);
  });
});

describe('export → import', () => {
  it.each(['institutions', 'enterprises', 'partnerships', 'experts'])(
    'leaves %s and their versions unchanged',
    async (list) => {
      const before = await snapshot();
      const res = await fetch(`${offline.api.url}/api/reference/${list}/export.xlsx`, {
        headers: { authorization: `Bearer ${officerToken}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(XLSX);
      const exported = Buffer.from(await res.arrayBuffer());
      const rows = await count(list === 'partnerships' ? 'institution_partners' : list);
      const answer = await importFile(list, exported, false);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ valid: true, created: 0, changed: 0, unchanged: rows, rowCount: rows });
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe('changes through the API', () => {
  it('makes version 2 with who and why, audited; an officer reads but cannot change', async () => {
    const current = await call('GET', '/api/reference/institutions/zzu', { token: officerToken });
    expect(current.status).toBe(200);
    const { id: _id, kind: _kind, ...fields } = current.body as Record<string, unknown>;
    const change = { ...fields, contactPhone: '0371-67781234', reason: '教务处公布新的联系电话' };
    const refused = await call('PUT', '/api/reference/institutions/zzu', { body: change, token: officerToken });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');

    const changed = await call('PUT', '/api/reference/institutions/zzu', { body: change });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, record: { id: 'zzu', contactPhone: '0371-67781234' } });
    const versions = await call('GET', '/api/reference/institutions/zzu/versions', { token: officerToken });
    expect(versions.body.items!.map((v) => v.version)).toEqual([2, 1]);
    expect(versions.body.items![0]).toMatchObject({
      reason: '教务处公布新的联系电话',
      source: 'api',
      accountId: adminAccountId,
      data: expect.objectContaining({ contact_phone: '0371-67781234' }),
    });
    expect(
      await db()('audit_events')
        .where({ action: 'institution.change', subject_id: 'zzu', account_id: adminAccountId })
        .first(),
    ).toMatchObject({ reason: '教务处公布新的联系电话' });
    // The same body again changes nothing and records no version.
    const same = await call('PUT', '/api/reference/institutions/zzu', { body: change });
    expect(same.body.version).toBeNull();
  });

  it('refuses an unknown parent, a college under a college, a bad email and a duplicate name, naming the field', async () => {
    const college = { nameZh: '郑州大学新学院', city: '郑州', contactEmail: 'new@zzu.edu.example' };
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ ...college, id: 'zzu-new', parentId: 'nowhere' }, 422, 'VALIDATION_FAILED', 'parentId'],
      [{ ...college, id: 'zzu-new', parentId: 'zzu-cs' }, 422, 'VALIDATION_FAILED', 'parentId'],
      [
        { ...college, id: 'zzu-new', parentId: 'zzu', contactEmail: '郑大 <x@zzu.edu.example>' },
        422,
        'VALIDATION_FAILED',
        'contactEmail',
      ],
      [
        { ...college, id: 'zzu-new', parentId: 'zzu', nameZh: '郑州大学计算机与人工智能学院' },
        409,
        'REFERENCE_EXISTS',
        'nameZh',
      ],
      [{ ...college, id: 'zzu-cs', parentId: 'zzu' }, 409, 'REFERENCE_EXISTS', 'id'],
    ];
    for (const [body, status, code, field] of cases) {
      const answer = await call('POST', '/api/reference/institutions', { body });
      expect({ status: answer.status, code: answer.body.code, fields: answer.body.errors?.map((e) => e.path) }).toEqual(
        {
          status,
          code,
          fields: [field],
        },
      );
    }
    expect(await db()('institutions').where({ id: 'zzu-new' }).first()).toBeUndefined();
  });

  it('adds and removes a partnership with a reason; a restart of the seed keeps the removal', async () => {
    const added = await call('POST', '/api/reference/partnerships', {
      body: { institutionId: 'zzsf', enterpriseId: 'yutong', reason: '签订校企合作协议' },
    });
    expect(added.status).toBe(201);
    expect(added.body.version).toBe(1);
    const removed = await call('DELETE', '/api/reference/partnerships/zzu/xfusion', {
      body: { reason: '合作协议到期' },
    });
    expect(removed.status).toBe(200);
    expect(removed.body.version).toBe(2);
    const versions = await call('GET', '/api/reference/partnerships/zzu/xfusion/versions');
    expect(versions.body.items![0]).toMatchObject({ version: 2, data: null, reason: '合作协议到期' });

    await seed(db());
    expect(await db()('institution_partners').where({ institution_id: 'zzu', enterprise_id: 'xfusion' })).toEqual([]);
    expect(await db()('institutions').where({ id: 'zzu' }).first()).toMatchObject({ contact_phone: '0371-67781234' });
  });
});

describe('the expert pool', () => {
  const expert = {
    nameZh: '周文博',
    titleZh: '教授',
    institutionId: 'henu-cs',
    email: 'zhou.wb@henu.edu.example',
    phone: '0371-23881234',
    fields: ['next_gen_it', '新材料'],
    active: true,
    conflictInstitutionIds: [],
    conflictEnterpriseIds: ['hanwei'],
  };

  it('is loaded by the seed through the import path, version 1 from the seed', async () => {
    const versions = await call('GET', '/api/reference/experts/exp-001/versions', { token: officerToken });
    expect(versions.body.items!.map((v) => [v.version, v.source])).toEqual([[1, 'seed']]);
    const one = await call('GET', '/api/reference/experts/exp-001', { token: officerToken });
    expect(one.body).toMatchObject({ id: 'exp-001', active: true, openAssignments: 0, conflictInstitutionIds: [] });
  });

  it('creates an expert with a declared conflict; a change replaces the declared set and keeps a decline’s', async () => {
    const created = await call('POST', '/api/reference/experts', { body: { id: 'pool-zwb', ...expert } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      version: 1,
      record: {
        affiliationKind: 'academic',
        fields: ['next_gen_it', 'new_materials'],
        conflictEnterpriseIds: ['hanwei'],
        active: true,
      },
    });
    // A conflict the expert declared when declining an assignment is the review's record: a change keeps it.
    await db()('expert_conflicts').insert({
      expert_id: 'pool-zwb',
      institution_id: 'zzu',
      reason: '谢绝时声明的利益冲突',
      source: 'decline',
    });
    const changed = await call('PUT', '/api/reference/experts/pool-zwb', {
      body: { ...expert, conflictEnterpriseIds: [], conflictInstitutionIds: ['haust'], reason: '专家更新回避单位' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({
      version: 2,
      record: { conflictInstitutionIds: ['haust'], conflictEnterpriseIds: [] },
    });
    expect(
      await db()('expert_conflicts')
        .where({ expert_id: 'pool-zwb' })
        .orderBy('source')
        .select('institution_id', 'source'),
    ).toEqual([
      { institution_id: 'haust', source: 'declared' },
      { institution_id: 'zzu', source: 'decline' },
    ]);
    const versions = await call('GET', '/api/reference/experts/pool-zwb/versions');
    expect(versions.body.items![0]).toMatchObject({
      version: 2,
      reason: '专家更新回避单位',
      data: expect.objectContaining({ conflict_institution_ids: ['haust'], conflict_enterprise_ids: [] }),
    });
  });

  it('refuses two units or none, an unknown field or unit, and an email another expert has, naming the field', async () => {
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ ...expert, enterpriseId: 'hanwei' }, 422, 'VALIDATION_FAILED', 'enterpriseId'],
      [{ ...expert, institutionId: null }, 422, 'VALIDATION_FAILED', 'institutionId'],
      [{ ...expert, fields: ['量子计算'] }, 422, 'VALIDATION_FAILED', 'fields'],
      [{ ...expert, conflictInstitutionIds: ['nowhere'] }, 422, 'VALIDATION_FAILED', 'conflictInstitutionIds'],
      [{ ...expert, email: 'exp-002@experts.ronghe.example' }, 409, 'REFERENCE_EXISTS', 'email'],
    ];
    for (const [body, status, code, field] of cases) {
      const fresh = body.email === expert.email ? { email: 'new.expert@henu.edu.example' } : {};
      const answer = await call('POST', '/api/reference/experts', { body: { ...body, ...fresh, id: 'pool-new' } });
      expect({ status: answer.status, code: answer.body.code, fields: answer.body.errors?.map((e) => e.path) }).toEqual(
        { status, code, fields: [field] },
      );
    }
    expect(await db()('experts').where({ id: 'pool-new' }).first()).toBeUndefined();
  });

  it('a change is the whole record: an omitted status or an unknown field is refused, never defaulted or ignored', async () => {
    const { reason: _r, ...whole } = { ...expert, reason: '' };
    const { active: _active, ...withoutStatus } = whole;
    const omitted = await call('PUT', '/api/reference/experts/pool-zwb', {
      body: { ...withoutStatus, reason: '调整' },
    });
    expect([omitted.status, omitted.body.errors?.map((e) => e.path)]).toEqual([422, ['active']]);
    const unknown = await call('PUT', '/api/reference/experts/pool-zwb', {
      body: { ...whole, affiliationKind: 'industry', reason: '调整' },
    });
    expect(unknown.status).toBe(422);
    const created = await call('POST', '/api/reference/experts', {
      body: { ...whole, id: 'pool-kind', email: 'kind@henu.edu.example', affiliationKind: 'industry' },
    });
    expect(created.status).toBe(422);
  });

  it('an import without the status or conflict columns keeps what is stored there', async () => {
    const deactivated = await call('PUT', '/api/reference/experts/pool-zwb', {
      body: { ...expert, active: false, conflictInstitutionIds: ['haust'], reason: '暂停参与评审' },
    });
    expect(deactivated.status, JSON.stringify(deactivated.body)).toBe(200);
    const file = await workbook(
      ['编号', '姓名', '职称', '所在高校或学院', '电子邮箱', '评审领域'],
      [['pool-zwb', '周文博', '研究员', 'henu-cs', 'zhou.wb@henu.edu.example', '新一代信息技术、新材料']],
    );
    const imported = await importFile('experts', file, false);
    expect(imported.body).toMatchObject({ changed: 1 });
    const after = await call('GET', '/api/reference/experts/pool-zwb');
    expect(after.body).toMatchObject({
      titleZh: '研究员',
      active: false,
      phone: '0371-23881234',
      conflictInstitutionIds: ['haust'],
      conflictEnterpriseIds: ['hanwei'],
    });
  });

  it('names a field once in its message: an id that is a name, a conflict that is not an id', async () => {
    const pair = await call('POST', '/api/reference/partnerships', {
      body: { institutionId: '许昌学院', enterpriseId: 'hanwei', reason: '签订合作协议' },
    });
    const conflict = await call('POST', '/api/reference/experts', {
      body: { ...expert, id: 'pool-msg', email: 'msg@henu.edu.example', conflictInstitutionIds: ['郑州大学'] },
    });
    expect([pair.status, conflict.status]).toEqual([422, 422]);
    expect(pair.body.errors?.map((e) => e.message)).toEqual([
      '单位编号应为 1–40 个小写字母、数字或连字符（如 zzu、zzu-cs）',
    ]);
    expect(conflict.body.errors?.map((e) => e.message)).toEqual(['第 1 个申报回避的高校或学院应为单位编号（如 zzu）']);
  });

  it('reads 在库 and 停用 in an import and refuses another word in the status column', async () => {
    const headers = ['编号', '姓名', '职称', '所在企业', '电子邮箱', '评审领域', '状态'];
    const file = await workbook(headers, [
      ['pool-a', '吴国强', '高级工程师', 'hanwei', 'wu.gq@hanwei.example', '新一代信息技术', '停用'],
      ['pool-b', '郑雪松', '高级工程师', 'hanwei', 'zheng.xs@hanwei.example', '新一代信息技术', '休假'],
    ]);
    const dry = await importFile('experts', file, true);
    expect(dry.body.problems).toEqual([{ row: 3, column: '状态', message: '状态应为“在库”或“停用”，现为“休假”' }]);
    expect(dry.body.rows).toEqual([{ row: 2, subject: 'pool-a', action: 'create' }]);
  });
});
