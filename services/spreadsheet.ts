import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import ExcelJS from 'exceljs';
import type { SheetColumn, SheetRow, SheetShape } from '../domain/sheets.js';
import { declaredCharsetOf, repeatedCharsetZh } from '../platform/media-type.js';

export type { SheetColumn, SheetRow, SheetShape };

/**
 * Lists imported from and exported to spreadsheets (accounts, issue 15; reference data, issue 16): an XLSX
 * workbook (its first sheet) or a CSV file whose first row holds zh-CN headers, read into rows of text cells by
 * column key; and a list written back as an XLSX workbook with the same headers.
 */

/** The most data rows one file may hold (blank rows not counted): larger lists are imported in several files. */
export const IMPORT_MAX_ROWS = 500;
/** The largest file accepted (bytes): 2 MiB, far above 500 rows in either format. */
export const IMPORT_MAX_BYTES = 2 * 1024 * 1024;

/** The media types an import is uploaded as (`application/octet-stream` also: the bytes tell). */
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const CSV_CONTENT_TYPE = 'text/csv';

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

/** A file read: its format, the text encoding a CSV was read in, its SHA-256 (hex) and its data rows. */
export interface Sheet<K extends string> {
  format: 'xlsx' | 'csv';
  /** `utf-8` (with or without BOM) or `gbk` (GB18030: what Excel in China saves as "CSV (逗号分隔)"); xlsx: null. */
  encoding: 'utf-8' | 'gbk' | null;
  sha256: string;
  rows: SheetRow<K>[];
  /** The columns the file has (its headers' keys): a column it lacks is not a blank one. */
  columns: K[];
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

/** The refusal of a file that is not a sheet at all: what it is, if known, and to save the list as .xlsx. */
function notASheet(kind?: string): ImportFileRejected {
  return new ImportFileRejected(
    'media_type',
    `上传的${kind ? `是 ${kind}` : '文件不是 XLSX 工作簿或 CSV 文本'}，不是可导入的表格：请用导入模板填写，或在 Excel 中“另存为”.xlsx（或“CSV UTF-8（逗号分隔）”）后上传`,
  );
}

/**
 * Decodes a CSV file: UTF-8 (a BOM is dropped), or, when the bytes are not UTF-8 and no other charset was
 * declared, GBK/GB18030 (WHATWG's `gbk` decoder), strictly both times.
 *
 * @throws ImportFileRejected (`media_type`) when the text is in neither, or holds NUL bytes (a binary file).
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

/** The workbook's first sheet, and the file's format and text encoding. */
async function loadWorksheet(
  bytes: Buffer,
  contentType: string,
): Promise<{
  workbook: ExcelJS.Workbook;
  worksheet: ExcelJS.Worksheet | undefined;
  format: Sheet<string>['format'];
  encoding: Sheet<string>['encoding'];
}> {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  // Which of two charsets the sender meant cannot be known: refused, never the first taken silently.
  const declared = declaredCharsetOf(contentType);
  if ('repeated' in declared) throw new ImportFileRejected('media_type', repeatedCharsetZh(declared.repeated));
  const { charset } = declared;
  const looksZip = bytes.subarray(0, 4).equals(ZIP_MAGIC);
  if (bytes.subarray(0, 4).equals(OLE_MAGIC)) {
    throw new ImportFileRejected(
      'media_type',
      '不支持旧版 Excel 文件（.xls）：请另存为 .xlsx 或“CSV UTF-8（逗号分隔）”后上传',
    );
  }
  const known = BINARY_SIGNATURES.find((b) => bytes.subarray(0, b.magic.length).equals(b.magic));
  if (known) throw notASheet(known.kind);
  const workbook = new ExcelJS.Workbook();
  if (mediaType === XLSX_CONTENT_TYPE || (mediaType === 'application/octet-stream' && looksZip)) {
    if (!looksZip) throw new ImportFileRejected('media_type', '上传的文件不是有效的 XLSX 工作簿，请使用导入模板');
    try {
      await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch {
      throw new ImportFileRejected('media_type', '上传的文件不是有效的 XLSX 工作簿，请使用导入模板');
    }
    return { workbook, worksheet: workbook.worksheets[0], format: 'xlsx', encoding: null };
  }
  if (mediaType === CSV_CONTENT_TYPE || mediaType === 'application/octet-stream') {
    if (looksZip) throw new ImportFileRejected('media_type', '上传的文件是 XLSX 工作簿，请以 XLSX 的内容类型上传');
    const decoded = decodeCsv(bytes, charset);
    try {
      // Every value stays text (`map`): exceljs would otherwise read numbers and dates into other types.
      const worksheet = await workbook.csv.read(Readable.from([decoded.text]), { map: (v: unknown) => v });
      return { workbook, worksheet, format: 'csv', encoding: decoded.encoding };
    } catch {
      throw new ImportFileRejected('sheet', 'CSV 文件无法解析（如引号不成对），请用导入模板重新填写');
    }
  }
  throw new ImportFileRejected(
    'media_type',
    `导入文件应为 XLSX 工作簿（${XLSX_CONTENT_TYPE}）或 CSV 文件（${CSV_CONTENT_TYPE}）`,
  );
}

/**
 * Reads an import file of `shape`: `contentType` is the request's Content-Type (`text/csv`, the XLSX type, or
 * `application/octet-stream` to let the bytes tell); an XLSX file is recognised by its ZIP signature. Headers are
 * matched exactly (surrounding spaces ignored).
 *
 * @throws ImportFileRejected `media_type` for a file that is neither (an old .xls included) or a CSV in an
 *   encoding not read; `sheet` for an empty sheet, unknown or repeated headers, a missing required column, or
 *   more than `IMPORT_MAX_ROWS` rows; `too_large` above `IMPORT_MAX_BYTES`.
 */
export async function readSheetFile<K extends string>(
  bytes: Buffer,
  contentType: string,
  shape: SheetShape<K>,
): Promise<Sheet<K>> {
  if (bytes.length > IMPORT_MAX_BYTES) {
    throw new ImportFileRejected('too_large', `导入文件不得超过 ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  }
  const { worksheet, format, encoding } = await loadWorksheet(bytes, contentType);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { format, encoding, sha256, ...rowsOfWorksheet(worksheet, shape) };
}

/**
 * The data rows of one worksheet of `shape`, and the columns it has: the header row is the first row with content, headers matched
 * exactly (surrounding spaces ignored); rows with no content skipped.
 *
 * @throws ImportFileRejected `sheet` for an empty sheet, unknown or repeated headers, a missing required column,
 *   no rows, or more than `IMPORT_MAX_ROWS` rows; `where` (e.g. 工作表“评审专家库”) opens each message.
 */
function rowsOfWorksheet<K extends string>(
  worksheet: ExcelJS.Worksheet | undefined,
  shape: SheetShape<K>,
  where = '导入文件',
): { rows: SheetRow<K>[]; columns: K[] } {
  const { noun } = shape;
  if (!worksheet || worksheet.actualRowCount === 0) {
    throw new ImportFileRejected('sheet', `${where}中没有内容：请在模板第 1 行表头下逐行填写${noun}`);
  }

  // The header row: the first row with any content.
  let headerRow = 0;
  worksheet.eachRow((row, n) => {
    if (headerRow === 0 && row.values && (row.values as unknown[]).some((v) => v !== null && v !== undefined)) {
      headerRow = n;
    }
  });
  const byHeader = new Map(shape.columns.map((c) => [c.header, c]));
  const columns = new Map<number, K>();
  const unknown: string[] = [];
  const repeated: string[] = [];
  worksheet.getRow(headerRow).eachCell((cell, col) => {
    const header = cellText(cell);
    if (header === '') return;
    const column = byHeader.get(header);
    if (!column) unknown.push(header);
    else if ([...columns.values()].includes(column.key)) repeated.push(header);
    else columns.set(col, column.key);
  });
  const problems: string[] = [];
  if (unknown.length > 0) problems.push(`无法识别的表头：${unknown.map((h) => `“${h}”`).join('、')}`);
  if (repeated.length > 0) problems.push(`表头重复：${repeated.map((h) => `“${h}”`).join('、')}`);
  const missing = shape.columns.filter((c) => c.required && ![...columns.values()].includes(c.key));
  if (missing.length > 0) problems.push(`缺少必需的列：${missing.map((c) => `“${c.header}”`).join('、')}`);
  if (problems.length > 0) {
    throw new ImportFileRejected(
      'sheet',
      `${where === '导入文件' ? '' : where}第 ${headerRow} 行表头不符合导入模板（${problems.join('；')}）。表头应为：${shape.columns.map((c) => c.header).join('、')}`,
    );
  }

  const rows: SheetRow<K>[] = [];
  worksheet.eachRow((row, n) => {
    if (n <= headerRow) return;
    const cells: SheetRow<K>['cells'] = {};
    for (const [col, key] of columns) {
      const text = cellText(row.getCell(col));
      if (text !== '') cells[key] = text;
    }
    if (Object.keys(cells).length > 0) rows.push({ row: n, cells });
  });
  if (rows.length === 0) {
    throw new ImportFileRejected('sheet', `${where}只有表头，没有${noun}：请在表头下逐行填写`);
  }
  if (rows.length > IMPORT_MAX_ROWS) {
    throw new ImportFileRejected(
      'sheet',
      `${where}有 ${rows.length} 行${noun}，每个文件至多 ${IMPORT_MAX_ROWS} 行：请拆分为多个文件分别导入`,
    );
  }
  return { rows, columns: [...columns.values()] };
}

/** Adds worksheet `name`: the headers of `shape` (bold, frozen) and `rows` under them, every value as text. */
function addListSheet<K extends string>(
  workbook: ExcelJS.Workbook,
  name: string,
  shape: SheetShape<K>,
  rows: readonly Partial<Record<K, string>>[],
): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = shape.columns.map((c) => ({ header: c.header, key: c.key, width: c.width, style: { numFmt: '@' } }));
  sheet.getRow(1).font = { bold: true };
  for (const row of rows) sheet.addRow(row);
  return sheet;
}

/**
 * Reads a workbook of several lists (reference data, issue 16): each worksheet named as a key of `shapes` is read
 * as that list (`rowsOfWorksheet`); other worksheets (填写说明) are ignored. XLSX only: a CSV holds one list.
 *
 * @throws ImportFileRejected as `readSheetFile`; `media_type` for a CSV; `sheet` when no worksheet bears a
 *   list's name, or a named one is not in the list's shape.
 */
export async function readWorkbookFile(
  bytes: Buffer,
  contentType: string,
  shapes: ReadonlyMap<string, SheetShape<string>>,
): Promise<{ sha256: string; sheets: Map<string, { rows: SheetRow<string>[]; columns: string[] }> }> {
  if (bytes.length > IMPORT_MAX_BYTES) {
    throw new ImportFileRejected('too_large', `导入文件不得超过 ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  }
  const { workbook, format } = await loadWorksheet(bytes, contentType);
  if (format !== 'xlsx') {
    throw new ImportFileRejected('media_type', 'CSV 文件只能容纳一份名单：请上传 XLSX 工作簿，或按名单分别导入 CSV');
  }
  const sheets = new Map<string, { rows: SheetRow<string>[]; columns: string[] }>();
  for (const worksheet of workbook.worksheets) {
    const name = worksheet.name.trim();
    const shape = shapes.get(name);
    if (shape) sheets.set(name, rowsOfWorksheet(worksheet, shape, `工作表“${name}”`));
  }
  if (sheets.size === 0) {
    throw new ImportFileRejected(
      'sheet',
      `工作簿中没有可导入的工作表：工作表应命名为 ${[...shapes.keys()].map((n) => `“${n}”`).join('、')}（可只含其中几张）`,
    );
  }
  return { sha256: createHash('sha256').update(bytes).digest('hex'), sheets };
}

/**
 * A workbook of several lists, one worksheet each (named `name`, headers of its shape, bold and frozen, every value
 * as text), then 填写说明 with every list's columns and rules: what `readWorkbookFile` reads back unchanged.
 */
export async function writeWorkbookXlsx(
  lists: readonly { name: string; shape: SheetShape<string>; rows: readonly Partial<Record<string, string>>[] }[],
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'ronghe';
  for (const { name, shape, rows } of lists) addListSheet(workbook, name, shape, rows);
  const help = workbook.addWorksheet('填写说明');
  help.columns = [
    { header: '工作表', key: 'sheet', width: 14 },
    { header: '列', key: 'header', width: 18 },
    { header: '是否必需的列', key: 'required', width: 14 },
    { header: '填写要求', key: 'help', width: 90 },
  ];
  help.getRow(1).font = { bold: true };
  for (const { name, shape } of lists) {
    for (const c of shape.columns) {
      help.addRow({ sheet: name, header: c.header, required: c.required ? '是' : '否', help: c.help });
    }
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/**
 * A workbook whose first sheet `sheetName` has the headers of `columns` (bold, frozen) and `rows` under them,
 * every value written as text (a phone number keeps its leading zero); sheet 填写说明 lists each column's rule.
 * What `readSheetFile` reads back unchanged. An XLSX file (exceljs).
 */
export async function writeSheetXlsx<K extends string>(
  shape: SheetShape<K>,
  sheetName: string,
  rows: readonly Partial<Record<K, string>>[],
  prepare?: (sheet: ExcelJS.Worksheet, letter: (key: K) => string) => void,
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'ronghe';
  workbook.title = sheetName;
  const sheet = addListSheet(workbook, sheetName, shape, rows);
  prepare?.(sheet, (key) => String.fromCharCode(65 + shape.columns.findIndex((c) => c.key === key)));
  const help = workbook.addWorksheet('填写说明');
  help.columns = [
    { header: '列', key: 'header', width: 12 },
    { header: '是否必需的列', key: 'required', width: 14 },
    { header: '填写要求', key: 'help', width: 90 },
  ];
  help.getRow(1).font = { bold: true };
  for (const c of shape.columns) help.addRow({ header: c.header, required: c.required ? '是' : '否', help: c.help });
  help.addRow({});
  help.addRow({
    header: '说明',
    help: `第 1 行为表头，自第 2 行起每行一个${shape.noun}，每个文件至多 ${IMPORT_MAX_ROWS} 行；CSV 请另存为“CSV UTF-8（逗号分隔）”。`,
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
