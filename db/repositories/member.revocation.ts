import type { Db } from '../knex.js';

/** What a revocation needs to know of the member, read under a row lock. */
export interface RevocableMember {
  status: string;
  programme: string;
  programmeName: string;
  institutionId: string;
  institutionName: string;
  contactEmail: string;
  title: string;
  /** The programme's ban period in years, when its rules set one. */
  banYears: number | undefined;
}

/**
 * Reads the member and its programme, locking the entry's row (`FOR UPDATE OF d`) until the transaction ends;
 * undefined when there is no such entry. Call inside the revocation's transaction.
 */
export async function lockMemberForRevocation(trx: Db, entryId: string): Promise<RevocableMember | undefined> {
  const row = await trx('directory_entries as d')
    .join('programmes as p', 'p.key', 'd.programme')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .where('d.id', entryId)
    .forUpdate('d')
    .first<
      | {
          status: string;
          programme: string;
          institution_id: string;
          title_zh: string;
          name_zh: string;
          contact_email: string;
          programme_name: string;
          rules: { directory?: { banYears: number } };
        }
      | undefined
    >(
      'd.status',
      'd.programme',
      'd.institution_id',
      'd.title_zh',
      'i.name_zh',
      'i.contact_email',
      'p.name_zh as programme_name',
      'p.rules',
    );
  if (!row) return undefined;
  return {
    status: row.status,
    programme: row.programme,
    programmeName: row.programme_name,
    institutionId: row.institution_id,
    institutionName: row.name_zh,
    contactEmail: row.contact_email,
    title: row.title_zh,
    banYears: row.rules.directory?.banYears,
  };
}

/** The entry leaves the directory as revoked on `today` (`YYYY-MM-DD`), with the reason. */
export async function markMemberRevoked(trx: Db, entryId: string, reason: string, today: string): Promise<void> {
  await trx('directory_entries').where({ id: entryId }).update({
    status: 'revoked',
    status_reason: reason,
    status_changed_at: trx.fn.now(),
    removed_on: today,
  });
}

/**
 * Bars the institution from the programme from `startsOn` to `endsOn` (days, inclusive): submissions and the
 * formal check of later rounds refuse it.
 */
export async function insertBan(
  trx: Db,
  ban: {
    institutionId: string;
    programme: string;
    entryId: string;
    reason: string;
    startsOn: string;
    endsOn: string;
    decidedBy: string;
  },
): Promise<void> {
  await trx('bans').insert({
    institution_id: ban.institutionId,
    programme: ban.programme,
    directory_entry_id: ban.entryId,
    reason: ban.reason,
    starts_on: ban.startsOn,
    ends_on: ban.endsOn,
    decided_by: ban.decidedBy,
  });
}
