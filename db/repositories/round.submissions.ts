import type { Knex } from 'knex';
import type { Db } from '../knex.js';
import { draftAvoidList } from './review.avoidance.js';

/**
 * Serialises submissions per university and round (a transaction-scoped advisory lock): the limits count
 * the university's colleges together, and two concurrent submissions must not both take the last place.
 */
export async function lockUniversity(trx: Knex.Transaction, roundId: string, universityId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?), hashtext(?))', [roundId, universityId]);
}

/** A submission as it is stored: the new version's snapshot and who the application names. */
export interface SubmittedVersion {
  applicationId: string;
  version: number;
  revision: number;
  /** The draft and the attachments' metadata, as JSON. */
  payload: unknown;
  /** ISO receipt time. */
  receivedAt: string;
  submittedBy: string;
  /** The people named, by `people` id, with their role. */
  people: Map<string, { role: 'principal' | 'member' }>;
  principalPersonId: string | null;
  partnerEnterpriseIds: string[];
}

/**
 * Stores a submitted version: the snapshot, with the experts its avoid list resolved to (`draftAvoidList`: the
 * working draft's, which the snapshot is — the caller holds the application row locked since it read the
 * draft), the members and partners it names (replacing the previous version's), and the application's status
 * 'submitted' with its receipt time. Assignment avoids the experts kept with the version, whatever the working
 * draft says later (`reviewItems`).
 */
export async function storeSubmission(trx: Knex.Transaction, s: SubmittedVersion): Promise<void> {
  await trx('application_versions').insert({
    application_id: s.applicationId,
    version: s.version,
    revision: s.revision,
    payload: JSON.stringify(s.payload),
    received_at: s.receivedAt,
    submitted_by: s.submittedBy,
    avoid_expert_ids: await draftAvoidList(trx, s.applicationId),
  });
  await trx('application_members').where({ application_id: s.applicationId }).delete();
  if (s.people.size > 0) {
    await trx('application_members').insert(
      [...s.people].map(([personId, p]) => ({ application_id: s.applicationId, person_id: personId, role: p.role })),
    );
  }
  await trx('application_partners').where({ application_id: s.applicationId }).delete();
  if (s.partnerEnterpriseIds.length > 0) {
    await trx('application_partners').insert(
      s.partnerEnterpriseIds.map((e) => ({ application_id: s.applicationId, enterprise_id: e })),
    );
  }
  await trx('applications').where({ id: s.applicationId }).update({
    status: 'submitted',
    current_version: s.version,
    submitted_revision: s.revision,
    received_at: s.receivedAt,
    principal_person_id: s.principalPersonId,
    updated_at: trx.fn.now(),
  });
}

/** Marks an application withdrawn at `receivedAt` (ISO). */
export async function markWithdrawn(trx: Db, applicationId: string, receivedAt: string): Promise<void> {
  await trx('applications')
    .where({ id: applicationId })
    .update({ status: 'withdrawn', withdrawn_at: receivedAt, updated_at: trx.fn.now() });
}
