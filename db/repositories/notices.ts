import type { Db } from '../knex.js';

/** An institution as a notice addresses it: its name and its contact's mailbox. */
export interface NoticeAddressee {
  id: string;
  name_zh: string;
  contact_email: string;
}

/** What a submission's receipt (受理回执) prints: the application, its institution and the round's deadline. */
export interface SubmissionReceiptFacts {
  title_zh: string;
  name_zh: string;
  contact_email: string;
  round_title_zh: string;
  deadline_at: Date;
  deadline_estimated: boolean | null;
}

/** The facts of an application's receipt, read in the transaction that accepted it; undefined for an unknown id. */
export function submissionReceiptFacts(trx: Db, applicationId: string): Promise<SubmissionReceiptFacts | undefined> {
  return trx('applications as a')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .join('rounds as r', 'r.id', 'a.round_id')
    .where('a.id', applicationId)
    .first<SubmissionReceiptFacts | undefined>(
      'a.title_zh',
      'i.name_zh',
      'i.contact_email',
      'r.title_zh as round_title_zh',
      'r.deadline_at',
      'r.deadline_estimated',
    );
}

/** The addressees of the institutions `ids` (unknown ids are left out), by id. */
export async function noticeAddressees(trx: Db, ids: string[]): Promise<Map<string, NoticeAddressee>> {
  const rows =
    ids.length === 0
      ? []
      : await trx('institutions')
          .whereIn('id', [...new Set(ids)])
          .select<NoticeAddressee[]>('id', 'name_zh', 'contact_email');
  return new Map(rows.map((r) => [r.id, r]));
}

/** A round's reviewed application that is not on the final list, with its institution's contact. */
export interface NotShortlistedApplication extends NoticeAddressee {
  application_id: string;
  title_zh: string;
}

/** The round's applications left `not_shortlisted` (neither shortlisted nor substituted in), in id order. */
export function notShortlistedApplications(trx: Db, roundId: string): Promise<NotShortlistedApplication[]> {
  return trx('applications as a')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .where({ 'a.round_id': roundId, 'a.status': 'not_shortlisted' })
    .orderBy('a.id')
    .select<NotShortlistedApplication[]>(
      'a.id as application_id',
      'a.title_zh',
      'i.id',
      'i.name_zh',
      'i.contact_email',
    );
}

/** The item ids a publicity period lists (whatever became of them since), for the keys of its notices. */
export async function publicityItemIds(db: Db, publicityId: string): Promise<string[]> {
  const rows = await db('publicity_entries')
    .where({ publicity_id: publicityId })
    .select<{ item_id: string }[]>('item_id');
  return rows.map((r) => r.item_id);
}
