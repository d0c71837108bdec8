import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { recordReceipt } from '../db/repositories/receipts.js';
import type { ReferenceActor } from '../db/repositories/reference-lists.js';
import type { AssignmentRow } from '../db/repositories/review.js';
import { openAssignmentsBreakingAvoidance, type AvoidanceBreach } from '../services/avoidance.js';
import { declineAssignmentUpdate, type DeclineRequest } from '../workflows/review.messages.js';
import { AppError, fromTemporalError, isUpdateFailedWithoutRefusal } from './errors.js';
import { z } from './route.js';
import { RECEIPT_LEASE_MS, sendKeptReceipt } from './workflow-calls.js';

/**
 * Reference changes that reach open assignments (issue 16, points 2 and 5). Deactivating an expert, or changing
 * what 回避 reads — an expert's unit or declared conflicts, a partnership — may leave an open assignment (invited
 * or accepted) with an expert who may no longer hold it. Such a change is refused (409, the assignments listed)
 * unless staff confirm replacement (`replaceOpenAssignments`); then the change and a decline receipt for each
 * such assignment (`update_receipts`, Update `declineAssignment`) commit in one transaction, and the Updates are
 * sent after: the review workflow closes each assignment as declined by staff and invites a replacement as for
 * any decline (回避 and load as always; at most one replacement per assignment, SPEC "Expert review"). A crash
 * after the commit, or Temporal out of reach, loses none: the outbox sweeper redelivers pending receipts under
 * the same Update ids (and the same request again sends them too).
 */

export const ReplacementSchema = z.object({
  assignmentId: z.string(),
  outcome: z.enum(['declined', 'declined_not_replaced', 'closed', 'kept']).openapi({
    description:
      'declined：已按谢绝关闭，由评审流程另请专家替换；declined_not_replaced：已按谢绝关闭，但该任务本身是替换任务，' +
      '按每项任务至多补请一次的规定不再替换，该申报的评审专家少一位，请工作人员知悉；' +
      'closed：该任务已结束（已提交、已谢绝或已过截止时间，超时的任务由流程按时替换）；' +
      'kept：流程引擎暂不可达，请求已留存，恢复后自动送达',
  }),
});

/** An open assignment as the refusal lists it (`openAssignments`). */
export const openView = (a: AssignmentRow) => ({
  assignmentId: a.id,
  reviewId: a.reviewId,
  itemKind: a.itemKind,
  itemId: a.itemId,
  dueAt: a.dueAt.toISOString(),
  // A replacement is not replaced again (one replacement per assignment, SPEC "Expert review").
  replaceable: a.wave === 0,
});

export type Replacement = z.infer<typeof ReplacementSchema>;

/** Why staff close an open assignment: its expert is deactivated, or 回避 now forbids it. */
export type ReplacementCause = 'deactivation' | 'avoidance';

/** The decline staff send for one open assignment, under an Update id of the cause and assignment (retry-safe). */
function declineOf(
  a: AssignmentRow,
  cause: ReplacementCause,
  by: ReferenceActor,
  receivedAt: Date,
): { updateId: string; arg: DeclineRequest } {
  const why = cause === 'deactivation' ? '专家已停用' : '基础数据变更后该专家须回避';
  return {
    updateId:
      cause === 'deactivation' ? `expert-deactivation/${a.expertId}/${a.id}` : `avoidance/${a.expertId}/${a.id}`,
    arg: {
      assignmentId: a.id,
      reason: `${why}，由工作人员确认替换：${by.reason}`,
      conflict: false,
      actor: by.actor,
      requestId: by.requestId,
      receivedAt: receivedAt.toISOString(),
    },
  };
}

/** A decline kept as a receipt, to send after the commit. */
export interface KeptDecline {
  assignment: AssignmentRow;
  updateId: string;
  arg: DeclineRequest;
}

/** Keeps the decline receipts of `open` (in the caller's transaction); answers what to send. */
export async function keepDeclines(
  trx: Db,
  open: readonly { assignment: AssignmentRow; cause: ReplacementCause }[],
  by: ReferenceActor,
  receivedAt: Date,
): Promise<KeptDecline[]> {
  const kept: KeptDecline[] = [];
  for (const { assignment: a, cause } of open) {
    const { updateId, arg } = declineOf(a, cause, by, receivedAt);
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
export async function sendDeclines(
  deps: { db: Db; temporal: Client },
  kept: readonly KeptDecline[],
): Promise<Replacement[]> {
  const outcomes: Replacement[] = [];
  for (const { assignment, updateId, arg } of kept) {
    try {
      await sendKeptReceipt(deps, assignment.workflowId, declineAssignmentUpdate, arg, {
        updateId,
        whenEnded: () => new AppError('ASSIGNMENT_CLOSED', '该评审已结束'),
      });
      outcomes.push({
        assignmentId: assignment.id,
        outcome: assignment.wave === 0 ? 'declined' : 'declined_not_replaced',
      });
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

/** A breach as a refusal or a report lists it. */
export const breachView = (b: AvoidanceBreach) => ({
  ...openView(b.assignment),
  expertId: b.assignment.expertId,
  reason: b.reason,
});

export const BreachSchema = z.object({
  assignmentId: z.string(),
  reviewId: z.string(),
  itemKind: z.string(),
  itemId: z.string(),
  dueAt: z.string(),
  replaceable: z.boolean().openapi({ description: '该任务本身是替换任务时为 false：按规定不再替换' }),
  expertId: z.string(),
  reason: z.enum(['own_institution', 'partner_enterprise', 'declared_conflict', 'avoid_list']).openapi({
    description:
      'own_institution 本单位，partner_enterprise 合作企业，declared_conflict 申报回避，avoid_list 申请人要求回避',
  }),
});

const REASON_ZH: Record<AvoidanceBreach['reason'], string> = {
  own_institution: '专家所在单位',
  partner_enterprise: '专家所在企业为合作企业',
  declared_conflict: '专家申报回避',
  avoid_list: '申请人要求回避',
};

/** The refusal of an unconfirmed change that would leave `breaches` (409 AVOIDANCE_BROKEN, listing them). */
function avoidanceBroken(breaches: readonly AvoidanceBreach[]): AppError {
  const which = breaches.map((b) => `${b.assignment.id}（专家 ${b.assignment.expertId}：${REASON_ZH[b.reason]}）`);
  return new AppError(
    'AVOIDANCE_BROKEN',
    `该修改将使 ${breaches.length} 项未完成的评审任务违反回避规定：${which.join('、')}。确认由其他专家替换：请求体中加 "replaceOpenAssignments": true（导入时在查询参数中加 replaceOpenAssignments=true）`,
    { openAssignments: breaches.map(breachView) },
  );
}

/**
 * What a guarded write did: whether it was sound (an import with row problems is not: it writes its sound rows
 * all the same, rolled back, so the breaches they cause are told with the problems), its own answer, and open
 * assignments it replaces itself.
 */
export interface GuardedWrite<T> {
  valid: boolean;
  value: T;
  /** Open assignments the write itself has replaced (a deactivated expert's). */
  replacing?: readonly AssignmentRow[];
}

class RollBack extends Error {}

/**
 * Runs a reference change (`write`, in one transaction) and checks 回避 on the open assignments after it: the
 * breaches it causes (`openAssignmentsBreakingAvoidance` after, less those before). Rolled back when the write
 * is not `valid` or this is a `dryRun` (the report tells the breaches all the same); refused with 409
 * AVOIDANCE_BROKEN when there are breaches and staff did not confirm; otherwise committed with a decline
 * receipt for each breach and each assignment the write replaces, the declines sent after the commit.
 *
 * @throws AppError AVOIDANCE_BROKEN, or whatever `write` throws (the change rolled back).
 */
export async function guardedReferenceChange<T>(
  deps: { db: Db; temporal: Client },
  options: { confirmed: boolean; dryRun: boolean; by: ReferenceActor; receivedAt: Date },
  write: (trx: Db) => Promise<GuardedWrite<T>>,
): Promise<{ valid: boolean; value: T; breaches: AvoidanceBreach[]; replacements: Replacement[] }> {
  let done: { valid: boolean; value: T; breaches: AvoidanceBreach[]; kept: KeptDecline[] } | undefined;
  try {
    await deps.db.transaction(async (trx) => {
      const before = new Set((await openAssignmentsBreakingAvoidance(trx)).map((b) => b.assignment.id));
      const written = await write(trx);
      // Read even when the write has problems: it wrote its sound rows, so a dry run tells every breach at once.
      const breaches = (await openAssignmentsBreakingAvoidance(trx)).filter((b) => !before.has(b.assignment.id));
      done = { valid: written.valid, value: written.value, breaches, kept: [] };
      if (!written.valid || options.dryRun) throw new RollBack();
      if (breaches.length > 0 && !options.confirmed) throw avoidanceBroken(breaches);
      done.kept = await keepDeclines(
        trx,
        [
          ...(written.replacing ?? []).map((assignment) => ({ assignment, cause: 'deactivation' as const })),
          ...breaches.map((b) => ({ assignment: b.assignment, cause: 'avoidance' as const })),
        ],
        options.by,
        options.receivedAt,
      );
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  const { kept, ...rest } = done!;
  return { ...rest, replacements: await sendDeclines(deps, kept) };
}
