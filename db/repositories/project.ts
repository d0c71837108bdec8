import type { Db } from '../knex.js';

export type ProjectStatus = 'active' | 'completed' | 'failed' | 'terminated';

/** A research project with its institution, as the API shows it and the activities act on it. */
export interface ProjectRow {
  id: string;
  title: string;
  programme: string;
  institutionId: string;
  institutionName: string;
  contactEmail: string;
  status: ProjectStatus;
  startsOn: string;
  endsOn: string;
  extendedTo: string | null;
  extensionMonths: number | null;
  extensionReason: string | null;
  extensionStatus: 'pending' | 'approved' | 'refused' | null;
  extensionDecisionReason: string | null;
  terminatedReason: string | null;
}

export async function findProject(db: Db, projectId: string): Promise<ProjectRow | undefined> {
  const p = await db('projects as p')
    .join('institutions as i', 'i.id', 'p.institution_id')
    .where('p.id', projectId)
    .first<
      | {
          id: string;
          title_zh: string;
          programme: string;
          institution_id: string;
          name_zh: string;
          contact_email: string;
          status: ProjectStatus;
          starts_on: string;
          ends_on: string;
          extended_to: string | null;
          extension_months: number | null;
          extension_reason: string | null;
          extension_status: 'pending' | 'approved' | 'refused' | null;
          extension_decision_reason: string | null;
          terminated_reason: string | null;
        }
      | undefined
    >(
      'p.id',
      'p.title_zh',
      'p.programme',
      'p.institution_id',
      'i.name_zh',
      'i.contact_email',
      'p.status',
      'p.starts_on',
      'p.ends_on',
      'p.extended_to',
      'p.extension_months',
      'p.extension_reason',
      'p.extension_status',
      'p.extension_decision_reason',
      'p.terminated_reason',
    );
  if (!p) return undefined;
  return {
    id: p.id,
    title: p.title_zh,
    programme: p.programme,
    institutionId: p.institution_id,
    institutionName: p.name_zh,
    contactEmail: p.contact_email,
    status: p.status,
    startsOn: p.starts_on,
    endsOn: p.ends_on,
    extendedTo: p.extended_to,
    extensionMonths: p.extension_months,
    extensionReason: p.extension_reason,
    extensionStatus: p.extension_status,
    extensionDecisionReason: p.extension_decision_reason,
    terminatedReason: p.terminated_reason,
  };
}
