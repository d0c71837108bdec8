import type { Db } from '../knex.js';

/** The submitted versions of an application, oldest first (each submission before the deadline adds one). */
export async function applicationVersions(
  db: Db,
  applicationId: string,
): Promise<{ version: number; revision: number; receivedAt: Date }[]> {
  const rows = await db('application_versions')
    .where({ application_id: applicationId })
    .orderBy('version')
    .select<{ version: number; revision: number; received_at: Date }[]>('version', 'revision', 'received_at');
  return rows.map((v) => ({ version: v.version, revision: v.revision, receivedAt: v.received_at }));
}

/** Rounds whose deadline may still move with the calendar: not yet past their call. */
const OPEN_ROUND_STATUSES = ['launched', 'scheduled', 'call_open'];

/** The ids of the rounds whose call is not yet over (their deadline follows a new holiday arrangement). */
export async function openRoundIds(db: Db): Promise<string[]> {
  return (await db('rounds').whereIn('status', OPEN_ROUND_STATUSES).pluck('id')) as string[];
}
