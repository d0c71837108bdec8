import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { recordReceipt } from '../../db/repositories/receipts.js';
import { applyReferenceRows, REFERENCE_LISTS, type ReferenceActor } from '../../db/repositories/reference-lists.js';
import { openAssignmentsOf, type AssignmentRow } from '../../db/repositories/review.js';
import { formatInstantZh } from '../../domain/calendar/index.js';
import { declineAssignmentUpdate, type DeclineRequest } from '../../workflows/review.messages.js';
import type { Clock } from '../clock.js';
import { AppError, fromTemporalError, isUpdateFailedWithoutRefusal } from '../errors.js';
import { z, type ApiRoutes } from '../route.js';
import { RECEIPT_LEASE_MS, sendKeptReceipt } from '../workflow-calls.js';
import {
  actorOf,
  cellsOf,
  ExpertFields,
  ExpertSchema,
  findStored,
  IdSchema,
  present,
  ReasonSchema,
  refusal,
  TAG,
  WrittenSchema,
} from './reference-data.js';

/**
 * Changing an expert of the pool (issue 16, point 2): the whole record with a reason, a new version. Deactivating
 * an expert who still has open assignments (invited or accepted) is refused (409 EXPERT_HAS_OPEN_ASSIGNMENTS,
 * listing them) unless staff confirm that they are replaced (`replaceOpenAssignments`) — checked again under lock
 * in the deactivation's transaction, so an assignment invited meanwhile is refused too, never replaced
 * unconfirmed. Then, in one transaction, the expert is deactivated and each open assignment's decline is kept as
 * a receipt (`update_receipts`) for its review workflow; the Updates are sent after the commit. The workflow
 * closes each assignment as declined by staff and invites a replacement as for any decline (回避 and load as
 * always; at most one replacement per assignment, SPEC "Expert review"). A crash after the commit, or Temporal
 * out of reach, loses no replacement: the outbox sweeper redelivers pending receipts under the same Update ids
 * (or the same request again delivers them).
 */

const ReplacementSchema = z.object({
  assignmentId: z.string(),
  outcome: z.enum(['declined', 'closed', 'kept']).openapi({
    description:
      'declined：已按谢绝关闭，由评审流程另请专家替换；closed：该任务已结束（已提交、已谢绝或已过截止时间，超时的任务由流程按时替换）；' +
      'kept：流程引擎暂不可达，请求已留存，恢复后自动送达',
  }),
});

/** An open assignment as the refusal lists it (`openAssignments`). */
const openView = (a: AssignmentRow) => ({
  assignmentId: a.id,
  reviewId: a.reviewId,
  itemKind: a.itemKind,
  itemId: a.itemId,
  dueAt: a.dueAt.toISOString(),
});

type Replacement = z.infer<typeof ReplacementSchema>;

/** The refusal of an unconfirmed deactivation of `expertId`, listing its `open` assignments (409). */
function hasOpenAssignments(expertId: string, open: readonly AssignmentRow[]): AppError {
  const due = open.map((a) => `${a.id}（${formatInstantZh(a.dueAt)} 截止）`).join('、');
  return new AppError(
    'EXPERT_HAS_OPEN_ASSIGNMENTS',
    `专家 ${expertId} 尚有 ${open.length} 项未完成的评审任务：${due}。确认由其他专家替换请加 "replaceOpenAssignments": true`,
    { openAssignments: open.map(openView) },
  );
}

/** The decline a deactivation sends for one open assignment, under an Update id of the expert and assignment. */
function declineOf(a: AssignmentRow, by: ReferenceActor, receivedAt: Date): { updateId: string; arg: DeclineRequest } {
  return {
    updateId: `expert-deactivation/${a.expertId}/${a.id}`,
    arg: {
      assignmentId: a.id,
      reason: `专家已停用，由工作人员确认替换：${by.reason}`,
      conflict: false,
      actor: by.actor,
      requestId: by.requestId,
      receivedAt: receivedAt.toISOString(),
    },
  };
}

/** Keeps the decline receipts of `open` (in the caller's transaction); answers what to send. */
async function keepDeclines(
  trx: Db,
  open: readonly AssignmentRow[],
  by: ReferenceActor,
  receivedAt: Date,
): Promise<{ assignment: AssignmentRow; updateId: string; arg: DeclineRequest }[]> {
  const kept = [];
  for (const a of open) {
    const { updateId, arg } = declineOf(a, by, receivedAt);
    const receipt = await recordReceipt(
      trx,
      {
        updateId,
        workflowId: a.workflowId,
        updateName: declineAssignmentUpdate.name,
        updateArg: arg,
        caller: by.actor,
        receivedAt,
      },
      RECEIPT_LEASE_MS,
    );
    kept.push({ assignment: a, updateId, arg: receipt.updateArg as DeclineRequest });
  }
  return kept;
}

/** Sends each kept decline; a refusal means the assignment had closed already, an outage leaves it kept. */
async function sendDeclines(
  deps: { db: Db; temporal: Client },
  kept: Awaited<ReturnType<typeof keepDeclines>>,
): Promise<Replacement[]> {
  const outcomes: Replacement[] = [];
  for (const { assignment, updateId, arg } of kept) {
    try {
      await sendKeptReceipt(deps, assignment.workflowId, declineAssignmentUpdate, arg, {
        updateId,
        whenEnded: () => new AppError('ASSIGNMENT_CLOSED', '该评审已结束'),
      });
      outcomes.push({ assignmentId: assignment.id, outcome: 'declined' });
    } catch (err) {
      // An Update that failed without a refusal is a defect, recorded as failed on its receipt: not "kept".
      if (isUpdateFailedWithoutRefusal(err)) throw err;
      const refusal = err instanceof AppError ? err : fromTemporalError(err);
      if (refusal && refusal.status < 500) outcomes.push({ assignmentId: assignment.id, outcome: 'closed' });
      else if (refusal?.code === 'SERVICE_UNAVAILABLE') outcomes.push({ assignmentId: assignment.id, outcome: 'kept' });
      else throw err;
    }
  }
  return outcomes;
}

/** The expert pool's change route (the other expert routes: api/routes/reference-data.ts). */
export function referenceExpertRoutes(routes: ApiRoutes, deps: { db: Db; temporal: Client; clock: Clock }): void {
  const { db } = deps;
  const experts = REFERENCE_LISTS.experts;

  routes.add({
    method: 'put',
    path: '/api/reference/experts/:expertId',
    summary: '修改评审专家库中的一位专家（系统管理员，须说明原因）',
    description:
      '请求体为修改后的整条记录与修改原因；内容有变化时记为新版本（修改人、时间、原因），内容未变时不记版本。' +
      '停用（active 为 false）尚有未完成评审任务的专家时，须同时给出 replaceOpenAssignments: true，确认由其他专家替换：' +
      '停用与各任务的替换请求在同一事务中记录，随后各任务按谢绝关闭，评审流程按回避与负载规则另请专家（每项任务至多补请一次）；' +
      '未确认时答复 409 EXPERT_HAS_OPEN_ASSIGNMENTS，openAssignments 列出这些任务（assignmentId、reviewId、itemKind、itemId、dueAt），不作任何修改。',
    tags: [TAG],
    access: 'administrator',
    params: z.object({ expertId: IdSchema('专家编号') }),
    // The whole record: its status and declared conflicts are given, never defaulted (an omitted `active` would
    // reactivate a deactivated expert, omitted conflicts erase them); a field it does not know is refused.
    body: z
      .object({
        ...ExpertFields,
        active: z.boolean().openapi({ title: '在库', description: 'true 在库（参与评审分派），false 停用' }),
        conflictInstitutionIds: ExpertFields.conflictInstitutionIds.unwrap(),
        conflictEnterpriseIds: ExpertFields.conflictEnterpriseIds.unwrap(),
        reason: ReasonSchema,
        replaceOpenAssignments: z.boolean().default(false).openapi({
          title: '确认替换未完成的评审任务',
          description: '停用尚有未完成评审任务的专家时须为 true',
        }),
      })
      .strict(),
    responses: {
      200: {
        description: '修改后的记录；停用并替换时附各任务的替换结果',
        schema: WrittenSchema(ExpertSchema).extend({ replacements: z.array(ReplacementSchema) }),
      },
    },
    errors: ['REFERENCE_NOT_FOUND', 'REFERENCE_EXISTS', 'EXPERT_HAS_OPEN_ASSIGNMENTS'],
    async handler({ params, body, principal, req }) {
      const id = params.expertId;
      await findStored(db, experts, id);
      const by = actorOf(principal, req, body.reason);
      const cells = { ...cellsOf(body), id };
      const open = body.active ? [] : await openAssignmentsOf(db, id);
      if (open.length > 0 && !body.replaceOpenAssignments) throw hasOpenAssignments(id, open);
      const receivedAt = deps.clock();
      const written = await db.transaction(async (trx) => {
        const outcome = await applyReferenceRows(trx, experts, [{ row: 1, cells }], by, {
          dryRun: false,
          mode: 'change',
          replacing: new Set([id]),
        });
        if (outcome.status === 'missing') throw new AppError('REFERENCE_NOT_FOUND');
        if (outcome.status === 'rejected') throw refusal(outcome.problems);
        // Read again under lock, in the deactivation's transaction: what is open now is what is replaced — and
        // an assignment invited since the check above is not replaced unconfirmed (the change is rolled back).
        const stillOpen = body.active ? [] : await openAssignmentsOf(trx, id, { forUpdate: true });
        if (stillOpen.length > 0 && !body.replaceOpenAssignments) throw hasOpenAssignments(id, stillOpen);
        return {
          version: outcome.versions.get(id) ?? null,
          kept: await keepDeclines(trx, stillOpen, by, receivedAt),
        };
      });
      const replacements = await sendDeclines(deps, written.kept);
      const [record] = await present(db, experts, [await findStored(db, experts, id)]);
      return { status: 200, body: { record, version: written.version, replacements } };
    },
  });
}
