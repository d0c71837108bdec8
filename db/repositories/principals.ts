import type { Db } from '../knex.js';

/** A record a signed-in principal stands for: an applicant's institution (university or college), or an expert. */
export type PrincipalRecord = { kind: 'institution'; id: string } | { kind: 'expert'; id: string };

/** Whether the institution or expert a token names exists (one indexed lookup by primary key). */
export async function principalRecordExists(db: Db, record: PrincipalRecord): Promise<boolean> {
  const table = record.kind === 'institution' ? 'institutions' : 'experts';
  const row: unknown = await db(table).where({ id: record.id }).first('id');
  return row !== undefined;
}
