import type { Db } from '../db/knex.js';
import { applyReferenceRows, REFERENCE_LISTS, type ReferenceActor } from '../db/repositories/reference-lists.js';
import {
  loadContext,
  type ReferenceList,
  type ReferenceListName,
  type RowPlan,
  type RowProblem,
} from '../db/repositories/reference-rows.js';
import type { SheetRow } from '../domain/sheets.js';
import { writeSheetXlsx, writeWorkbookXlsx } from './spreadsheet.js';

/**
 * Reference data out to Excel and back (issue 16, point 3): each list exported in its import's shape
 * (db/repositories/reference-lists.ts), so importing the export back changes nothing; and the whole reference
 * data as one workbook, a worksheet per list, imported in one transaction.
 */

/** Every stored row of `list` as the sheet's cells, in the export's order. */
export async function referenceCells(db: Db, list: ReferenceList): Promise<Partial<Record<string, string>>[]> {
  const context = await loadContext(db);
  return (await list.load(db)).map((r) => list.cellsOf(r, context));
}

/** The export of `list`: an XLSX workbook in the import's shape, so importing it back changes nothing. */
export async function exportReferenceXlsx(db: Db, list: ReferenceList): Promise<Buffer> {
  return writeSheetXlsx(list.shape, list.titleZh, await referenceCells(db, list));
}

/**
 * The lists of the reference workbook, in the order they are applied: units before the partnerships between them
 * and the experts they employ. Each list's worksheet is named by its `titleZh` (高校与学院, 合作企业, 校企合作关系,
 * 评审专家库).
 */
export const WORKBOOK_LISTS: readonly ReferenceListName[] = ['institutions', 'enterprises', 'partnerships', 'experts'];

/** The worksheets the reference workbook may hold: each list's shape by its worksheet's name. */
export const WORKBOOK_SHAPES: ReadonlyMap<string, ReferenceList['shape']> = new Map(
  WORKBOOK_LISTS.map((name) => [REFERENCE_LISTS[name].titleZh, REFERENCE_LISTS[name].shape]),
);

/** All reference data as one XLSX workbook (a worksheet per list, then 填写说明): importing it back changes nothing. */
export async function exportReferenceWorkbook(db: Db): Promise<Buffer> {
  const lists = [];
  for (const name of WORKBOOK_LISTS) {
    const list = REFERENCE_LISTS[name];
    lists.push({ name: list.titleZh, shape: list.shape, rows: await referenceCells(db, list) });
  }
  return writeWorkbookXlsx(lists);
}

/** One worksheet of a workbook import: its list, its rows' plans and their counts. */
export interface WorkbookSheetReport {
  list: ReferenceListName;
  sheet: string;
  rowCount: number;
  plans: RowPlan[];
}

/** A workbook import's outcome: every worksheet's report and every row's problem (with its worksheet). */
export interface WorkbookOutcome {
  /** No problem in any worksheet: a real import wrote everything, a dry run would. */
  valid: boolean;
  sheets: WorkbookSheetReport[];
  problems: (RowProblem & { sheet: string })[];
}

/**
 * Imports the worksheets of a reference workbook (`sheets`: rows and columns by worksheet name) in
 * `WORKBOOK_LISTS` order inside `trx`, the caller's transaction: each list as `applyReferenceRows` (mode upsert, a
 * column the worksheet lacks kept as stored) would, so a later worksheet is checked against what the earlier ones
 * write (an expert may work at a college created on the first worksheet). A worksheet with problems writes its
 * sound rows all the same, so each problem is reported once, where it is: the caller MUST roll `trx` back unless
 * the outcome is `valid` (and for a dry run). Versions and audit rows as for each list's import (`by.source`
 * import, the file's SHA-256).
 */
export async function importReferenceWorkbook(
  trx: Db,
  sheets: ReadonlyMap<string, { rows: readonly SheetRow<string>[]; columns: readonly string[] }>,
  by: ReferenceActor,
): Promise<WorkbookOutcome> {
  const reports: WorkbookSheetReport[] = [];
  const problems: WorkbookOutcome['problems'] = [];
  for (const name of WORKBOOK_LISTS) {
    const list = REFERENCE_LISTS[name];
    const sheet = sheets.get(list.titleZh);
    if (!sheet) continue;
    const { rows, columns } = sheet;
    const applied = await applyReferenceRows(trx, list, rows, by, {
      dryRun: false,
      mode: 'upsert',
      columns,
      writeSoundRows: true,
    });
    const plans = applied.status === 'missing' ? [] : applied.plans;
    reports.push({ list: name, sheet: list.titleZh, rowCount: rows.length, plans });
    if (applied.status === 'rejected') problems.push(...applied.problems.map((p) => ({ ...p, sheet: list.titleZh })));
  }
  return { valid: problems.length === 0, sheets: reports, problems };
}
