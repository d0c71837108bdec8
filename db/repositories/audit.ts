import { accountIdOfActor } from '../../domain/accounts.js';
import type { Db } from '../knex.js';

export type AuditRole = 'staff' | 'expert' | 'applicant' | 'enterprise' | 'public' | 'system';

export interface AuditEvent {
  actor: string;
  role: AuditRole;
  action: string;
  subjectKind: string;
  subjectId: string;
  reason?: string | undefined;
  details?: Record<string, unknown>;
  requestId?: string | undefined;
  workflowId?: string | undefined;
  occurredAt?: Date;
}

/**
 * Every decision (who, role, when, what, why) is a row, besides Temporal's history. The acting account
 * (`account_id`) is read from the actor (`accountIdOfActor`, `…|account:<id>`): the actor string is what travels
 * through workflows into the activities that audit, so every row written for an account's request names it.
 */
export async function recordAudit(db: Db, event: AuditEvent): Promise<void> {
  await db('audit_events').insert({
    actor: event.actor,
    account_id: accountIdOfActor(event.actor) ?? null,
    role: event.role,
    action: event.action,
    subject_kind: event.subjectKind,
    subject_id: event.subjectId,
    reason: event.reason ?? null,
    details: JSON.stringify(event.details ?? {}),
    request_id: event.requestId ?? null,
    workflow_id: event.workflowId ?? null,
    ...(event.occurredAt ? { occurred_at: event.occurredAt } : {}),
  });
}

/** Which of `subjectIds` a workflow has already audited with `action`. */
export function auditedSubjects(
  db: Db,
  filter: { action: string; workflowId: string; subjectIds: string[] },
): Promise<string[]> {
  return db('audit_events')
    .where({ action: filter.action, workflow_id: filter.workflowId })
    .whereIn('subject_id', filter.subjectIds)
    .pluck('subject_id');
}

/**
 * Whether the launch of `subjectId` (a round or an evaluation) was recorded by the launcher run
 * `launcherRun` (`<workflowId>/<runId>` of a Schedule's launcher workflow) — its audit row names the launcher.
 */
export async function launchRecordedBy(db: Db, subjectId: string, launcherRun: string): Promise<boolean> {
  const row = await db('audit_events')
    .whereIn('action', ['round.launch', 'evaluation.launch'])
    .where({ subject_id: subjectId })
    .whereRaw(`details ->> 'launcher' = ?`, [launcherRun])
    .first<{ id: string } | undefined>('id');
  return row !== undefined;
}
