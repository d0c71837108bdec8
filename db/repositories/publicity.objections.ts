import type { Db } from '../knex.js';
import type { PublicitySubjectKind } from './publicity.subjects.js';

/** An objection filed earlier under this idempotency key, if any. */
export function findObjectionByKey(db: Db, idempotencyKey: string) {
  return db('objections')
    .where({ idempotency_key: idempotencyKey })
    .first<{ id: string; received_at: Date } | undefined>('id', 'received_at');
}

/** True when the entry is listed (in whatever status) in this period. */
export async function entryInPeriod(db: Db, publicityId: string, entryId: string): Promise<boolean> {
  const entry = await db('publicity_entries')
    .where({ id: entryId, publicity_id: publicityId })
    .first<{ id: string } | undefined>('id');
  return entry !== undefined;
}

export interface NewObjection {
  publicityId: string;
  entryId?: string | undefined;
  name: string;
  unit: string;
  phone: string;
  email: string;
  onBehalfOfUnit: boolean;
  facts: string;
  evidence: string[];
  grounds?: 'substantive' | 'procedural' | undefined;
  /** ISO receipt time. */
  receivedAt: string;
  idempotencyKey?: string | undefined;
  clientIp?: string | undefined;
}

/** Files a pending objection; undefined when its idempotency key was filed already (a concurrent repeat). */
export async function insertObjection(trx: Db, o: NewObjection): Promise<string | undefined> {
  const [row] = await trx('objections')
    .insert({
      publicity_id: o.publicityId,
      entry_id: o.entryId ?? null,
      objector_name: o.name,
      objector_unit: o.unit,
      objector_phone: o.phone,
      objector_email: o.email,
      on_behalf_of_unit: o.onBehalfOfUnit,
      facts: o.facts,
      evidence: JSON.stringify(o.evidence),
      grounds: o.grounds ?? null,
      received_at: o.receivedAt,
      idempotency_key: o.idempotencyKey ?? null,
      client_ip: o.clientIp ?? null,
      status: 'pending',
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning<{ id: string }[]>('id');
  return row?.id;
}

/** How many of a period's objections await staff's resolution. */
export async function countPendingObjections(db: Db, publicityId: string): Promise<number> {
  const n = await db('objections')
    .where({ publicity_id: publicityId, status: 'pending' })
    .count<{ n: number }[]>('* as n');
  return Number(n[0]!.n);
}

/** An objection with the period it was filed in, as staff resolve it. */
export interface ObjectionUnderResolution {
  id: string;
  status: string;
  entry_id: string | null;
  objector_name: string;
  objector_email: string;
  publicity_id: string;
  subject_kind: PublicitySubjectKind;
  subject_id: string;
  title_zh: string;
}

/** Reads and locks (FOR UPDATE) an objection with its period's subject and title. */
export function lockObjection(trx: Db, objectionId: string) {
  return trx('objections as o')
    .join('publicity_periods as p', 'p.id', 'o.publicity_id')
    .where('o.id', objectionId)
    .forUpdate('o')
    .first<ObjectionUnderResolution | undefined>(
      'o.id',
      'o.status',
      'o.entry_id',
      'o.objector_name',
      'o.objector_email',
      'o.publicity_id',
      'p.subject_kind',
      'p.subject_id',
      'p.title_zh',
    );
}

/** Records staff's resolution of an objection (now). */
export async function markObjectionResolved(
  trx: Db,
  r: { objectionId: string; outcome: 'upheld' | 'dismissed'; reason: string; actor: string },
): Promise<void> {
  await trx('objections').where({ id: r.objectionId }).update({
    status: r.outcome,
    resolution_reason: r.reason,
    resolved_by: r.actor,
    resolved_at: trx.fn.now(),
  });
}

/** A published entry with the institution it names (for the applicant's notice). */
export interface EntryWithInstitution {
  id: string;
  item_id: string;
  status: string;
  title_zh: string;
  name_zh: string;
  contact_email: string;
}

export function findEntryWithInstitution(trx: Db, entryId: string) {
  return trx('publicity_entries as e')
    .join('institutions as i', 'i.id', 'e.institution_id')
    .where('e.id', entryId)
    .first<EntryWithInstitution>('e.id', 'e.item_id', 'e.status', 'e.title_zh', 'i.name_zh', 'i.contact_email');
}

/** Takes an entry off the list, with the reason. */
export async function removeEntry(trx: Db, entryId: string, reason: string): Promise<void> {
  await trx('publicity_entries').where({ id: entryId }).update({ status: 'removed', removal_reason: reason });
}

/**
 * An upheld appeal against an evaluation result: the report gets the grade staff now give. Returns the
 * report's directory entry and its grade before.
 */
export async function regradeReport(
  trx: Db,
  r: { reportId: string; grade: string | undefined; reason: string },
): Promise<{ directory_entry_id: string; grade: string | null }> {
  const report = await trx('evaluation_reports')
    .where({ id: r.reportId })
    .first<{ directory_entry_id: string; grade: string | null }>('directory_entry_id', 'grade');
  await trx('evaluation_reports')
    .where({ id: r.reportId })
    .update({ grade: r.grade, grade_reason: `申诉成立：${r.reason}`, graded_at: trx.fn.now() });
  return report;
}

/** A showcase case withdrawn after an upheld objection. */
export async function withdrawShowcaseCase(trx: Db, caseId: string): Promise<void> {
  await trx('showcase_cases').where({ id: caseId }).update({ status: 'objection_upheld' });
}
