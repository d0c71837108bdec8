import { accountIdOfActor } from '../../domain/accounts.js';
import type { Db } from '../knex.js';

/**
 * Versions of reference data (`reference_versions`, migration 020; issue 16, point 2): programme rules,
 * institutions, enterprises, partnerships and the expert pool. Each change is the whole record after it, with
 * who, when, why and how.
 */

/** What a version is of. A partnership's subject is `<institution id>/<enterprise id>`. */
export type ReferenceKind = 'programme_rules' | 'institution' | 'enterprise' | 'partnership' | 'expert';

/** How a change came: a request to the API, an import of a list (XLSX/CSV), the demo seed, a migration. */
export type ReferenceSource = 'api' | 'import' | 'seed' | 'migration';

export interface ReferenceChange {
  kind: ReferenceKind;
  subjectId: string;
  /** The whole record after the change (JSON-serialisable); `null` when the change removes it. */
  data: unknown;
  /** Why, in zh-CN, as the person gave it (required: a change without a reason is not recorded). */
  reason: string;
  /** The actor string of the principal (`staff:administrator|account:<uuid>`), or `system:seed`. */
  actor: string;
  source: ReferenceSource;
  /** The SHA-256 (hex) of the imported file, for `source` import. */
  importSha256?: string | undefined;
}

export interface ReferenceVersion {
  kind: ReferenceKind;
  subjectId: string;
  /** 1, 2, … per (kind, subject). */
  version: number;
  data: unknown;
  reason: string;
  actor: string;
  accountId: string | null;
  source: ReferenceSource;
  importSha256: string | null;
  createdAt: Date;
}

interface RawVersion {
  kind: ReferenceKind;
  subject_id: string;
  version: number;
  data: unknown;
  reason: string;
  actor: string;
  account_id: string | null;
  source: ReferenceSource;
  import_sha256: string | null;
  created_at: Date;
}

function fromRow(r: RawVersion): ReferenceVersion {
  return {
    kind: r.kind,
    subjectId: r.subject_id,
    version: r.version,
    data: r.data,
    reason: r.reason,
    actor: r.actor,
    accountId: r.account_id,
    source: r.source,
    importSha256: r.import_sha256,
    createdAt: r.created_at,
  };
}

/**
 * Records `change` as the subject's next version and returns its number. Call it inside the transaction that
 * writes the change, after locking the subject's row (`forUpdate`) or, for a new subject, inserting it: two
 * changes of one subject then get consecutive versions. The advisory lock per (kind, subject) keeps the numbering
 * gap-free even where the caller has no row to lock (a removed partnership).
 *
 * @throws the database's error (a second version with one number cannot be written: primary key).
 */
export async function recordReferenceVersion(trx: Db, change: ReferenceChange): Promise<number> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`reference_versions:${change.kind}:${change.subjectId}`]);
  const last = await trx('reference_versions')
    .where({ kind: change.kind, subject_id: change.subjectId })
    .max<{ max: number | null }[]>('version as max');
  const version = (last[0]?.max ?? 0) + 1;
  await trx('reference_versions').insert({
    kind: change.kind,
    subject_id: change.subjectId,
    version,
    data: change.data === null || change.data === undefined ? null : JSON.stringify(change.data),
    reason: change.reason,
    actor: change.actor,
    account_id: accountIdOfActor(change.actor) ?? null,
    source: change.source,
    import_sha256: change.importSha256 ?? null,
  });
  return version;
}

/** One version of a subject, or undefined when it has none of that number. */
export async function findReferenceVersion(
  db: Db,
  kind: ReferenceKind,
  subjectId: string,
  version: number,
): Promise<ReferenceVersion | undefined> {
  const row = await db<RawVersion>('reference_versions').where({ kind, subject_id: subjectId, version }).first();
  return row ? fromRow(row) : undefined;
}

/** Every version of a subject, newest first. */
export async function listReferenceVersions(
  db: Db,
  kind: ReferenceKind,
  subjectId: string,
): Promise<ReferenceVersion[]> {
  const rows = await db<RawVersion>('reference_versions')
    .where({ kind, subject_id: subjectId })
    .orderBy('version', 'desc');
  return rows.map(fromRow);
}

/** The tables whose rows are versioned as a whole (`data` is the row, `to_jsonb`), with their subject id. */
const VERSIONED_ROWS: { kind: Exclude<ReferenceKind, 'programme_rules'>; table: string; subject: string }[] = [
  { kind: 'institution', table: 'institutions', subject: 'id' },
  { kind: 'enterprise', table: 'enterprises', subject: 'id' },
  { kind: 'partnership', table: 'institution_partners', subject: "institution_id || '/' || enterprise_id" },
  { kind: 'expert', table: 'experts', subject: 'id' },
];

/**
 * Gives every programme and reference row that has no version yet its version 1 (`data`: the programme's rules;
 * for the others the row as stored, column names as keys), as `actor` with `reason`. The seed calls it after
 * inserting what was missing; rows that already have versions are left alone.
 */
export async function recordFirstVersions(
  trx: Db,
  first: { reason: string; actor: string; source: ReferenceSource },
): Promise<void> {
  const missing = (kind: ReferenceKind, subject: string) =>
    `not exists (select 1 from reference_versions v where v.kind = '${kind}' and v.subject_id = ${subject})`;
  await trx.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'programme_rules', p.key, 1, p.rules, ?, ?, ? from programmes p where ${missing('programme_rules', 'p.key')}`,
    [first.reason, first.actor, first.source],
  );
  for (const { kind, table, subject } of VERSIONED_ROWS) {
    await trx.raw(
      `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
       select ?, ${subject}, 1, to_jsonb(r), ?, ?, ? from ${table} r where ${missing(kind, subject)}`,
      [kind, first.reason, first.actor, first.source],
    );
  }
}
