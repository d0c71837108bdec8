import type { Knex } from 'knex';
import type { Db } from '../knex.js';
import type { ApplicationDraft, ApplicationStatus } from '../../domain/applications.js';

export interface ApplicationRow {
  id: string;
  roundId: string;
  institutionId: string;
  status: ApplicationStatus;
  titleZh: string;
  fieldKey: string | null;
  draft: ApplicationDraft;
  revision: number;
  submittedRevision: number | null;
  currentVersion: number;
  receivedAt: Date | null;
  withdrawnAt: Date | null;
  formalCheckReason: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface RawApplication {
  id: string;
  round_id: string;
  institution_id: string;
  status: ApplicationStatus;
  title_zh: string;
  field_key: string | null;
  draft: ApplicationDraft;
  revision: number;
  submitted_revision: number | null;
  current_version: number;
  received_at: Date | null;
  withdrawn_at: Date | null;
  formal_check_reason: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export function toApplication(r: RawApplication): ApplicationRow {
  return {
    id: r.id,
    roundId: r.round_id,
    institutionId: r.institution_id,
    status: r.status,
    titleZh: r.title_zh,
    fieldKey: r.field_key,
    draft: r.draft,
    revision: r.revision,
    submittedRevision: r.submitted_revision,
    currentVersion: r.current_version,
    receivedAt: r.received_at,
    withdrawnAt: r.withdrawn_at,
    formalCheckReason: r.formal_check_reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function createApplication(
  db: Db,
  input: { roundId: string; institutionId: string; draft: ApplicationDraft; createdBy: string },
): Promise<ApplicationRow> {
  const [row] = await db('applications')
    .insert({
      round_id: input.roundId,
      institution_id: input.institutionId,
      status: 'draft',
      title_zh: input.draft.title ?? '',
      field_key: input.draft.field ?? null,
      draft: JSON.stringify(input.draft),
      revision: 1,
      created_by: input.createdBy,
    })
    .returning<RawApplication[]>('*');
  return toApplication(row!);
}

export async function findApplication(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ApplicationRow | undefined> {
  const query = db<RawApplication>('applications').where('id', id).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toApplication(row) : undefined;
}

/**
 * Serialises changes of one application's working copy with the receipt of its submissions (a
 * transaction-scoped advisory lock): a submission pins the revision it was received with, and no change slips in
 * between reading that revision and writing the receipt.
 */
export async function lockDraft(trx: Knex.Transaction, applicationId: string): Promise<void> {
  await trx.raw(`select pg_advisory_xact_lock(hashtext('application-draft'), hashtext(?))`, [applicationId]);
}

/** Replaces the working copy; each edit bumps the revision a later submission will snapshot. */
export async function updateDraft(db: Db, id: string, draft: ApplicationDraft): Promise<ApplicationRow> {
  const [row] = await db('applications')
    .where({ id })
    .update({
      draft: JSON.stringify(draft),
      title_zh: draft.title ?? '',
      field_key: draft.field ?? null,
      revision: db.raw('revision + 1'),
      updated_at: db.fn.now(),
    })
    .returning<RawApplication[]>('*');
  return toApplication(row!);
}

export interface ListApplicationsQuery {
  roundId: string;
  institutionId?: string | undefined;
  status?: string | undefined;
  after?: string | undefined;
  limit: number;
}

export async function listApplications(db: Db, q: ListApplicationsQuery): Promise<ApplicationRow[]> {
  const rows = await db<RawApplication>('applications')
    .where('round_id', q.roundId)
    .modify<RawApplication, RawApplication[]>((b) => {
      if (q.institutionId) void b.where('institution_id', q.institutionId);
      if (q.status) void b.where('status', q.status);
      if (q.after) void b.where('id', '>', q.after);
    })
    .orderBy('id')
    .limit(q.limit);
  return rows.map(toApplication);
}

export interface AttachmentRow {
  id: string;
  applicationId: string;
  kind: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  uploadedBy: string;
  uploadedAt: Date;
}

interface RawAttachment {
  id: string;
  application_id: string;
  kind: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  uploaded_by: string;
  uploaded_at: Date;
  removed_at: Date | null;
}

function toAttachment(r: RawAttachment): AttachmentRow {
  return {
    id: r.id,
    applicationId: r.application_id,
    kind: r.kind,
    fileName: r.file_name,
    contentType: r.content_type,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    storageKey: r.storage_key,
    uploadedBy: r.uploaded_by,
    uploadedAt: r.uploaded_at,
  };
}

/** Attachments of the working copy (removed ones stay in the table: submitted versions refer to them). */
export async function currentAttachments(db: Db, applicationId: string): Promise<AttachmentRow[]> {
  const rows = await db<RawAttachment>('attachments')
    .where({ application_id: applicationId })
    .whereNull('removed_at')
    .orderBy('uploaded_at');
  return rows.map(toAttachment);
}

export async function findAttachment(db: Db, applicationId: string, id: string): Promise<AttachmentRow | undefined> {
  const row = await db<RawAttachment>('attachments').where({ application_id: applicationId, id }).first();
  return row ? toAttachment(row) : undefined;
}

export async function addAttachment(db: Db, a: Omit<AttachmentRow, 'id' | 'uploadedAt'>): Promise<AttachmentRow> {
  return db.transaction(async (trx) => {
    const [row] = await trx('attachments')
      .insert({
        application_id: a.applicationId,
        kind: a.kind,
        file_name: a.fileName,
        content_type: a.contentType,
        size_bytes: a.sizeBytes,
        sha256: a.sha256,
        storage_key: a.storageKey,
        uploaded_by: a.uploadedBy,
      })
      .returning<RawAttachment[]>('*');
    await bumpRevision(trx, a.applicationId);
    return toAttachment(row!);
  });
}

export async function removeAttachment(db: Db, applicationId: string, id: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('attachments')
      .where({ application_id: applicationId, id })
      .whereNull('removed_at')
      .update({ removed_at: trx.fn.now() });
    if (n > 0) await bumpRevision(trx, applicationId);
    return n > 0;
  });
}

async function bumpRevision(trx: Knex.Transaction, applicationId: string): Promise<void> {
  await trx('applications')
    .where({ id: applicationId })
    .update({ revision: trx.raw('revision + 1'), updated_at: trx.fn.now() });
}

export interface StatusCounts {
  [status: string]: number;
}

export async function countByStatus(db: Db, roundId: string): Promise<StatusCounts> {
  const rows = await db('applications')
    .where({ round_id: roundId })
    .groupBy('status')
    .select<{ status: string; n: number }[]>('status', db.raw('count(*)::int as n'));
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Institutions with at least one application handed in (whatever the formal check made of it). */
export async function countInstitutionsWithSubmission(db: Db, roundId: string): Promise<number> {
  const row = await db('applications')
    .where({ round_id: roundId })
    .whereIn('status', ['submitted', 'formal_passed', 'formal_failed'])
    .countDistinct('institution_id as n')
    .first<{ n: number | string } | undefined>();
  return Number(row?.n ?? 0);
}

/**
 * Sets the status of the given applications (no-op for none), stamping `updated_at`. Statuses past the
 * formal check: 'under_review', 'shortlisted', 'not_shortlisted', 'in_publicity', 'substitute',
 * 'objection_upheld', 'approved'.
 */
export async function setApplicationsStatus(db: Db, ids: string[], status: string): Promise<void> {
  if (ids.length === 0) return;
  await db('applications').whereIn('id', ids).update({ status, updated_at: db.fn.now() });
}
