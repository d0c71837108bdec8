/**
 * Rows per multi-row INSERT. PostgreSQL takes at most 65,535 bind parameters a statement, so one INSERT of a
 * national list (10,000 rows × 7–11 columns) is refused; 1,000 rows keep every table's statement below it.
 */
export const INSERT_CHUNK_ROWS = 1000;

/**
 * Runs `each` over `rows` in order, `INSERT_CHUNK_ROWS` at a time (one statement each), and returns what each
 * call returned, in order. Nothing is called for no rows.
 */
export async function inChunks<T, R>(rows: readonly T[], each: (chunk: T[]) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
    results.push(await each(rows.slice(i, i + INSERT_CHUNK_ROWS)));
  }
  return results;
}
