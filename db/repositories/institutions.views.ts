import type { Db } from '../knex.js';

/** Of the given institution ids, those that exist (in no particular order). */
export async function existingInstitutionIds(db: Db, ids: readonly string[]): Promise<string[]> {
  return ids.length ? ((await db('institutions').whereIn('id', ids).pluck('id')) as string[]) : [];
}

/** Of the given enterprise ids, those that exist (in no particular order). */
export async function existingEnterpriseIds(db: Db, ids: readonly string[]): Promise<string[]> {
  return ids.length ? ((await db('enterprises').whereIn('id', ids).pluck('id')) as string[]) : [];
}
