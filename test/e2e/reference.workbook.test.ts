import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundContext } from '../../db/repositories/round.rules.js';
import { XLSX_CONTENT_TYPE } from '../../services/spreadsheet.js';
import { staffAccessToken } from '../support/accounts.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 16's Must-show, on the real stack (Temporal, PostgreSQL): staff keep institutions and the expert pool in
 * one Excel workbook. A workbook with two bad rows — a college under an unknown university; an expert whose 编号
 * repeats another row's and whose email is not an address — is listed row by row in a dry run and refused by a
 * real import, with nothing written either time. Fixed, it is imported (a new university, its college, experts
 * at the college and at an enterprise, with a declared conflict). A round is launched, the administrator changes
 * a limit, and the running round keeps the rules version it was launched with while a round launched after gets
 * the new one. The export imported back — the workbook and the expert list alone — changes nothing.
 */
let stack: TestStack;
let officer: string;
let admin: string;

beforeAll(async () => {
  stack = await startTestStack();
  officer = await stack.token({ role: 'staff', id: 'workbook-officer' });
  admin = (
    await staffAccessToken(stack.database.db, { email: 'workbook.admin@ronghe.example', staffRole: 'administrator' })
  ).token;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const db = () => stack.database.db;

const INSTITUTION_HEADERS = ['编号', '名称', '所属高校', '城市', '联系人', '联系电话', '联系邮箱'];
const EXPERT_HEADERS = [
  '编号',
  '姓名',
  '职称',
  '所在高校或学院',
  '所在企业',
  '电子邮箱',
  '联系电话',
  '评审领域',
  '状态',
  '申报回避的高校或学院',
  '申报回避的企业',
];

/** A workbook as a person's Excel saves it: the two lists' sheets by name, and a sheet of notes the import skips. */
async function workbook(institutions: string[][], experts: string[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('说明').addRow(['本工作簿由教育厅产教融合处维护']);
  const units = book.addWorksheet('高校与学院');
  units.addRow(INSTITUTION_HEADERS);
  for (const row of institutions) units.addRow(row);
  const pool = book.addWorksheet('评审专家库');
  pool.addRow(EXPERT_HEADERS);
  for (const row of experts) pool.addRow(row);
  return Buffer.from(await book.xlsx.writeBuffer());
}

interface Report {
  code?: string;
  valid: boolean;
  problems: { sheet: string; row: number; column: string; message: string }[];
  sheets: { list: string; created: number; changed: number; unchanged: number }[];
}

async function post<T>(path: string, data: Buffer): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': XLSX_CONTENT_TYPE },
    body: data,
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function download(path: string): Promise<Buffer> {
  const res = await fetch(`${stack.api.url}${path}`, { headers: { authorization: `Bearer ${officer}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain(XLSX_CONTENT_TYPE);
  return Buffer.from(await res.arrayBuffer());
}

/** Every row of the reference tables, every version and every audit row, to compare before and after. */
async function snapshot(): Promise<unknown> {
  return {
    institutions: await db()('institutions').orderBy('id').select('*'),
    enterprises: await db()('enterprises').orderBy('id').select('*'),
    partnerships: await db()('institution_partners').orderBy(['institution_id', 'enterprise_id']).select('*'),
    experts: await db()('experts').orderBy('id').select('*'),
    conflicts: await db()('expert_conflicts')
      .orderBy(['expert_id', 'institution_id', 'enterprise_id'])
      .select('expert_id', 'institution_id', 'enterprise_id', 'source'),
    versions: await db()('reference_versions').orderBy(['kind', 'subject_id', 'version']).select('*'),
    audit: Number((await db()('audit_events').count<{ c: string }[]>('* as c'))[0]!.c),
  };
}

const GOOD_UNITS = [
  ['hnsf', '河南示范理工大学', '', '新乡', '教务处', '0373-3040000', 'jwc@hnsf.edu.example'],
  ['hnsf-ai', '河南示范理工大学人工智能学院', 'hnsf', '新乡', '', '', 'ai@hnsf.edu.example'],
];
const BAD_UNIT = ['hnsf-food', '河南示范理工大学食品学院', '河南示范大学', '新乡', '', '', 'food@hnsf.edu.example'];
const FIXED_UNIT = [
  'hnsf-food',
  '河南示范理工大学食品学院',
  '河南示范理工大学',
  '新乡',
  '',
  '',
  'food@hnsf.edu.example',
];
const GOOD_EXPERTS = [
  // At the college created on the first worksheet, declaring a conflict with a seeded university.
  [
    'wb-001',
    '赵明远',
    '教授',
    'hnsf-ai',
    '',
    'zhao.my@hnsf.edu.example',
    '13800138001',
    '新一代信息技术',
    '在库',
    'zzu',
    '',
  ],
  [
    'wb-002',
    '钱晓燕',
    '正高级工程师',
    '',
    '汉威科技集团股份有限公司',
    'qian.xy@hanwei.example',
    '',
    '新一代信息技术、新材料',
    '',
    '',
    '',
  ],
];
const BAD_EXPERT = ['wb-001', '孙立群', '研究员', 'hnsf', '', 'sun.lq at hnsf', '', '新材料', '', '', ''];
const FIXED_EXPERT = [
  'wb-003',
  '孙立群',
  '研究员',
  'hnsf',
  '',
  'sun.lq@hnsf.edu.example',
  '',
  '新材料',
  '停用',
  '',
  'hanwei',
];

async function launchedRound(year: number): Promise<{ rulesVersion: number }> {
  const launched = await stack.request('POST', '/api/rounds', {
    token: officer,
    body: { programme: 'demo_college', year },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  return eventually(
    async () => {
      const round = await stack.request<{ rulesVersion: number; deadline: unknown }>(
        'GET',
        `/api/rounds/round-demo_college-${year}`,
        { token: officer },
      );
      return round.body.deadline ? round.body : undefined;
    },
    { what: `the ${year} round` },
  );
}

describe('reference data in one workbook (issue 16, Must show)', () => {
  it('lists two bad rows and writes nothing; imports the fixed workbook; a running round keeps its rules version; the export imports back unchanged', async () => {
    const before = await snapshot();
    const bad = await workbook([...GOOD_UNITS, BAD_UNIT], [...GOOD_EXPERTS, BAD_EXPERT]);

    const dry = await post<Report>('/api/reference/import', bad);
    expect(dry.status).toBe(200);
    expect(dry.body.valid).toBe(false);
    expect(dry.body.problems).toEqual([
      {
        sheet: '高校与学院',
        row: 4,
        column: '所属高校',
        message: '未找到高校“河南示范大学”，请核对编号或全称',
      },
      { sheet: '评审专家库', row: 4, column: '编号', message: '编号 wb-001 与第 2 行重复' },
      {
        sheet: '评审专家库',
        row: 4,
        column: '电子邮箱',
        message: '“sun.lq at hnsf”不是单个邮箱地址（如 name@example.com）',
      },
    ]);
    expect(await snapshot()).toEqual(before);

    const refused = await post<Report>('/api/reference/import?dryRun=false', bad);
    expect([refused.status, refused.body.code]).toEqual([422, 'REFERENCE_IMPORT_INVALID']);
    expect(refused.body.problems).toHaveLength(3);
    expect(await snapshot()).toEqual(before);

    const fixed = await workbook([...GOOD_UNITS, FIXED_UNIT], [...GOOD_EXPERTS, FIXED_EXPERT]);
    const checked = await post<Report>('/api/reference/import', fixed);
    expect([checked.status, checked.body.valid, checked.body.problems]).toEqual([200, true, []]);
    expect(await snapshot()).toEqual(before);
    const imported = await post<Report>('/api/reference/import?dryRun=false', fixed);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.sheets.map((s) => [s.list, s.created, s.changed, s.unchanged])).toEqual([
      ['institutions', 3, 0, 0],
      ['experts', 3, 0, 0],
    ]);

    // What the import wrote, as the API shows it: the college's expert, the enterprise's, the deactivated one.
    const expert = await stack.request<Record<string, unknown>>('GET', '/api/reference/experts/wb-001', {
      token: officer,
    });
    expect(expert.body).toMatchObject({
      affiliationKind: 'academic',
      institutionId: 'hnsf-ai',
      enterpriseId: null,
      email: 'zhao.my@hnsf.edu.example',
      phone: '13800138001',
      fields: ['next_gen_it'],
      active: true,
      conflictInstitutionIds: ['zzu'],
      openAssignments: 0,
    });
    const industry = await stack.request<Record<string, unknown>>('GET', '/api/reference/experts/wb-002', {
      token: officer,
    });
    expect(industry.body).toMatchObject({ enterpriseId: 'hanwei', fields: ['next_gen_it', 'new_materials'] });
    const inactive = await stack.request<Record<string, unknown>>('GET', '/api/reference/experts/wb-003', {
      token: officer,
    });
    expect(inactive.body).toMatchObject({ active: false, conflictEnterpriseIds: ['hanwei'] });
    const versions = await stack.request<{ items: { version: number; source: string; importSha256: string }[] }>(
      'GET',
      '/api/reference/experts/wb-001/versions',
      { token: officer },
    );
    expect(versions.body.items.map((v) => [v.version, v.source])).toEqual([[1, 'import']]);
    expect(versions.body.items[0]!.importSha256).toMatch(/^[0-9a-f]{64}$/);

    // A round launched now keeps version 1 of the rules; the limit changes; a round launched after gets version 2.
    const running = await launchedRound(2027);
    expect(running.rulesVersion).toBe(1);
    const programme = await stack.request<{ rules: Record<string, unknown> }>('GET', '/api/programmes/demo_college', {
      token: officer,
    });
    const changed = await stack.request<{ rulesVersion: number }>('PUT', '/api/programmes/demo_college/rules', {
      token: admin,
      body: {
        baseVersion: 1,
        reason: '每校限报数调整为 3 项',
        rules: { ...programme.body.rules, limits: { perApplicant: 1, perUniversity: 3 } },
      },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.rulesVersion).toBe(2);
    const kept = await stack.request<{ rulesVersion: number }>('GET', '/api/rounds/round-demo_college-2027', {
      token: officer,
    });
    expect(kept.body.rulesVersion).toBe(1);
    expect((await roundContext(db(), 'round-demo_college-2027'))!.rules.limits.perUniversity).toBe(2);
    const next = await launchedRound(2028);
    expect(next.rulesVersion).toBe(2);
    expect((await roundContext(db(), 'round-demo_college-2028'))!.rules.limits.perUniversity).toBe(3);

    // The export imported back — the whole workbook, and the expert list on its own — changes nothing.
    const exported = await download('/api/reference/export.xlsx');
    const beforeRoundTrip = await snapshot();
    const back = await post<Report>('/api/reference/import?dryRun=false', exported);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    for (const sheet of back.body.sheets)
      expect([sheet.list, sheet.created, sheet.changed]).toEqual([sheet.list, 0, 0]);
    expect(back.body.sheets.map((s) => s.list)).toEqual(['institutions', 'enterprises', 'partnerships', 'experts']);
    const pool = await download('/api/reference/experts/export.xlsx');
    const poolBack = await post<{ created: number; changed: number; unchanged: number }>(
      '/api/reference/experts/import?dryRun=false',
      pool,
    );
    expect(poolBack.status).toBe(200);
    expect([poolBack.body.created, poolBack.body.changed]).toEqual([0, 0]);
    expect(poolBack.body.unchanged).toBe(Number((await db()('experts').count<{ c: string }[]>('* as c'))[0]!.c));
    expect(await snapshot()).toEqual(beforeRoundTrip);
  }, 240_000);
});
