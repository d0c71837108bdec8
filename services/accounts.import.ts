import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import ExcelJS from 'exceljs';
import type { Db } from '../db/knex.js';
import { findAccount, type Account } from '../db/repositories/accounts.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  ACCOUNT_KIND_ZH,
  ACCOUNT_KINDS,
  STAFF_ROLE_ZH,
  STAFF_ROLES,
  type AccountKind,
  type StaffRole,
} from '../domain/accounts.js';
import { hasVisibleCharacter, isOneLine, ONE_LINE_RULE_ZH, VISIBLE_RULE_ZH } from '../domain/people.js';
import { MAILBOX_MAX_LENGTH } from '../mail/address.js';
import {
  insertAuditedAccount,
  issueAccountLink,
  normaliseEmail,
  type AccountActor,
  type AccountServiceDeps,
} from './accounts.js';

/**
 * Accounts imported from a spreadsheet (issue 15, point 2): an XLSX workbook (its first sheet) or a CSV file
 * whose first row holds the zh-CN headers of `IMPORT_COLUMNS`. Every row is checked before anything is written;
 * a real import writes all rows in one transaction or none, invites each new account through the outbox after
 * the commit, and is recorded by the SHA-256 of the file, so the same file imported twice creates nothing twice.
 */

/** The most data rows one file may hold (blank rows not counted): larger lists are imported in several files. */
export const IMPORT_MAX_ROWS = 500;
/** The largest file accepted (bytes): 2 MiB, far above 500 rows in either format. */
export const IMPORT_MAX_BYTES = 2 * 1024 * 1024;

/** The media types an import is uploaded as (`application/octet-stream` also: the bytes tell). */
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const CSV_CONTENT_TYPE = 'text/csv';

/** The import sheet's columns, by the key the code reads them under. */
export type ImportColumnKey = 'name' | 'email' | 'kind' | 'staffRole' | 'organisation' | 'expertId' | 'note';

/** One column of the import sheet: its key, its zh-CN header, whether the sheet must have it, what goes in it. */
export interface ImportColumn {
  key: ImportColumnKey;
  header: string;
  required: boolean;
  /** What to write, for the template's instructions and the README. */
  help: string;
  /** Width in the template (characters). */
  width: number;
}

const KIND_VALUES_ZH = ACCOUNT_KINDS.map((k) => ACCOUNT_KIND_ZH[k]);
const ROLE_VALUES_ZH = STAFF_ROLES.map((r) => STAFF_ROLE_ZH[r]);

/** The columns, in the template's order. Headers are matched exactly (surrounding spaces ignored). */
export const IMPORT_COLUMNS: readonly ImportColumn[] = [
  { key: 'name', header: '姓名', required: true, help: '必填，一行，至多 40 个字', width: 12 },
  { key: 'email', header: '电子邮箱', required: true, help: '必填，单个邮箱地址；邀请邮件发往此地址', width: 30 },
  {
    key: 'kind',
    header: '账号类型',
    required: true,
    help: `必填，填写 ${KIND_VALUES_ZH.join('、')} 之一（也可填 ${ACCOUNT_KINDS.join('、')}）`,
    width: 22,
  },
  {
    key: 'staffRole',
    header: '人员角色',
    required: false,
    help: `工作人员必填：${ROLE_VALUES_ZH.join('、')} 之一（也可填 ${STAFF_ROLES.join('、')}）；其他类型不填`,
    width: 14,
  },
  {
    key: 'organisation',
    header: '单位',
    required: false,
    help: '申报单位用户填所代表的高校或学院，合作企业用户填所代表的企业：全称或编号；其他类型不填',
    width: 32,
  },
  {
    key: 'expertId',
    header: '专家编号',
    required: false,
    help: '评审专家必填：专家库中的编号（如 exp-001）；其他类型不填',
    width: 12,
  },
  { key: 'note', header: '备注', required: false, help: '选填，不导入', width: 24 },
];

const COLUMN_BY_HEADER = new Map(IMPORT_COLUMNS.map((c) => [c.header, c]));
const LABEL: Record<ImportColumnKey, string> = Object.fromEntries(
  IMPORT_COLUMNS.map((c) => [c.key, c.header]),
) as Record<ImportColumnKey, string>;

/** Why a file cannot be read as an import sheet at all (no row was looked at). */
export class ImportFileRejected extends Error {
  override name = 'ImportFileRejected';
  constructor(
    /** `media_type`: not a spreadsheet, or text in an encoding not read (415); `too_large` (413); `sheet`: the sheet's shape (422). */
    readonly reason: 'media_type' | 'too_large' | 'sheet',
    message: string,
  ) {
    super(message);
  }
}

/** One data row as read: its row number in the sheet (the header is row 1) and its cells by column, trimmed. */
export interface ImportRow {
  row: number;
  cells: Partial<Record<ImportColumnKey, string>>;
}

/** A file read: its format, the text encoding a CSV was read in, its SHA-256 (hex) and its data rows. */
export interface ImportSheet {
  format: 'xlsx' | 'csv';
  /** `utf-8` (with or without BOM) or `gbk` (GB18030: what Excel in China saves as "CSV (逗号分隔)"); xlsx: null. */
  encoding: 'utf-8' | 'gbk' | null;
  sha256: string;
  rows: ImportRow[];
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/**
 * Files people send instead of the sheet, by the signature their first bytes carry (each format's own
 * specification: PDF ISO 32000 §7.5.2, PNG §5.2, JPEG/JFIF SOI + marker, GIF87a/89a, gzip RFC 1952, RAR, 7-Zip,
 * RTF): none is a spreadsheet, whatever Content-Type it was sent with. (ZIP is XLSX's own container; the old
 * .xls, OLE2 `D0CF11E0`, has its own message.)
 */
const BINARY_SIGNATURES: readonly { kind: string; magic: Buffer }[] = [
  { kind: 'PDF 文件', magic: Buffer.from('%PDF-', 'latin1') },
  { kind: 'PNG 图片', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { kind: 'JPEG 图片', magic: Buffer.from([0xff, 0xd8, 0xff]) },
  { kind: 'GIF 图片', magic: Buffer.from('GIF87a', 'latin1') },
  { kind: 'GIF 图片', magic: Buffer.from('GIF89a', 'latin1') },
  { kind: 'gzip 压缩文件', magic: Buffer.from([0x1f, 0x8b]) },
  { kind: 'RAR 压缩文件', magic: Buffer.from('Rar!\x1a\x07', 'latin1') },
  { kind: '7z 压缩文件', magic: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { kind: 'RTF 文档', magic: Buffer.from('{\\rtf', 'latin1') },
];

/**
 * A C0 control byte no text file holds (all but TAB, LF, FF, CR and the DOS end-of-file SUB): in UTF-8 and GBK
 * such a byte is never part of a multi-byte character, so one found in the bytes means a binary file.
 */
function hasBinaryControlByte(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1a) return true;
  }
  return false;
}

/** The message for a file that is not a sheet at all: what it is, if known, and to save the list as .xlsx. */
function notASheet(kind?: string): ImportFileRejected {
  return new ImportFileRejected(
    'media_type',
    `上传的${kind ? `是 ${kind}，` : '文件不是 XLSX 工作簿或 CSV 文本，'}不是账号导入表：请用导入模板填写，或在 Excel 中“另存为”.xlsx（或“CSV UTF-8（逗号分隔）”）后上传`,
  );
}

/**
 * Decodes a CSV file: UTF-8 (a BOM is dropped), or, when the bytes are not UTF-8 and no other charset was
 * declared, GBK/GB18030 (WHATWG's `gbk` decoder), strictly both times.
 *
 * @throws ImportFileRejected (`media_type`) when the text is in neither, or holds NUL or another control byte no
 *   text has (`hasBinaryControlByte`: a binary file).
 */
function decodeCsv(bytes: Buffer, declared: string | undefined): { text: string; encoding: 'utf-8' | 'gbk' } {
  const refuse = () =>
    new ImportFileRejected(
      'media_type',
      'CSV 文件不是 UTF-8 或 GBK 编码的文本：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后重新上传',
    );
  if (hasBinaryControlByte(bytes)) throw notASheet();
  const charset = declared?.toLowerCase();
  const attempts: ('utf-8' | 'gbk')[] =
    charset === undefined ? ['utf-8', 'gbk'] : charset === 'utf-8' || charset === 'utf8' ? ['utf-8'] : ['gbk'];
  if (charset && !['utf-8', 'utf8', 'gbk', 'gb2312', 'gb18030'].includes(charset)) throw refuse();
  for (const encoding of attempts) {
    try {
      // TextDecoder drops a leading UTF-8 BOM (WHATWG Encoding: `ignoreBOM` false), as Excel's "CSV UTF-8" has.
      return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding };
    } catch {
      // the next encoding, or refused below
    }
  }
  throw refuse();
}

/** A cell's text as a person sees it (hyperlinks, formulas' results, rich text), trimmed. */
function cellText(cell: ExcelJS.Cell): string {
  const value = cell.value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && 'text' in value && typeof value.text === 'string') return value.text.trim();
  return String(cell.text ?? '').trim();
}

/**
 * Reads an import file: `contentType` is the request's Content-Type (`text/csv`, the XLSX type, or
 * `application/octet-stream` to let the bytes tell); an XLSX file is recognised by its ZIP signature.
 *
 * @throws ImportFileRejected `media_type` for a file that is neither, whatever its Content-Type says (the bytes
 *   are sniffed: an old .xls, a PDF, an image or an archive by its signature, any file with NUL or other control
 *   bytes), or a CSV in an encoding not read; `sheet` for an empty sheet, unknown or repeated headers, a missing required column, or
 *   more than `IMPORT_MAX_ROWS` rows; `too_large` above `IMPORT_MAX_BYTES`.
 */
export async function readImportFile(bytes: Buffer, contentType: string): Promise<ImportSheet> {
  if (bytes.length > IMPORT_MAX_BYTES) {
    throw new ImportFileRejected('too_large', `导入文件不得超过 ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  }
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim());
  const mediaType = type.toLowerCase();
  const charsets = params
    .map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1])
    .filter((c): c is string => c !== undefined);
  // Which of two charsets the sender meant cannot be known: refused, never the first taken silently.
  if (charsets.length > 1) {
    throw new ImportFileRejected(
      'media_type',
      `Content-Type 中的字符集（charset）只能给出一次，收到 ${charsets.join('、')}：请只保留一个，建议 charset=utf-8`,
    );
  }
  const charset = charsets[0];
  const looksZip = bytes.subarray(0, 4).equals(ZIP_MAGIC);
  if (bytes.subarray(0, 4).equals(OLE_MAGIC)) {
    throw new ImportFileRejected(
      'media_type',
      '不支持旧版 Excel 文件（.xls）：请另存为 .xlsx 或“CSV UTF-8（逗号分隔）”后上传',
    );
  }
  const known = BINARY_SIGNATURES.find((s) => bytes.subarray(0, s.magic.length).equals(s.magic));
  if (known) throw notASheet(known.kind);
  const workbook = new ExcelJS.Workbook();
  let worksheet: ExcelJS.Worksheet | undefined;
  let format: ImportSheet['format'];
  let encoding: ImportSheet['encoding'] = null;
  if (mediaType === XLSX_CONTENT_TYPE || (mediaType === 'application/octet-stream' && looksZip)) {
    format = 'xlsx';
    if (!looksZip) throw new ImportFileRejected('media_type', '上传的文件不是有效的 XLSX 工作簿，请使用导入模板');
    try {
      await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch {
      throw new ImportFileRejected('media_type', '上传的文件不是有效的 XLSX 工作簿，请使用导入模板');
    }
    worksheet = workbook.worksheets[0];
  } else if (mediaType === CSV_CONTENT_TYPE || mediaType === 'application/octet-stream') {
    format = 'csv';
    if (looksZip) throw new ImportFileRejected('media_type', '上传的文件是 XLSX 工作簿，请以 XLSX 的内容类型上传');
    const decoded = decodeCsv(bytes, charset);
    encoding = decoded.encoding;
    try {
      // Every value stays text (`map`): exceljs would otherwise read numbers and dates into other types.
      worksheet = await workbook.csv.read(Readable.from([decoded.text]), { map: (v: unknown) => v });
    } catch {
      throw new ImportFileRejected('sheet', 'CSV 文件无法解析（如引号不成对），请用导入模板重新填写');
    }
  } else {
    throw new ImportFileRejected(
      'media_type',
      `导入文件应为 XLSX 工作簿（${XLSX_CONTENT_TYPE}）或 CSV 文件（${CSV_CONTENT_TYPE}）`,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (!worksheet || worksheet.actualRowCount === 0) {
    throw new ImportFileRejected('sheet', '导入文件中没有内容：请在模板第 1 行表头下逐行填写账号');
  }

  // The header row: the first row with any content.
  let headerRow = 0;
  worksheet.eachRow((row, n) => {
    if (headerRow === 0 && row.values && (row.values as unknown[]).some((v) => v !== null && v !== undefined)) {
      headerRow = n;
    }
  });
  const columns = new Map<number, ImportColumnKey>();
  const unknown: string[] = [];
  const repeated: string[] = [];
  worksheet.getRow(headerRow).eachCell((cell, col) => {
    const header = cellText(cell);
    if (header === '') return;
    const column = COLUMN_BY_HEADER.get(header);
    if (!column) unknown.push(header);
    else if ([...columns.values()].includes(column.key)) repeated.push(header);
    else columns.set(col, column.key);
  });
  const problems: string[] = [];
  if (unknown.length > 0) problems.push(`无法识别的表头：${unknown.map((h) => `“${h}”`).join('、')}`);
  if (repeated.length > 0) problems.push(`表头重复：${repeated.map((h) => `“${h}”`).join('、')}`);
  const missing = IMPORT_COLUMNS.filter((c) => c.required && ![...columns.values()].includes(c.key));
  if (missing.length > 0) problems.push(`缺少必需的列：${missing.map((c) => `“${c.header}”`).join('、')}`);
  if (problems.length > 0) {
    throw new ImportFileRejected(
      'sheet',
      `第 ${headerRow} 行表头不符合导入模板（${problems.join('；')}）。表头应为：${IMPORT_COLUMNS.map((c) => c.header).join('、')}`,
    );
  }

  const rows: ImportRow[] = [];
  worksheet.eachRow((row, n) => {
    if (n <= headerRow) return;
    const cells: ImportRow['cells'] = {};
    for (const [col, key] of columns) {
      const text = cellText(row.getCell(col));
      if (text !== '') cells[key] = text;
    }
    if (Object.keys(cells).length > 0) rows.push({ row: n, cells });
  });
  if (rows.length === 0) {
    throw new ImportFileRejected('sheet', '导入文件只有表头，没有账号：请在表头下逐行填写');
  }
  if (rows.length > IMPORT_MAX_ROWS) {
    throw new ImportFileRejected(
      'sheet',
      `导入文件有 ${rows.length} 行账号，每个文件至多 ${IMPORT_MAX_ROWS} 行：请拆分为多个文件分别导入`,
    );
  }
  return { format, encoding, sha256, rows };
}

/** One problem of one row: the row number in the sheet, the column's zh-CN header, and what to fix (zh-CN). */
export interface ImportProblem {
  row: number;
  column: string;
  message: string;
}

/** A row that passed every check: the account it creates. */
export interface ImportPlan {
  row: number;
  kind: AccountKind;
  staffRole?: StaffRole;
  institutionId?: string;
  enterpriseId?: string;
  expertId?: string;
  /** The zh-CN name of the institution, enterprise or expert it acts for, when there is one. */
  actsForZh?: string;
  email: string;
  name: string;
}

const KIND_BY_TEXT = new Map<string, AccountKind>([
  ...ACCOUNT_KINDS.map((k) => [k, k] as const),
  ...ACCOUNT_KINDS.map((k) => [ACCOUNT_KIND_ZH[k], k] as const),
  ['工作人员', 'staff'],
  ['申报单位', 'institution'],
  ['合作企业', 'enterprise'],
  ['专家', 'expert'],
]);
const ROLE_BY_TEXT = new Map<string, StaffRole>([
  ...STAFF_ROLES.map((r) => [r, r] as const),
  ...STAFF_ROLES.map((r) => [STAFF_ROLE_ZH[r], r] as const),
]);

/**
 * Checks every row against the file and the database (read through `db`, which may be a transaction), and
 * returns every problem found (by row and column, zh-CN) and, for the rows without one, the accounts they make.
 * Checked: a blank or too long name; a blank, malformed or repeated email (within the file, and against existing
 * accounts); an unknown account type or staff role; a staff row without a role; an institution, enterprise or
 * expert that is missing, unknown, of the wrong kind or (expert) no longer in the pool or already with an account;
 * a column filled that the row's type does not take.
 */
async function checkImportRows(
  db: Db,
  rows: readonly ImportRow[],
): Promise<{ problems: ImportProblem[]; plans: ImportPlan[] }> {
  const problems: ImportProblem[] = [];
  const plans: ImportPlan[] = [];
  const problem = (row: number, key: ImportColumnKey, message: string) =>
    problems.push({ row, column: LABEL[key], message });

  const emails = rows.map((r) => normaliseEmail(r.cells.email));
  const existing = new Set<string>(
    await db('accounts')
      .whereIn(
        'email',
        emails.filter((e): e is string => e !== undefined),
      )
      .pluck('email'),
  );
  const orgTexts = [...new Set(rows.map((r) => r.cells.organisation).filter((t): t is string => t !== undefined))];
  const institutions: { id: string; name_zh: string }[] = await db('institutions')
    .whereIn('id', orgTexts)
    .orWhereIn('name_zh', orgTexts)
    .select('id', 'name_zh');
  const enterprises: { id: string; name_zh: string }[] = await db('enterprises')
    .whereIn('id', orgTexts)
    .orWhereIn('name_zh', orgTexts)
    .select('id', 'name_zh');
  const expertIds = [...new Set(rows.map((r) => r.cells.expertId).filter((t): t is string => t !== undefined))];
  const experts = new Map(
    (
      await db('experts')
        .whereIn('id', expertIds)
        .select<{ id: string; name_zh: string; active: boolean }[]>('id', 'name_zh', 'active')
    ).map((e) => [e.id, e]),
  );
  const expertsWithAccount = new Set<string>(await db('accounts').whereIn('expert_id', expertIds).pluck('expert_id'));

  const firstRowOfEmail = new Map<string, number>();
  const firstRowOfExpert = new Map<string, number>();
  for (const [i, r] of rows.entries()) {
    const before = problems.length;
    const { cells } = r;

    const name = cells.name ?? '';
    if (name === '') problem(r.row, 'name', '姓名不能为空');
    else if ([...name].length > 40) problem(r.row, 'name', '姓名至多 40 个字');
    else if (!isOneLine(name)) problem(r.row, 'name', `姓名${ONE_LINE_RULE_ZH}`);
    else if (!hasVisibleCharacter(name)) problem(r.row, 'name', `姓名${VISIBLE_RULE_ZH}`);

    const email = emails[i];
    if (cells.email === undefined) problem(r.row, 'email', '电子邮箱不能为空');
    else if (!email || email.length > MAILBOX_MAX_LENGTH) {
      problem(r.row, 'email', `“${cells.email}”不是单个邮箱地址（如 name@example.com）`);
    } else if (firstRowOfEmail.has(email)) {
      problem(r.row, 'email', `${email} 与第 ${firstRowOfEmail.get(email)} 行重复`);
    } else {
      firstRowOfEmail.set(email, r.row);
      if (existing.has(email)) problem(r.row, 'email', `${email} 已有账号，请删除此行或在账号列表中查看`);
    }

    const kind = cells.kind === undefined ? undefined : KIND_BY_TEXT.get(cells.kind);
    if (cells.kind === undefined) problem(r.row, 'kind', `账号类型不能为空，应为 ${KIND_VALUES_ZH.join('、')} 之一`);
    else if (!kind) problem(r.row, 'kind', `无法识别的账号类型“${cells.kind}”，应为 ${KIND_VALUES_ZH.join('、')} 之一`);

    const plan: Partial<ImportPlan> = { row: r.row, email: email ?? '', name };
    if (kind) {
      plan.kind = kind;
      const notFor = (key: ImportColumnKey) => {
        if (cells[key] !== undefined) problem(r.row, key, `${ACCOUNT_KIND_ZH[kind]}不填写${LABEL[key]}，请清空`);
      };
      if (kind === 'staff') {
        const role = cells.staffRole === undefined ? undefined : ROLE_BY_TEXT.get(cells.staffRole);
        if (cells.staffRole === undefined) {
          problem(r.row, 'staffRole', `工作人员须填写人员角色：${ROLE_VALUES_ZH.join('、')} 之一`);
        } else if (!role) {
          problem(r.row, 'staffRole', `无法识别的人员角色“${cells.staffRole}”，应为 ${ROLE_VALUES_ZH.join('、')} 之一`);
        } else plan.staffRole = role;
      } else notFor('staffRole');
      if (kind === 'institution' || kind === 'enterprise') {
        const text = cells.organisation;
        const pool = kind === 'institution' ? institutions : enterprises;
        const other = kind === 'institution' ? enterprises : institutions;
        const what = kind === 'institution' ? '高校或学院' : '合作企业';
        const found = text === undefined ? [] : pool.filter((o) => o.id === text || o.name_zh === text);
        if (text === undefined) problem(r.row, 'organisation', `${ACCOUNT_KIND_ZH[kind]}须填写所代表的${what}`);
        else if (found.length === 1) {
          if (kind === 'institution') plan.institutionId = found[0]!.id;
          else plan.enterpriseId = found[0]!.id;
          plan.actsForZh = found[0]!.name_zh;
        } else if (found.length > 1) {
          problem(r.row, 'organisation', `“${text}”对应多个${what}，请改填编号`);
        } else if (other.some((o) => o.id === text || o.name_zh === text)) {
          problem(r.row, 'organisation', `“${text}”不是${what}：${ACCOUNT_KIND_ZH[kind]}应填所代表的${what}`);
        } else {
          problem(r.row, 'organisation', `未找到${what}“${text}”，请核对全称或编号`);
        }
      } else notFor('organisation');
      if (kind === 'expert') {
        const id = cells.expertId;
        const expert = id === undefined ? undefined : experts.get(id);
        if (id === undefined) problem(r.row, 'expertId', '评审专家须填写专家库中的专家编号');
        else if (!expert) problem(r.row, 'expertId', `专家库中没有编号为“${id}”的专家`);
        else if (!expert.active) problem(r.row, 'expertId', `专家 ${id}（${expert.name_zh}）已不在专家库中（已停用）`);
        else if (expertsWithAccount.has(id)) problem(r.row, 'expertId', `专家 ${id}（${expert.name_zh}）已有账号`);
        else if (firstRowOfExpert.has(id)) {
          problem(r.row, 'expertId', `专家 ${id} 与第 ${firstRowOfExpert.get(id)} 行重复`);
        } else {
          plan.expertId = id;
          plan.actsForZh = expert.name_zh;
        }
        if (id !== undefined && !firstRowOfExpert.has(id)) firstRowOfExpert.set(id, r.row);
      } else notFor('expertId');
    }
    if (problems.length === before) plans.push(plan as ImportPlan);
  }
  return { problems, plans };
}

/** What an import (or its dry run) answers. */
export type ImportOutcome =
  | { status: 'checked'; sheet: ImportSheet; problems: ImportProblem[]; plans: ImportPlan[] }
  | { status: 'rejected'; sheet: ImportSheet; problems: ImportProblem[] }
  | { status: 'imported'; sheet: ImportSheet; accounts: Account[] }
  | { status: 'already_imported'; sheet: ImportSheet; importedAt: Date; importedBy: string; accounts: Account[] };

/** Thrown inside the import's transaction to roll it back with the problems found there. */
class RowsRejected extends Error {
  constructor(readonly problems: ImportProblem[]) {
    super('rows rejected');
  }
}

/** The audit action of an import; its subject is the file's SHA-256, which makes a second import of it a no-op. */
const IMPORT_AUDIT_ACTION = 'account.import';

/** The earlier import of the file with this SHA-256, if there was one (its audit row). */
async function earlierImport(
  db: Db,
  sha256: string,
): Promise<{ occurredAt: Date; actor: string; accountIds: string[] } | undefined> {
  const row = await db('audit_events')
    .where({ action: IMPORT_AUDIT_ACTION, subject_kind: 'account_import', subject_id: sha256 })
    .first<{ occurred_at: Date; actor: string; details: { accountIds?: string[] } } | undefined>(
      'occurred_at',
      'actor',
      'details',
    );
  return row ? { occurredAt: row.occurred_at, actor: row.actor, accountIds: row.details.accountIds ?? [] } : undefined;
}

/** The accounts with these ids, in their order (one query at a time: `db` may be a transaction's one client). */
async function accountsByIds(db: Db, ids: readonly string[]): Promise<Account[]> {
  const accounts: Account[] = [];
  for (const id of ids) {
    const account = await findAccount(db, id);
    if (account) accounts.push(account);
  }
  return accounts;
}

/**
 * Checks (`dryRun`) or imports the sheet. A dry run writes nothing and answers `checked` with every problem and
 * the accounts the rows would make (or `already_imported` when this very file was imported before). A real
 * import, under one lock for all imports (so two imports cannot both take the same email or expert), checks the
 * rows again inside its transaction: with any problem it writes nothing and answers `rejected`; else it creates
 * every account (staff with a TOTP secret to enrol), audits each `account.create` and the import
 * (`account.import`, subject the file's SHA-256, with the file's format and the accounts made), records each
 * invitation in the outbox, commits, and then hands the invitations to SMTP (a failure stays pending for the
 * sweeper). The same file imported again answers `already_imported` with the accounts it made, and invites no
 * one again.
 */
export async function importAccounts(
  deps: AccountServiceDeps,
  sheet: ImportSheet,
  by: AccountActor,
  baseUrl: string,
  { dryRun }: { dryRun: boolean },
): Promise<ImportOutcome> {
  const earlierOf = async (db: Db): Promise<ImportOutcome | undefined> => {
    const earlier = await earlierImport(db, sheet.sha256);
    if (!earlier) return undefined;
    return {
      status: 'already_imported',
      sheet,
      importedAt: earlier.occurredAt,
      importedBy: earlier.actor,
      accounts: await accountsByIds(db, earlier.accountIds),
    };
  };
  if (dryRun) {
    const earlier = await earlierOf(deps.db);
    if (earlier) return earlier;
    return { status: 'checked', sheet, ...(await checkImportRows(deps.db, sheet.rows)) };
  }
  let outcome: ImportOutcome;
  const keys: string[] = [];
  try {
    outcome = await deps.db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['ronghe:account-import']);
      const earlier = await earlierOf(trx);
      if (earlier) return earlier;
      const { problems, plans } = await checkImportRows(trx, sheet.rows);
      if (problems.length > 0) throw new RowsRejected(problems);
      const accounts: Account[] = [];
      for (const plan of plans) {
        const created = await insertAuditedAccount(
          trx,
          {
            kind: plan.kind,
            staffRole: plan.staffRole,
            institutionId: plan.institutionId,
            enterpriseId: plan.enterpriseId,
            expertId: plan.expertId,
            email: plan.email,
            name: plan.name,
          },
          by,
          { import: sheet.sha256 },
        );
        // Taken since the check (an account created one by one meanwhile): nothing of this import stays.
        if (!created) {
          throw new RowsRejected([{ row: plan.row, column: LABEL.email, message: `${plan.email} 已有账号` }]);
        }
        const link = await issueAccountLink(deps, trx, created, 'invitation', baseUrl);
        keys.push(link.idempotencyKey);
        accounts.push(created);
      }
      await recordAudit(trx, {
        actor: by.actor,
        role: by.role,
        action: IMPORT_AUDIT_ACTION,
        subjectKind: 'account_import',
        subjectId: sheet.sha256,
        details: {
          format: sheet.format,
          encoding: sheet.encoding,
          rows: plans.length,
          accountIds: accounts.map((a) => a.id),
        },
        requestId: by.requestId,
      });
      return { status: 'imported', sheet, accounts };
    });
  } catch (err) {
    if (err instanceof RowsRejected) return { status: 'rejected', sheet, problems: err.problems };
    throw err;
  }
  if (keys.length > 0) await deps.outbox.sendSoon(keys);
  return outcome;
}

/**
 * The import template: sheet 账号 with the headers of `IMPORT_COLUMNS` (bold, frozen), drop-down lists for the
 * account type and staff role, and sheet 填写说明 with each column's rule. An XLSX file (exceljs).
 */
export async function importTemplateXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'ronghe';
  workbook.title = '账号导入模板';
  const sheet = workbook.addWorksheet('账号', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = IMPORT_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width }));
  sheet.getRow(1).font = { bold: true };
  const letter = (key: ImportColumnKey) => String.fromCharCode(65 + IMPORT_COLUMNS.findIndex((c) => c.key === key));
  for (let row = 2; row <= IMPORT_MAX_ROWS + 1; row++) {
    sheet.getCell(`${letter('kind')}${row}`).dataValidation = {
      type: 'list',
      allowBlank: true,
      formulae: [`"${KIND_VALUES_ZH.join(',')}"`],
    };
    sheet.getCell(`${letter('staffRole')}${row}`).dataValidation = {
      type: 'list',
      allowBlank: true,
      formulae: [`"${ROLE_VALUES_ZH.join(',')}"`],
    };
  }
  const help = workbook.addWorksheet('填写说明');
  help.columns = [
    { header: '列', key: 'header', width: 12 },
    { header: '是否必需的列', key: 'required', width: 14 },
    { header: '填写要求', key: 'help', width: 90 },
  ];
  help.getRow(1).font = { bold: true };
  for (const c of IMPORT_COLUMNS) help.addRow({ header: c.header, required: c.required ? '是' : '否', help: c.help });
  help.addRow({});
  help.addRow({
    header: '说明',
    help: `第 1 行为表头，自第 2 行起每行一个账号，每个文件至多 ${IMPORT_MAX_ROWS} 行；CSV 请另存为“CSV UTF-8（逗号分隔）”。`,
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
