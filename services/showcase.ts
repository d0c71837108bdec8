import ExcelJS from 'exceljs';
import type { Db } from '../db/knex.js';

/** A selected case as the public sees it (page, JSON, CSV, XLSX all come from this one list). */
export interface PublishedCase {
  caseId: string;
  title: string;
  summary: string;
  institutionName: string;
  programme: string;
  programmeName: string;
  industry: string | null;
  industryName: string | null;
  score: number | null;
  rank: number | null;
}

/** The selected cases of a showcase, best first; `q` filters on title, summary, institution, programme and industry. */
export async function selectedCases(db: Db, showcaseId: string, q?: string): Promise<PublishedCase[]> {
  const rows = await db('showcase_cases as c')
    .join('institutions as i', 'i.id', 'c.institution_id')
    .join('programmes as p', 'p.key', 'c.programme')
    .leftJoin('industries as n', 'n.key', 'c.industry_key')
    .where({ 'c.showcase_id': showcaseId, 'c.status': 'selected' })
    .modify((query) => {
      const term = q?.trim();
      if (term) {
        const like = `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
        void query.where((w) => {
          for (const column of ['c.title_zh', 'c.summary_zh', 'i.name_zh', 'p.name_zh', 'n.name_zh'])
            void w.orWhereILike(column, like);
        });
      }
    })
    .orderBy([{ column: 'c.rank' }, { column: 'c.id' }])
    .select<
      {
        id: string;
        title_zh: string;
        summary_zh: string;
        institution: string;
        programme: string;
        programme_name: string;
        industry_key: string | null;
        industry_name: string | null;
        score: string | null;
        rank: number | null;
      }[]
    >(
      'c.id',
      'c.title_zh',
      'c.summary_zh',
      'i.name_zh as institution',
      'c.programme',
      'p.name_zh as programme_name',
      'c.industry_key',
      'n.name_zh as industry_name',
      'c.score',
      'c.rank',
    );
  return rows.map((r) => ({
    caseId: r.id,
    title: r.title_zh,
    summary: r.summary_zh,
    institutionName: r.institution,
    programme: r.programme,
    programmeName: r.programme_name,
    industry: r.industry_key,
    industryName: r.industry_name,
    score: r.score === null ? null : Number(r.score),
    rank: r.rank,
  }));
}

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
