import type { Db } from '../knex.js';
import type { PublicitySubjectKind, PublishedRow } from './publicity.subjects.js';
import { inChunks } from '../chunks.js';

/** A stored period, as `openPublicity` reports it again on a retry. */
export interface StoredPeriod {
  id: string;
  first_day: string;
  last_day: string;
  ends_at: Date;
  estimated: boolean;
  calendar_version: number;
}

/** The period a workflow opened already for this parent (none for the first period), if any. */
export function findOpenedPeriod(trx: Db, workflowId: string, parentId: string | undefined) {
  return trx('publicity_periods')
    .where({ workflow_id: workflowId, parent_id: parentId ?? null })
    .first<StoredPeriod | undefined>();
}

/** How many entries a period lists (whatever their status). */
export async function countEntries(trx: Db, publicityId: string): Promise<number> {
  const n = await trx('publicity_entries').where({ publicity_id: publicityId }).count<{ n: number }[]>('* as n');
  return Number(n[0]!.n);
}

export interface NewPeriod {
  subjectKind: PublicitySubjectKind;
  subjectId: string;
  parentId: string | undefined;
  titleZh: string;
  workingDays: number;
  /** Calendar day (YYYY-MM-DD) the list is published. */
  opensOn: string;
  firstDay: string;
  lastDay: string;
  /** 24:00 Asia/Shanghai on lastDay. */
  endsAt: Date;
  estimated: boolean;
  calendarVersion: number;
  workflowId: string;
}

/** Stores an open period; returns its id. */
export async function insertPeriod(trx: Db, p: NewPeriod): Promise<string> {
  const [row] = await trx('publicity_periods')
    .insert({
      subject_kind: p.subjectKind,
      subject_id: p.subjectId,
      parent_id: p.parentId ?? null,
      title_zh: p.titleZh,
      working_days: p.workingDays,
      opens_on: p.opensOn,
      first_day: p.firstDay,
      last_day: p.lastDay,
      ends_at: p.endsAt,
      estimated: p.estimated,
      calendar_version: p.calendarVersion,
      status: 'open',
      workflow_id: p.workflowId,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/** Lists the published rows in a period, each 'listed'. */
export async function insertEntries(trx: Db, publicityId: string, rows: PublishedRow[]): Promise<void> {
  // In chunks: one statement for a national list would pass PostgreSQL's bind parameters (see `inChunks`).
  await inChunks(rows, (chunk) =>
    trx('publicity_entries').insert(
      chunk.map((a) => ({
        publicity_id: publicityId,
        item_kind: a.item_kind,
        item_id: a.item_id,
        institution_id: a.institution_id,
        title_zh: a.title_zh,
        rank: a.rank,
        result_zh: a.result_zh,
        status: 'listed',
      })),
    ),
  );
}

/** Closes an open period at `at`; false when it was closed already. */
export async function closePeriod(trx: Db, publicityId: string, at: Date): Promise<boolean> {
  const n = await trx('publicity_periods')
    .where({ id: publicityId, status: 'open' })
    .update({ status: 'closed', closed_at: at });
  return n > 0;
}

/** A period's title and end, for the staff's reminder of pending objections. */
export function periodHeading(db: Db, publicityId: string) {
  return db('publicity_periods')
    .where({ id: publicityId })
    .first<{ title_zh: string; ends_at: Date }>('title_zh', 'ends_at');
}
