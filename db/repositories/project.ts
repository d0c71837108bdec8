import type { Db } from '../knex.js';
import { inChunks } from '../chunks.js';

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

/** An application approved (认定) in a round, with its principal, as it becomes a project. */
export interface ApprovedApplication {
  id: string;
  institutionId: string;
  title: string;
  fieldKey: string | null;
  /** The application's principal (负责人), when it named one. */
  principalPersonId: string | null;
}

/** The applications approved in the round, in id order. */
export async function approvedApplicationsOf(db: Db, roundId: string): Promise<ApprovedApplication[]> {
  const rows = await db('applications as a')
    .leftJoin('application_members as m', (j) => {
      j.on('m.application_id', 'a.id').andOnVal('m.role', 'principal');
    })
    .where({ 'a.round_id': roundId, 'a.status': 'approved' })
    .orderBy('a.id')
    .select<
      { id: string; institution_id: string; title_zh: string; field_key: string | null; person_id: string | null }[]
    >('a.id', 'a.institution_id', 'a.title_zh', 'a.field_key', 'm.person_id');
  return rows.map((a) => ({
    id: a.id,
    institutionId: a.institution_id,
    title: a.title_zh,
    fieldKey: a.field_key,
    principalPersonId: a.person_id,
  }));
}

/**
 * One active project per approved application, running from `startsOn` to `endsOn` (days). An application that
 * already has its project is skipped, so a retry creates nothing twice.
 */
export async function insertProjects(
  db: Db,
  programme: string,
  applications: ApprovedApplication[],
  period: { startsOn: string; endsOn: string },
): Promise<void> {
  // In chunks: one statement for a national list would pass PostgreSQL's bind parameters (see `inChunks`).
  await inChunks(applications, (chunk) =>
    db('projects')
      .insert(
        chunk.map((a) => ({
          application_id: a.id,
          institution_id: a.institutionId,
          principal_person_id: a.principalPersonId,
          title_zh: a.title,
          status: 'active',
          starts_on: period.startsOn,
          ends_on: period.endsOn,
          programme,
          field_key: a.fieldKey,
        })),
      )
      .onConflict('application_id')
      .ignore(),
  );
}

/** The projects that came out of the round's applications, in id order. */
export async function projectsOfRound(
  db: Db,
  roundId: string,
): Promise<{ projectId: string; institutionId: string }[]> {
  const rows = await db('projects as p')
    .join('applications as a', 'a.id', 'p.application_id')
    .where('a.round_id', roundId)
    .orderBy('p.id')
    .select<{ id: string; institution_id: string }[]>('p.id', 'p.institution_id');
  return rows.map((r) => ({ projectId: r.id, institutionId: r.institution_id }));
}

/** The workflow that runs the project from now on. */
export async function setProjectWorkflow(db: Db, projectId: string, workflowId: string): Promise<void> {
  await db('projects').where({ id: projectId }).update({ workflow_id: workflowId });
}

/** Sets the project's status (`active`, `completed`, `failed`). */
export async function setProjectStatus(db: Db, projectId: string, status: ProjectStatus): Promise<void> {
  await db('projects').where({ id: projectId }).update({ status });
}

/**
 * Terminates (撤项) an active project with the reason. Returns false when the project was no longer active, so a
 * retry terminates nothing twice.
 */
export async function terminateActiveProject(db: Db, projectId: string, reason: string): Promise<boolean> {
  const n = await db('projects')
    .where({ id: projectId, status: 'active' })
    .update({ status: 'terminated', terminated_reason: reason });
  return n > 0;
}
