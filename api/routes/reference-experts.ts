import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { applyReferenceRows, REFERENCE_LISTS } from '../../db/repositories/reference-lists.js';
import { openAssignmentsOf, type AssignmentRow } from '../../db/repositories/review.js';
import { formatInstantZh } from '../../domain/calendar/index.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { z, type ApiRoutes } from '../route.js';
import { guardedReferenceChange, openView, ReplacementSchema } from '../reference-changes.js';
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
 * unconfirmed. A change of unit or declared conflicts that leaves open assignments breaking 回避 is refused
 * likewise (409 AVOIDANCE_BROKEN). Confirmed, the change and the replacements commit together
 * (`guardedReferenceChange`, api/reference-changes.ts).
 */

/** The refusal of an unconfirmed deactivation of `expertId`, listing its `open` assignments (409). */
function hasOpenAssignments(expertId: string, open: readonly AssignmentRow[]): AppError {
  const due = open.map((a) => `${a.id}（${formatInstantZh(a.dueAt)} 截止）`).join('、');
  return new AppError(
    'EXPERT_HAS_OPEN_ASSIGNMENTS',
    `专家 ${expertId} 尚有 ${open.length} 项未完成的评审任务：${due}。确认由其他专家替换请加 "replaceOpenAssignments": true`,
    { openAssignments: open.map(openView) },
  );
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
      '未确认时答复 409 EXPERT_HAS_OPEN_ASSIGNMENTS，openAssignments 列出这些任务（assignmentId、reviewId、itemKind、itemId、dueAt），不作任何修改。' +
      '修改所在单位或申报回避单位后，该专家未完成的评审任务若违反回避规定，同样须给出 replaceOpenAssignments: true（否则答复 409 AVOIDANCE_BROKEN 并列出这些任务），确认后这些任务同样由其他专家替换。',
    tags: [TAG],
    access: 'administrator',
    params: z.object({ expertId: IdSchema('专家编号') }),
    // The whole record: its status and declared conflicts are given, never defaulted (an omitted `active` would
    // reactivate a deactivated expert, omitted conflicts erase them); a field it does not know is refused.
    body: z
      .object({
        ...ExpertFields,
        active: z.boolean().openapi({ title: '在库', description: 'true 在库（参与评审分派），false 停用' }),
        conflictInstitutionIds: ExpertFields.conflictInstitutionIds.unwrap().openapi({
          title: '申报回避的高校或学院',
          description: '单位编号；该专家不评审这些单位所属高校（及其学院）的申报',
        }),
        conflictEnterpriseIds: ExpertFields.conflictEnterpriseIds
          .unwrap()
          .openapi({ title: '申报回避的企业', description: '企业编号；该专家不评审与这些企业合作的申报' }),
        reason: ReasonSchema,
        replaceOpenAssignments: z.boolean().default(false).openapi({
          title: '确认替换未完成的评审任务',
          description: '停用尚有未完成评审任务的专家，或修改后其未完成的评审任务违反回避规定时，须为 true',
        }),
      })
      .strict(),
    responses: {
      200: {
        description: '修改后的记录；停用并替换时附各任务的替换结果',
        schema: WrittenSchema(ExpertSchema).extend({ replacements: z.array(ReplacementSchema) }),
      },
    },
    errors: ['REFERENCE_NOT_FOUND', 'REFERENCE_EXISTS', 'EXPERT_HAS_OPEN_ASSIGNMENTS', 'AVOIDANCE_BROKEN'],
    async handler({ params, body, principal, req }) {
      const id = params.expertId;
      await findStored(db, experts, id);
      const by = actorOf(principal, req, body.reason);
      const cells = { ...cellsOf(body), id };
      const open = body.active ? [] : await openAssignmentsOf(db, id);
      if (open.length > 0 && !body.replaceOpenAssignments) throw hasOpenAssignments(id, open);
      const changed = await guardedReferenceChange(
        deps,
        { confirmed: body.replaceOpenAssignments, dryRun: false, by, receivedAt: deps.clock() },
        async (trx) => {
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
          return { valid: true, value: outcome.versions.get(id) ?? null, replacing: stillOpen };
        },
      );
      const [record] = await present(db, experts, [await findStored(db, experts, id)]);
      return { status: 200, body: { record, version: changed.value, replacements: changed.replacements } };
    },
  });
}
