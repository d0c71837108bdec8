import ExcelJS from 'exceljs';
import type { PublishedCase } from '../db/repositories/showcase.views.js';

/** The published cases as files: one row per case, the same columns in CSV and XLSX. */
const COLUMNS: [string, (c: PublishedCase, i: number) => string | number | null][] = [
  ['序号', (_c, i) => i + 1],
  ['案例名称', (c) => c.title],
  ['推荐单位', (c) => c.institutionName],
  ['项目类别', (c) => c.programmeName],
  ['所属产业', (c) => c.industryName],
  ['专家评分', (c) => c.score],
  ['案例简介', (c) => c.summary],
];

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  // Quoted always; a leading formula character is defused for spreadsheet programs.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** CSV with a BOM (so spreadsheet programs read the Chinese correctly) and CRLF line ends. */
export function casesCsv(cases: PublishedCase[]): string {
  const lines = [COLUMNS.map(([h]) => csvCell(h)).join(',')];
  cases.forEach((c, i) => lines.push(COLUMNS.map(([, f]) => csvCell(f(c, i))).join(',')));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** An XLSX workbook with one sheet 入选案例 (bold header row), titled `title`. */
export async function casesXlsx(cases: PublishedCase[], title: string): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'ronghe';
  workbook.title = title;
  const sheet = workbook.addWorksheet('入选案例');
  sheet.addRow(COLUMNS.map(([h]) => h));
  cases.forEach((c, i) => sheet.addRow(COLUMNS.map(([, f]) => f(c, i))));
  sheet.getRow(1).font = { bold: true };
  sheet.columns.forEach((col, i) => {
    col.width = [6, 40, 30, 24, 20, 10, 60][i] ?? 20;
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
