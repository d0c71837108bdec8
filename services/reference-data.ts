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

/** Thrown inside the import's transaction to roll a dry run (or a file with problems) back. */
class RollBack extends Error {}

/**
 * Imports the worksheets of a reference workbook (`sheets`: rows by worksheet name) in `WORKBOOK_LISTS` order, in
 * ONE transaction: each list as `applyReferenceRows` (mode upsert, a column the worksheet lacks kept as stored) would, so a later worksheet is checked against
 * what the earlier ones write (an expert may work at a college created on the first worksheet; the sound rows of a
 * worksheet with problems count too, so each problem is reported once, where it is). Any problem in any
 * worksheet rolls everything back; a dry run is rolled back always, so its report is exactly what the real import
 * would do. Versions and audit rows as for each list's import (`by.source` import, the file's SHA-256).
 */
export async function importReferenceWorkbook(
  db: Db,
  sheets: ReadonlyMap<string, { rows: readonly SheetRow<string>[]; columns: readonly string[] }>,
  by: ReferenceActor,
  {
    dryRun,
    inCallersTransaction = false,
  }: {
    dryRun: boolean;
    /**
     * `db` is the caller's transaction and the caller rolls it back when the outcome is not valid: the sound rows
     * of a file with problems are then left written for the caller to read (回避 on open assignments) first.
     */
    inCallersTransaction?: boolean;
  },
): Promise<WorkbookOutcome> {
  let outcome: WorkbookOutcome | undefined;
  try {
    await db.transaction(async (trx) => {
      const reports: WorkbookSheetReport[] = [];
      const problems: WorkbookOutcome['problems'] = [];
      for (const name of WORKBOOK_LISTS) {
        const list = REFERENCE_LISTS[name];
        const sheet = sheets.get(list.titleZh);
        if (!sheet) continue;
        const { rows, columns } = sheet;
        const applied = await applyReferenceRows(trx, list, rows, by, { dryRun: false, mode: 'upsert', columns });
        const plans = applied.status === 'missing' ? [] : applied.plans;
        reports.push({ list: name, sheet: list.titleZh, rowCount: rows.length, plans });
        if (applied.status === 'rejected') {
          problems.push(...applied.problems.map((p) => ({ ...p, sheet: list.titleZh })));
          // The sound rows are written all the same (all is rolled back below), so that the next worksheets are
          // checked against what the file holds: an expert at a college of a sheet with another bad row is sound.
          const sound = new Set(applied.plans.map((p) => p.row));
          const soundRows = rows.filter((r) => sound.has(r.row));
          await applyReferenceRows(trx, list, soundRows, by, { dryRun: false, mode: 'upsert', columns });
        }
      }
      outcome = { valid: problems.length === 0, sheets: reports, problems };
      if (dryRun || (problems.length > 0 && !inCallersTransaction)) throw new RollBack();
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  return outcome!;
}
