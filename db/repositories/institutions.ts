import type { Db } from '../knex.js';
import type { InstitutionKind } from '../../domain/programmes.js';

export interface InstitutionRow {
  id: string;
  nameZh: string;
  kind: InstitutionKind;
  parentId: string | null;
  contactEmail: string;
}

export async function findInstitution(db: Db, id: string): Promise<InstitutionRow | undefined> {
  const row = await db('institutions')
    .where({ id })
    .first<
      | { id: string; name_zh: string; kind: InstitutionKind; parent_id: string | null; contact_email: string }
      | undefined
    >();
  return row
    ? { id: row.id, nameZh: row.name_zh, kind: row.kind, parentId: row.parent_id, contactEmail: row.contact_email }
    : undefined;
}

/** The university an applicant belongs to: itself, or a college's parent. */
export function universityOf(institution: InstitutionRow): string {
  return institution.parentId ?? institution.id;
}

export async function knownFields(db: Db): Promise<Set<string>> {
  const rows = await db('industries').select<{ key: string }[]>('key');
  return new Set(rows.map((r) => r.key));
}
