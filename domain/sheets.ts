/**
 * The shape of a list kept in a spreadsheet (accounts, issue 15; reference data, issue 16): its columns with
 * their zh-CN headers, and a data row as read (text cells by column key). Read and written by
 * services/spreadsheet.ts; checked by each list's own rules.
 */

/** One column of a sheet: the key the code reads it under, its zh-CN header, whether the sheet must have it. */
export interface SheetColumn<K extends string> {
  key: K;
  header: string;
  required: boolean;
  /** What to write, for the template's instructions and the README. */
  help: string;
  /** Width in the template or export (characters). */
  width: number;
}

/** What a sheet lists: its columns, and the zh-CN noun of one row (账号, 单位…) for its messages. */
export interface SheetShape<K extends string> {
  columns: readonly SheetColumn<K>[];
  noun: string;
}

/** One data row as read: its row number in the sheet (the header is row 1) and its cells by column, trimmed. */
export interface SheetRow<K extends string> {
  row: number;
  cells: Partial<Record<K, string>>;
}
