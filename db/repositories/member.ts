import type { Db } from '../knex.js';

export interface DirectoryRow {
  entryId: string;
  programme: string;
  programmeName: string;
  institutionId: string;
  institutionName: string;
  title: string;
  status: string;
  statusReason: string | null;
  admittedOn: string;
  removedOn: string | null;
  workflowId: string | null;
}

export interface DirectoryDecision {
  at: Date;
  action: string;
  role: string;
  actor: string;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface DirectoryBan {
  reason: string;
  startsOn: string;
  endsOn: string;
}

interface EntryDbRow {
  id: string;
  programme: string;
  programme_name: string;
  institution_id: string;
  institution_name: string;
  title_zh: string;
  status: string;
  status_reason: string | null;
  admitted_on: string;
  removed_on: string | null;
  workflow_id: string | null;
}

function entriesQuery(db: Db) {
  return db('directory_entries as d')
    .join('programmes as p', 'p.key', 'd.programme')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .select(
      'd.id',
      'd.programme',
      'p.name_zh as programme_name',
      'd.institution_id',
      'i.name_zh as institution_name',
      'd.title_zh',
      'd.status',
      'd.status_reason',
      db.raw(`to_char(d.admitted_on, 'YYYY-MM-DD') as admitted_on`),
      db.raw(`to_char(d.removed_on, 'YYYY-MM-DD') as removed_on`),
      'd.workflow_id',
    );
}

function toRow(r: EntryDbRow): DirectoryRow {
  return {
    entryId: r.id,
    programme: r.programme,
    programmeName: r.programme_name,
    institutionId: r.institution_id,
    institutionName: r.institution_name,
    title: r.title_zh,
    status: r.status,
    statusReason: r.status_reason,
    admittedOn: r.admitted_on,
    removedOn: r.removed_on,
    workflowId: r.workflow_id,
  };
}

/** The directory (名录), optionally of one programme and one status, oldest admission first. */
export async function listDirectory(
  db: Db,
  filter: { programme?: string | undefined; status?: string | undefined },
): Promise<DirectoryRow[]> {
  const q = entriesQuery(db).orderBy([{ column: 'd.admitted_on' }, { column: 'd.title_zh' }, { column: 'd.id' }]);
  if (filter.programme) q.where('d.programme', filter.programme);
  if (filter.status) q.where('d.status', filter.status);
  return ((await q) as EntryDbRow[]).map(toRow);
}

export async function findDirectoryEntry(db: Db, entryId: string): Promise<DirectoryRow | undefined> {
  const row = (await entriesQuery(db).where('d.id', entryId).first()) as EntryDbRow | undefined;
  return row ? toRow(row) : undefined;
}

/** Every decision recorded about one entry, in order. */
export async function decisionsOf(db: Db, entryId: string): Promise<DirectoryDecision[]> {
  const rows = await db('audit_events')
    .where({ subject_kind: 'directory_entry', subject_id: entryId })
    .orderBy([{ column: 'occurred_at' }, { column: 'id' }])
    .select<
      { occurred_at: Date; action: string; role: string; actor: string; reason: string | null; details: unknown }[]
    >('occurred_at', 'action', 'role', 'actor', 'reason', 'details');
  return rows.map((r) => ({
    at: r.occurred_at,
    action: r.action,
    role: r.role,
    actor: r.actor,
    reason: r.reason,
    details: (r.details ?? {}) as Record<string, unknown>,
  }));
}

export async function bansOf(db: Db, entryId: string): Promise<DirectoryBan[]> {
  const rows = await db('bans')
    .where({ directory_entry_id: entryId })
    .orderBy('starts_on')
    .select<{ reason: string; starts_on: string; ends_on: string }[]>(
      'reason',
      db.raw(`to_char(starts_on, 'YYYY-MM-DD') as starts_on`),
      db.raw(`to_char(ends_on, 'YYYY-MM-DD') as ends_on`),
    );
  return rows.map((r) => ({ reason: r.reason, startsOn: r.starts_on, endsOn: r.ends_on }));
}

/** A member as the activities act on it: its status, programme and where to write to its institution. */
export interface MemberEntry {
  id: string;
  status: string;
  programme: string;
  institutionId: string;
  title: string;
  institutionName: string;
  contactEmail: string;
}

/** The member with its institution's name and contact address; undefined when there is no such entry. */
export async function findMemberEntry(db: Db, entryId: string): Promise<MemberEntry | undefined> {
  const row = await db('directory_entries as d')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .where('d.id', entryId)
    .first<
      | {
          id: string;
          status: string;
          programme: string;
          institution_id: string;
          title_zh: string;
          name_zh: string;
          contact_email: string;
        }
      | undefined
    >('d.id', 'd.status', 'd.programme', 'd.institution_id', 'd.title_zh', 'i.name_zh', 'i.contact_email');
  if (!row) return undefined;
  return {
    id: row.id,
    status: row.status,
    programme: row.programme,
    institutionId: row.institution_id,
    title: row.title_zh,
    institutionName: row.name_zh,
    contactEmail: row.contact_email,
  };
}

/** The member's current status (`directory_entries.status`); the entry must exist. */
export async function memberStatusOf(db: Db, entryId: string): Promise<string> {
  const row = await db('directory_entries').where({ id: entryId }).first<{ status: string }>('status');
  return row.status;
}

/** Sets the member's status and its reason, stamped now (database time). Call inside the decision's transaction. */
export async function setMemberStatus(db: Db, entryId: string, status: string, reason: string): Promise<void> {
  await db('directory_entries').where({ id: entryId }).update({
    status,
    status_reason: reason,
    status_changed_at: db.fn.now(),
  });
}

/** The day the member left the directory (`YYYY-MM-DD`). */
export async function setMemberRemovedOn(db: Db, entryId: string, day: string): Promise<void> {
  await db('directory_entries').where({ id: entryId }).update({ removed_on: day });
}

/**
 * Mirrors the member workflow's status into the directory table, with the workflow that owns the entry. A status
 * of `removed` or `revoked` also sets `removed_on` to the day of `at` (UTC date part of the ISO instant).
 */
export async function mirrorMemberStatus(
  db: Db,
  input: { entryId: string; status: string; reason?: string | undefined; at: string; workflowId: string },
): Promise<void> {
  await db('directory_entries')
    .where({ id: input.entryId })
    .update({
      status: input.status,
      status_reason: input.reason ?? null,
      status_changed_at: new Date(input.at),
      workflow_id: input.workflowId,
      ...(input.status === 'removed' || input.status === 'revoked' ? { removed_on: input.at.slice(0, 10) } : {}),
    });
}
