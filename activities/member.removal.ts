import { log } from '@temporalio/activity';
import { memberStatusOf, setMemberRemovedOn } from '../db/repositories/member.js';
import { findRectification, upheldRemovalAppealReason } from '../db/repositories/member.rectification.js';
import { formatDayZh } from '../domain/calendar/index.js';
import { removalNotice, removalWithdrawn } from '../mail/templates.js';
import { decisionRecorder } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { changeMemberStatus, memberContext, memberMail, type RectificationStep } from './member.js';

/**
 * What a failed rectification leads to: removal (出名录), publicised first, withdrawn if an appeal stands. Each
 * step is a decision the workflow takes on its own, keyed by the activity's identity: a retry after the commit
 * returns without deciding or telling again. Each also keeps its natural guard (the member's status), so a step
 * already taken is not taken twice whatever its key.
 */
export function createMemberRemovalActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  return {
    /** Removal is to be publicised: the member is 拟移出名录 until the period ends. */
    markRemovalPending: decision(async (input: RectificationStep, { trx }): Promise<void> => {
      if ((await memberStatusOf(trx, input.entryId)) === 'removal_pending') return;
      const x = await findRectification(trx, input.rectificationId);
      await changeMemberStatus(
        trx,
        {
          ...input,
          status: 'removal_pending',
          reason: x.outcomeReason ?? '整改未通过',
          action: 'directory.removal_publicise',
        },
        { rectificationId: input.rectificationId },
      );
      log.info('member removal publicised', { entryId: input.entryId, rectificationId: x.id });
    }),

    /**
     * A procedural appeal against the removal stood: the member stays, and is told.
     *
     * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND when there is no such entry.
     */
    withdrawRemoval: decision(async (input: RectificationStep, { trx, enqueue }): Promise<void> => {
      const entry = await memberContext(trx, input.entryId);
      if (entry.status === 'active') return;
      const reason = (await upheldRemovalAppealReason(trx, input.rectificationId)) ?? '程序申诉成立';
      await changeMemberStatus(
        trx,
        { ...input, status: 'active', reason: `移出名录决定撤回：${reason}`, action: 'directory.removal_withdrawn' },
        { rectificationId: input.rectificationId },
      );
      await enqueue({
        idempotencyKey: `${input.workflowId}/removal_withdrawn/${input.rectificationId}`,
        workflowId: input.workflowId,
        purpose: 'removal_withdrawn',
        recipient: entry.contactEmail,
        ...removalWithdrawn({ ...memberMail(entry), reason }),
      });
      log.info('member removal withdrawn', { entryId: input.entryId, rectificationId: input.rectificationId });
    }),

    /**
     * 出名录: the removal is final after its publicity period; the member is told and the directory shows it.
     *
     * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND when there is no such entry.
     */
    removeMember: decision(async (input: RectificationStep & { today: string }, { trx, enqueue }): Promise<void> => {
      const entry = await memberContext(trx, input.entryId);
      if (entry.status === 'removed') return;
      const x = await findRectification(trx, input.rectificationId);
      const reason = x.outcomeReason ?? '整改未通过';
      await changeMemberStatus(
        trx,
        { ...input, status: 'removed', reason, action: 'directory.remove' },
        { rectificationId: input.rectificationId, removedOn: input.today },
      );
      await setMemberRemovedOn(trx, input.entryId, input.today);
      await enqueue({
        idempotencyKey: `${input.workflowId}/removal_notice/${input.rectificationId}`,
        workflowId: input.workflowId,
        purpose: 'removal_notice',
        recipient: entry.contactEmail,
        ...removalNotice({ ...memberMail(entry), reason, removedOn: formatDayZh(input.today) }),
      });
      log.info('member removed', { entryId: input.entryId, rectificationId: input.rectificationId });
    }),
  };
}
