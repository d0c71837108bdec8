import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { recordAudit } from '../db/repositories/audit.js';
import {
  findEntryWithInstitution,
  lockObjection,
  markObjectionResolved,
  regradeReport,
  removeEntry,
  withdrawShowcaseCase,
  type EntryWithInstitution,
  type ObjectionUnderResolution,
} from '../db/repositories/publicity.objections.js';
import { setApplicationsStatus } from '../db/repositories/round.applications.js';
import { nextSubstituteCandidate } from '../db/repositories/round.approval.js';
import type { EvaluationGrade } from '../domain/programmes.js';
import { entryRemoved, objectionResolved } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed, type DecisionTx } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

export interface ResolutionInput extends DecisionKeyed {
  workflowId: string;
  objectionId: string;
  outcome: 'upheld' | 'dismissed';
  reason: string;
  /** An upheld appeal against an evaluation result: the grade staff now give. */
  grade?: EvaluationGrade | undefined;
  actor: string;
  requestId?: string | undefined;
}

export interface ResolutionResult {
  objectionId: string;
  outcome: 'upheld' | 'dismissed';
  /** The application taken off the list, and the one substituted for it (递补), if any. */
  removedApplicationId: string | undefined;
  substituteApplicationId: string | undefined;
  /** An item whose change is publicised again for a full period (a substitute, a regraded report). */
  changedItemId?: string | undefined;
}

/** Staff's resolutions of objections, and what an upheld one changes in the list. */
export function createResolutionActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  /** Locks the objection and refuses one already resolved or an upheld appeal without the corrected grade. */
  const pendingObjection = async (trx: Knex.Transaction, input: ResolutionInput) => {
    const objection = await lockObjection(trx, input.objectionId);
    if (!objection) refuse('OBJECTION_NOT_FOUND', input.objectionId);
    if (objection.status !== 'pending')
      refuse('ALREADY_RESOLVED', `该异议已处理（${objection.status === 'upheld' ? '成立' : '不成立'}）`);
    if (objection.subject_kind === 'evaluation' && input.outcome === 'upheld' && objection.entry_id && !input.grade)
      refuse('VALIDATION_FAILED', '申诉成立时须给出更正后的评价等级（grade）');
    return objection;
  };

  /** An upheld objection against a round's entry: the application leaves the list, the next candidate is 递补. */
  const withdrawApplication = async (
    { trx, enqueue }: DecisionTx,
    input: ResolutionInput,
    objection: ObjectionUnderResolution,
    entry: EntryWithInstitution,
  ): Promise<ResolutionResult> => {
    await setApplicationsStatus(trx, [entry.item_id], 'objection_upheld');
    await enqueue({
      idempotencyKey: `${input.workflowId}/entry_removed/${entry.id}`,
      workflowId: input.workflowId,
      purpose: 'entry_removed',
      recipient: entry.contact_email,
      ...entryRemoved({
        institutionName: entry.name_zh,
        publicityTitle: objection.title_zh,
        entryTitle: entry.title_zh,
        reason: input.reason,
      }),
    });
    const substitute = await nextSubstituteCandidate(trx, objection.subject_id);
    if (substitute) {
      await setApplicationsStatus(trx, [substitute.id], 'substitute');
      await recordAudit(trx, {
        actor: 'system:publicity',
        role: 'system',
        action: 'publicity.substitute',
        subjectKind: 'application',
        subjectId: substitute.id,
        reason: `递补：“${entry.title_zh}”经异议核查撤出名单`,
        details: { replaces: entry.item_id, rank: substitute.rank, objectionId: objection.id },
        workflowId: input.workflowId,
      });
    }
    return {
      objectionId: objection.id,
      outcome: input.outcome,
      removedApplicationId: entry.item_id,
      substituteApplicationId: substitute?.id,
    };
  };

  /** The resolution and what it changes, in the decision's transaction (see `recordResolution`). */
  const resolve = async (input: ResolutionInput, tx: DecisionTx): Promise<ResolutionResult> => {
    const { trx } = tx;
    const objection = await pendingObjection(trx, input);
    await markObjectionResolved(trx, input);
    await recordAudit(trx, {
      actor: input.actor,
      role: 'staff',
      action: input.outcome === 'upheld' ? 'objection.uphold' : 'objection.dismiss',
      subjectKind: 'objection',
      subjectId: objection.id,
      reason: input.reason,
      requestId: input.requestId,
      workflowId: input.workflowId,
    });
    const entry = objection.entry_id ? await findEntryWithInstitution(trx, objection.entry_id) : undefined;
    await tx.enqueue({
      idempotencyKey: `${input.workflowId}/objection_resolved/${objection.id}`,
      workflowId: input.workflowId,
      purpose: 'objection_resolved',
      recipient: objection.objector_email,
      ...objectionResolved({
        objectorName: objection.objector_name,
        publicityTitle: objection.title_zh,
        entryTitle: entry?.title_zh ?? null,
        upheld: input.outcome === 'upheld',
        reason: input.reason,
      }),
    });
    const unchanged = {
      objectionId: objection.id,
      outcome: input.outcome,
      removedApplicationId: undefined,
      substituteApplicationId: undefined,
    };
    if (input.outcome !== 'upheld' || !entry || entry.status !== 'listed') return unchanged;
    await removeEntry(trx, entry.id, input.reason);
    if (objection.subject_kind === 'evaluation') {
      // The appeal stands: the grade is corrected, and the correction is publicised for a full period.
      const report = await regradeReport(trx, {
        reportId: entry.item_id,
        grade: input.grade,
        reason: input.reason,
      });
      await recordAudit(trx, {
        actor: input.actor,
        role: 'staff',
        action: 'evaluation.regrade',
        subjectKind: 'directory_entry',
        subjectId: report.directory_entry_id,
        reason: input.reason,
        details: { reportId: entry.item_id, from: report.grade, to: input.grade, objectionId: objection.id },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
      return { ...unchanged, changedItemId: entry.item_id };
    }
    if (objection.subject_kind === 'showcase' || objection.subject_kind === 'removal') {
      // A showcase case is withdrawn (no substitute: the showcase has no fixed size); a removal appeal on
      // procedural grounds stands (the member workflow withdraws the removal).
      const showcase = objection.subject_kind === 'showcase';
      if (showcase) await withdrawShowcaseCase(trx, entry.item_id);
      await recordAudit(trx, {
        actor: input.actor,
        role: 'staff',
        action: showcase ? 'showcase.case_withdrawn' : 'directory.removal_appeal_upheld',
        subjectKind: showcase ? 'showcase_case' : 'directory_entry',
        subjectId: entry.item_id,
        reason: input.reason,
        details: { objectionId: objection.id },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
      return unchanged;
    }
    return withdrawApplication(tx, input, objection, entry);
  };

  return {
    /**
     * Staff's resolution. Upheld against an entry: the entry leaves the list and the next-ranked candidate
     * below the cut line — neither excluded by staff at confirmation nor already removed — is substituted
     * (递补). The objector and the affected applicant are told, in the same transaction.
     *
     * @throws `OBJECTION_NOT_FOUND`, `ALREADY_RESOLVED`, `VALIDATION_FAILED` (an upheld appeal without a grade).
     */
    recordResolution: decision(async (input: ResolutionInput, tx): Promise<ResolutionResult> => {
      const result = await resolve(input, tx);
      log.info('objection resolved', {
        objectionId: result.objectionId,
        outcome: result.outcome,
        removedApplicationId: result.removedApplicationId,
        substituteApplicationId: result.substituteApplicationId,
        changedItemId: result.changedItemId,
      });
      return result;
    }),
  };
}
