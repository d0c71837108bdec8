import type { Db } from '../knex.js';
import type { ApplicationDraft } from '../../domain/applications.js';

/** A submitted application awaiting the formal check, with its institution. */
export interface SubmittedApplication {
  id: string;
  institution_id: string;
  current_version: number;
  received_at: Date;
  kind: string;
  parent_id: string | null;
  name_zh: string;
  contact_email: string;
}

/** The next `limit` applications of the round awaiting the formal check, oldest receipt first. */
export function awaitingFormalCheck(db: Db, roundId: string, limit: number): Promise<SubmittedApplication[]> {
  return db('applications as a')
    .join('institutions as i', 'i.id', 'a.institution_id')
    .where({ 'a.round_id': roundId, 'a.status': 'submitted' })
    .orderBy([{ column: 'a.received_at' }, { column: 'a.id' }])
    .limit(limit)
    .select<SubmittedApplication[]>(
      'a.id',
      'a.institution_id',
      'a.current_version',
      'a.received_at',
      'i.kind',
      'i.parent_id',
      'i.name_zh',
      'i.contact_email',
    );
}

/** What a submitted version holds: the draft and the attachments as they were at submission. */
export interface SubmittedPayload {
  draft: ApplicationDraft;
  attachments: { kind: string; storageKey?: string; sha256: string; id: string }[];
}

export async function submittedPayload(db: Db, applicationId: string, version: number): Promise<SubmittedPayload> {
  const row = await db('application_versions')
    .where({ application_id: applicationId, version })
    .first<{ payload: SubmittedPayload }>('payload');
  return row.payload;
}

/** Where an attachment's bytes are stored; undefined when the attachment row is gone. */
export async function attachmentStorageKey(db: Db, attachmentId: string): Promise<string | undefined> {
  const stored = await db('attachments')
    .where({ id: attachmentId })
    .first<{ storage_key: string } | undefined>('storage_key');
  return stored?.storage_key;
}

/** The people named in an application, with their role ('principal' | 'member') and name. */
export function applicationMembers(db: Db, applicationId: string) {
  return db('application_members as m')
    .join('people as p', 'p.id', 'm.person_id')
    .where('m.application_id', applicationId)
    .select<{ person_id: string; role: string; name_zh: string }[]>('m.person_id', 'm.role', 'p.name_zh');
}

/** Stores the formal check's result of a still-submitted application: passed, or failed with the reasons. */
export async function recordFormalResult(trx: Db, applicationId: string, reasons: string[]): Promise<void> {
  const ok = reasons.length === 0;
  await trx('applications')
    .where({ id: applicationId, status: 'submitted' })
    .update({
      status: ok ? 'formal_passed' : 'formal_failed',
      formal_check_reason: ok ? null : reasons.join('；'),
      formal_checked_at: trx.fn.now(),
      updated_at: trx.fn.now(),
    });
}
