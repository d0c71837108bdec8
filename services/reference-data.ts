import type { Db } from '../db/knex.js';
import { loadContext, type ReferenceList } from '../db/repositories/reference-rows.js';
import { writeSheetXlsx } from './spreadsheet.js';

/**
 * Reference data out to Excel (issue 16, point 3): each list exported in its import's shape
 * (db/repositories/reference-lists.ts), so importing the export back changes nothing.
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
