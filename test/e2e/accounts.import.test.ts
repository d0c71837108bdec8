import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAccount } from '../../db/repositories/accounts.js';
import { staffAccessToken } from '../support/accounts.js';
import { readXlsx } from '../support/openpyxl.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 15, point 2: staff create accounts by XLSX/CSV import, a dry run listing every row's problems in zh-CN
 * before anything is written. Real PostgreSQL (row counts before and after), the SMTP sink (one invitation per
 * new account), the API over HTTP with an administrator's personal access token; the template is read back by
 * Python's openpyxl and a GBK file is encoded by Python, both independent of the code under test.
 */
let stack: TestStack;
let adminToken: string;
let adminAccountId: string;
let officerToken: string;
const ADMIN = 'admin@ronghe.example';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const HEADERS = ['姓名', '电子邮箱', '账号类型', '人员角色', '单位', '专家编号', '备注'];

beforeAll(async () => {
  stack = await startTestStack();
  ({ token: adminToken, accountId: adminAccountId } = await staffAccessToken(stack.database.db, {
    email: ADMIN,
    staffRole: 'administrator',
  }));
  ({ token: officerToken } = await staffAccessToken(stack.database.db, { email: 'officer@ronghe.example' }));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Problem {
  row: number;
  column: string;
  message: string;
}
interface Report {
  dryRun: boolean;
  valid: boolean;
  alreadyImported: boolean;
  format: string;
  encoding: string | null;
  fileSha256: string;
  rowCount: number;
  problems: Problem[];
  rows: { row: number; kind: string; email: string; name: string; actsForZh: string | null }[];
  accounts: { id: string; email: string; name: string; kind: string; staffRole: string | null }[];
  code?: string;
  title?: string;
  detail?: string;
  errors?: { path: string; message: string; label: string }[];
}

async function upload(
  body: Buffer,
  contentType: string,
  { dryRun, token = adminToken }: { dryRun?: boolean; token?: string } = {},
): Promise<{ status: number; body: Report }> {
  const query = dryRun === undefined ? '' : `?dryRun=${dryRun}`;
  const res = await fetch(`${stack.api.url}/api/accounts/imports${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: (await res.json()) as Report };
}

/** The downloaded template with `rows` written under its header (cells as given: text, or a hyperlink). */
async function filledTemplate(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const res = await fetch(`${stack.api.url}/api/accounts/imports/template.xlsx`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(res.status).toBe(200);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(await res.arrayBuffer());
  const sheet = workbook.getWorksheet('账号')!;
  rows.forEach((cells, i) => {
    cells.forEach((value, j) => {
      if (value !== null && value !== '') sheet.getCell(i + 2, j + 1).value = value;
    });
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Rows in the tables an import writes. */
type Counts = Record<'accounts' | 'account_links' | 'email_outbox' | 'audit_events', number>;
async function counts(): Promise<Counts> {
  const out = {} as Counts;
  for (const table of ['accounts', 'account_links', 'email_outbox', 'audit_events'] as const) {
    out[table] = Number((await stack.database.db(table).count<{ n: string }[]>({ n: '*' }))[0]!.n);
  }
  return out;
}

const csv = (lines: string[]) => lines.join('\r\n') + '\r\n';

/** `text` encoded in GBK by Python (what Excel in China writes for "CSV (逗号分隔)"). */
async function gbk(text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'python3',
      ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode("utf-8").encode("gbk"))'],
      { encoding: 'buffer' },
      (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)),
    );
    child.stdin!.end(Buffer.from(text, 'utf8'));
  });
}

describe('account import from XLSX/CSV', () => {
  it('the template, downloaded and read by openpyxl, has the documented headers', async () => {
    const res = await fetch(`${stack.api.url}/api/accounts/imports/template.xlsx`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(XLSX);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-import-'));
    const file = path.join(dir, 'template.xlsx');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { sheet, rows } = await readXlsx(file);
    expect(sheet).toBe('账号');
    expect(rows[0]).toEqual(HEADERS);
    // The README documents the same columns.
    const readme = fs.readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const h of HEADERS) expect(readme).toMatch(new RegExp(`^\\| ${h} +\\|`, 'm'));
  }, 240_000);

  it('OpenAPI documents the import (the file as the body, XLSX or CSV; dryRun defaulting to true; the problem codes) and the template', async () => {
    interface Operation {
      parameters?: { name: string; in: string; schema?: { default?: unknown } }[];
      requestBody?: { content: Record<string, unknown> };
      responses: Record<string, { description: string }>;
    }
    const doc = (await (await fetch(`${stack.api.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const post = doc.paths['/api/accounts/imports']!.post!;
    expect(Object.keys(post.requestBody!.content).sort()).toEqual([XLSX, 'text/csv']);
    expect(post.parameters!.find((p) => p.name === 'dryRun')).toMatchObject({
      in: 'query',
      schema: { default: 'true' },
    });
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '201', '403', '413', '415', '422']));
    expect(post.responses['422']!.description).toContain('ACCOUNT_IMPORT_INVALID');
    expect(post.responses['422']!.description).toContain('ACCOUNT_IMPORT_FILE_INVALID');
    expect(Object.keys(doc.paths['/api/accounts/imports/template.xlsx']!.get!.responses['200']!)).toContain('content');
  });

  it('a non-administrator is refused (403), the template as well as the import', async () => {
    const officer = await upload(Buffer.from(csv(['姓名,电子邮箱,账号类型', '张三,a@b.cn,评审专家'])), 'text/csv', {
      token: officerToken,
    });
    expect(officer.status).toBe(403);
    expect(officer.body.code).toBe('FORBIDDEN');
    const applicant = await stack.token({ role: 'applicant', id: 'zzu' });
    const byApplicant = await upload(Buffer.from(csv(['姓名,电子邮箱,账号类型'])), 'text/csv', { token: applicant });
    expect(byApplicant.status).toBe(403);
    const template = await fetch(`${stack.api.url}/api/accounts/imports/template.xlsx`, {
      headers: { authorization: `Bearer ${officerToken}` },
    });
    expect(template.status).toBe(403);
  });

  it('a dry run lists every bad row by row and column in zh-CN and writes nothing; the real import of the same file writes nothing either; fixed, it creates every account and invites each once; the same file again creates nothing', async () => {
    const db = stack.database.db;
    await insertAccount(db, {
      kind: 'expert',
      expertId: 'exp-002',
      email: 'exp002@ronghe.example',
      name: '已有账号的专家',
      createdBy: 'test',
    });
    await db('experts').where({ id: 'exp-010' }).update({ active: false });
    const bad = await filledTemplate([
      ['李明', 'li.ming@ronghe.example', '管理服务中心工作人员', '业务人员', '', '', ''], // 2: fine
      ['王芳', 'not-an-email', '评审专家', '', '', 'exp-001', ''], // 3: bad email
      ['李明明', 'LI.MING@ronghe.example', '工作人员', '运维人员', '', '', ''], // 4: duplicate of row 2
      ['赵六', ADMIN, '工作人员', '系统管理员', '', '', ''], // 5: existing account
      ['钱七', 'qian@zzu.edu.cn', '申报单位用户', '', '河南不存在大学', '', ''], // 6: unknown university
      ['孙八', 'sun@ronghe.example', '评审专家', '', '', 'exp-999', ''], // 7: unknown expert
      ['周九', 'zhou@ronghe.example', '评审专家', '', '', 'exp-002', ''], // 8: expert with an account
      ['吴十', 'wu@ronghe.example', '学生', '', '', '', ''], // 9: unknown type
      ['郑一', 'zheng@ronghe.example', '工作人员', '', '', '', ''], // 10: staff without a role
      ['', 'blank@ronghe.example', '工作人员', '业务人员', '', '', ''], // 11: blank name
      ['冯二', 'feng@ronghe.example', '工作人员', '主任', '', '', ''], // 12: unknown role
      ['陈三', 'chen@ronghe.example', '合作企业用户', '', '郑州大学', '', ''], // 13: a university for an enterprise
      ['褚四', 'chu@ronghe.example', '评审专家', '', '', 'exp-010', ''], // 14: expert no longer in the pool
      ['卫五', 'wei@ronghe.example', '评审专家', '业务人员', '', 'exp-004', ''], // 15: a role on an expert
    ]);
    const before = await counts();

    const dry = await upload(bad, XLSX);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      valid: false,
      alreadyImported: false,
      format: 'xlsx',
      rowCount: 14,
    });
    const expected: [number, string, string][] = [
      [3, '电子邮箱', '“not-an-email”不是单个邮箱地址'],
      [4, '电子邮箱', 'li.ming@ronghe.example 与第 2 行重复'],
      [5, '电子邮箱', `${ADMIN} 已有账号`],
      [6, '单位', '未找到高校或学院“河南不存在大学”'],
      [7, '专家编号', '专家库中没有编号为“exp-999”的专家'],
      [8, '专家编号', '专家 exp-002'],
      [9, '账号类型', '无法识别的账号类型“学生”'],
      [10, '人员角色', '工作人员须填写人员角色'],
      [11, '姓名', '姓名不能为空'],
      [12, '人员角色', '无法识别的人员角色“主任”'],
      [13, '单位', '“郑州大学”不是合作企业'],
      [14, '专家编号', '已不在专家库中'],
      [15, '人员角色', '评审专家不填写人员角色'],
    ];
    expect(dry.body.problems.map((p) => [p.row, p.column])).toEqual(expected.map(([r, c]) => [r, c]));
    for (const [i, [, , message]] of expected.entries()) expect(dry.body.problems[i]!.message).toContain(message);
    expect(dry.body.problems.find((p) => p.row === 8)!.message).toContain('已有账号');
    expect(dry.body.rows.map((r) => r.row)).toEqual([2]);
    expect(await counts()).toEqual(before);

    // The real import of the same file answers the same problems (422) and writes nothing.
    const refused = await upload(bad, XLSX, { dryRun: false });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('ACCOUNT_IMPORT_INVALID');
    expect(refused.body.problems).toEqual(dry.body.problems);
    expect(refused.body.errors![0]!.label).toBe('第 3 行“电子邮箱”');
    expect(await counts()).toEqual(before);

    // Fixed: institutions by name and by id, an enterprise by name, an expert; the email as Excel links it.
    const good = await filledTemplate([
      ['李明', { text: 'Li.Ming@ronghe.example', hyperlink: 'mailto:Li.Ming@ronghe.example' }, '工作人员', '业务人员'],
      ['钱七', 'qian@zzu.edu.cn', '申报单位用户', '', '郑州大学'],
      ['张学院', 'zhang@cs.zzu.edu.cn', 'institution', '', 'zzu-cs'],
      ['陈三', 'chen@yutong.example', '合作企业用户', '', '宇通客车股份有限公司'],
      ['王芳', 'wang.fang@ronghe.example', '专家', '', '', 'exp-001', '2027 年新入库'],
    ]);
    const checked = await upload(good, XLSX);
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({ dryRun: true, valid: true, problems: [], rowCount: 5 });
    expect(checked.body.rows.map((r) => [r.email, r.kind, r.actsForZh])).toEqual([
      ['li.ming@ronghe.example', 'staff', null],
      ['qian@zzu.edu.cn', 'institution', '郑州大学'],
      ['zhang@cs.zzu.edu.cn', 'institution', '郑州大学计算机与人工智能学院'],
      ['chen@yutong.example', 'enterprise', '宇通客车股份有限公司'],
      ['wang.fang@ronghe.example', 'expert', expect.any(String)],
    ]);
    expect(await counts()).toEqual(before);

    const imported = await upload(good, XLSX, { dryRun: false });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({ dryRun: false, valid: true, alreadyImported: false });
    const emails = imported.body.accounts.map((a) => a.email);
    expect(emails).toEqual(checked.body.rows.map((r) => r.email));
    const after = await counts();
    expect(after.accounts).toBe(before.accounts + 5);
    expect(after.account_links).toBe(before.account_links + 5);
    expect(after.email_outbox).toBe(before.email_outbox + 5);
    const rows = await db('accounts')
      .whereIn('email', emails)
      .orderBy('email')
      .select('email', 'kind', 'staff_role', 'institution_id', 'enterprise_id', 'expert_id', 'totp_secret');
    expect(
      rows.map((r: { email: string; institution_id: string | null }) => [r.email, r.institution_id]),
    ).toContainEqual(['zhang@cs.zzu.edu.cn', 'zzu-cs']);
    expect(rows.find((r: { kind: string }) => r.kind === 'staff')).toMatchObject({
      staff_role: 'officer',
      totp_secret: expect.any(String),
    });
    expect(rows.find((r: { kind: string }) => r.kind === 'enterprise')).toMatchObject({ enterprise_id: 'yutong' });
    expect(rows.find((r: { kind: string }) => r.kind === 'expert')).toMatchObject({ expert_id: 'exp-001' });

    // Each new account gets its invitation, once.
    const invitations = await eventually(
      async () => {
        const list = (await stack.mailbox.list()).filter((m) => m.purpose === 'account.invitation');
        return emails.every((e) => list.some((m) => m.to === e)) ? list : undefined;
      },
      { what: 'five invitations' },
    );
    for (const e of emails) expect(invitations.filter((m) => m.to === e)).toHaveLength(1);
    expect(invitations.find((m) => m.to === 'li.ming@ronghe.example')!.text).toMatch(/\/account\/invitation\/\S+/);

    // Audited: the import by the importing account with the file's digest, each account's creation.
    const audit = await db('audit_events')
      .where({ action: 'account.import' })
      .select<{ account_id: string; subject_id: string; details: { accountIds: string[] } }[]>();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ account_id: adminAccountId, subject_id: imported.body.fileSha256 });
    expect(audit[0]!.details.accountIds).toEqual(imported.body.accounts.map((a) => a.id));
    expect(
      await db('audit_events')
        .where({ action: 'account.create', account_id: adminAccountId })
        .count<{ n: string }[]>({ n: '*' }),
    ).toEqual([{ n: 5 }]);

    // The same file again: nothing created, nobody invited twice; the answer names what was imported.
    const again = await upload(good, XLSX, { dryRun: false });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ alreadyImported: true, fileSha256: imported.body.fileSha256 });
    expect(again.body.accounts.map((a) => a.id)).toEqual(imported.body.accounts.map((a) => a.id));
    expect(await counts()).toEqual(after);
  }, 240_000);

  it('a name with a line break (a quoted CSV cell) or an invisible character is a row problem, as through the API, and nothing is written', async () => {
    const file = Buffer.from(
      csv([
        '姓名,电子邮箱,账号类型,单位',
        '"王五\nBcc: y@z.example",wang5@henu.edu.cn,申报单位用户,河南大学',
        // A zero-width space inside: looks like 赵六, is not.
        '赵\u200b六,zhao6@henu.edu.cn,申报单位用户,河南大学',
      ]),
      'utf8',
    );
    const res = await upload(file, 'text/csv', { dryRun: false });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.problems).toEqual([
      expect.objectContaining({ row: 2, column: '姓名', message: expect.stringContaining('只能是一行文字') }),
      expect.objectContaining({ row: 3, column: '姓名', message: expect.stringContaining('不可见字符') }),
    ]);
    expect(await stack.database.db('accounts').whereIn('email', ['wang5@henu.edu.cn', 'zhao6@henu.edu.cn'])).toEqual(
      [],
    );
  });

  it('a CSV with a BOM (Excel\'s "CSV UTF-8") imports; its first header is read as 姓名', async () => {
    const file = Buffer.from(
      '\uFEFF' + csv(['姓名,电子邮箱,账号类型,人员角色', '蒋六,jiang@ronghe.example,管理服务中心工作人员,系统管理员']),
      'utf8',
    );
    const res = await upload(file, 'text/csv', { dryRun: false });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ format: 'csv', encoding: 'utf-8' });
    expect(res.body.accounts).toEqual([
      expect.objectContaining({
        email: 'jiang@ronghe.example',
        name: '蒋六',
        kind: 'staff',
        staffRole: 'administrator',
      }),
    ]);
  });

  it('a CSV in GBK, as Excel in China saves it, is read as GBK; bytes in neither encoding are a 415 saying to save as CSV UTF-8', async () => {
    const file = await gbk(csv(['姓名,电子邮箱,账号类型,单位', '韩梅梅,han@henu.edu.cn,申报单位用户,河南大学']));
    expect(file.includes(Buffer.from('姓名', 'utf8'))).toBe(false);
    const res = await upload(file, 'text/csv');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ encoding: 'gbk', valid: true });
    expect(res.body.rows).toEqual([expect.objectContaining({ name: '韩梅梅', actsForZh: '河南大学' })]);

    const garbled = Buffer.concat([
      Buffer.from('姓名,电子邮箱,账号类型\r\n', 'utf8'),
      Buffer.from([0xff, 0xfe, 0x2c, 0x0d, 0x0a]),
    ]);
    const refused = await upload(garbled, 'text/csv');
    expect(refused.status).toBe(415);
    expect(refused.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(refused.body.detail).toContain('CSV UTF-8');
  });

  it('a file that is not an import sheet is refused before any row is looked at, in zh-CN', async () => {
    const before = await counts();
    const pdf = await upload(Buffer.from('%PDF-1.7\n'), 'application/pdf');
    expect(pdf.status).toBe(415);
    const fakeXlsx = await upload(Buffer.from('姓名,电子邮箱\r\n'), XLSX);
    expect(fakeXlsx.status).toBe(415);
    expect(fakeXlsx.body.detail).toContain('不是有效的 XLSX');

    const unknown = await upload(Buffer.from(csv(['姓名,邮箱,账号类型,职务', '张三,a@b.cn,专家,教授'])), 'text/csv');
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('ACCOUNT_IMPORT_FILE_INVALID');
    expect(unknown.body.detail).toContain('无法识别的表头：“邮箱”、“职务”');
    expect(unknown.body.detail).toContain('缺少必需的列：“电子邮箱”');

    const empty = await upload(Buffer.from(''), 'text/csv');
    expect(empty.status).toBe(422);
    expect(empty.body.detail).toContain('没有内容');
    const headerOnly = await upload(await filledTemplate([]), XLSX);
    expect(headerOnly.status).toBe(422);
    expect(headerOnly.body.detail).toContain('没有账号');

    const many = csv([
      '姓名,电子邮箱,账号类型,人员角色',
      ...Array.from({ length: 501 }, (_, i) => `人员${i},p${i}@ronghe.example,工作人员,业务人员`),
    ]);
    const tooMany = await upload(Buffer.from(many), 'text/csv');
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.detail).toContain('每个文件至多 500 行');
    expect(await counts()).toEqual(before);
  });
});
