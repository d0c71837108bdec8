import type { Db } from '../knex.js';
import { inChunks } from '../chunks.js';

/** An application still listed in one of the round's publicity periods, with its institution's contact. */
export interface ListedApplication {
  id: string;
  institution_id: string;
  title_zh: string;
  field_key: string | null;
  name_zh: string;
  contact_email: string;
}

/** A round's title and status, read inside the approval's transaction. */
export function roundHeading(trx: Db, roundId: string) {
  return trx('rounds').where({ id: roundId }).first<{ title_zh: string; status: string }>('title_zh', 'status');
}

/** Every application still listed (not removed on objection) in any publicity period of the round. */
export function listedApplications(trx: Db, roundId: string): Promise<ListedApplication[]> {
  return trx('publicity_entries as e')
    .join('publicity_periods as p', 'p.id', 'e.publicity_id')
    .joinRaw('join applications a on a.id::text = e.item_id')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .where({ 'p.subject_kind': 'round', 'p.subject_id': roundId, 'e.status': 'listed' })
    .select<ListedApplication[]>(
      'a.id',
      'a.institution_id',
      'a.title_zh',
      'a.field_key',
      'i.name_zh',
      'i.contact_email',
    );
}

/**
 * Admits approved applications to a directory programme as active entries from `today`; an application
 * admitted already (an earlier attempt) is skipped. Returns how many were added now.
 */
export async function admitToDirectory(
  trx: Db,
  programme: string,
  listed: ListedApplication[],
  today: string,
): Promise<number> {
  // In chunks: one statement for a national list would pass PostgreSQL's bind parameters (see `inChunks`).
  const added = await inChunks(listed, (chunk) =>
    trx('directory_entries')
      .insert(
        chunk.map((l) => ({
          programme,
          institution_id: l.institution_id,
          application_id: l.id,
          title_zh: l.title_zh,
          field_key: l.field_key,
          status: 'active',
          admitted_on: today,
        })),
      )
      .onConflict('application_id')
      .ignore()
      .returning('id'),
  );
  // Rows already in the directory (a retried 认定) are not returned: only those added count.
  return added.reduce((n, rows) => n + rows.length, 0);
}

/** Marks the round approved (认定) at `at`. */
export async function markRoundApproved(trx: Db, roundId: string, at: Date): Promise<void> {
  await trx('rounds').where({ id: roundId }).update({ status: 'approved', approved_at: at });
}

/** The directory entries made from these applications, in id order. */
export function directoryEntriesOf(db: Db, applicationIds: string[]) {
  return db('directory_entries')
    .whereIn('application_id', applicationIds)
    .orderBy('id')
    .select<{ id: string; institution_id: string }[]>('id', 'institution_id');
}

/**
 * The best-ranked application below the cut line that may still be substituted in (递补): not shortlisted,
 * not excluded by staff at confirmation (no adjustment reason), not under-reviewed. Undefined when the round
 * has no review or no candidate is left.
 */
export async function nextSubstituteCandidate(
  trx: Db,
  roundId: string,
): Promise<{ id: string; rank: number } | undefined> {
  const review = await trx('reviews')
    .where({ subject_kind: 'round', subject_id: roundId })
    .first<{ id: string } | undefined>('id');
  if (!review) return undefined;
  return trx('review_results as rr')
    .joinRaw('join applications a on a.id::text = rr.item_id')
    .where('rr.review_id', review.id)
    .where('a.status', 'not_shortlisted')
    .whereNull('rr.adjustment_reason')
    .whereNot((q) => void q.whereRaw("'under_reviewed' = any(rr.flags)"))
    .orderBy('rr.rank')
    .first<{ id: string; rank: number } | undefined>('a.id', 'rr.rank');
}
