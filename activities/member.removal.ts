import { log } from '@temporalio/activity';
import { memberStatusOf, setMemberRemovedOn } from '../db/repositories/member.js';
import { findRectification, upheldRemovalAppealReason } from '../db/repositories/member.rectification.js';
import { formatDayZh } from '../domain/calendar/index.js';
import { removalNotice, removalWithdrawn } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { changeMemberStatus, memberContext, memberMail } from './member.js';

/** What a failed rectification leads to: removal (出名录), publicised first, withdrawn if an appeal stands. */
export function createMemberRemovalActivities({ db, outbox }: ActivityDeps) {
  return {
    /** Removal is to be publicised: the member is 拟移出名录 until the period ends. */
    async markRemovalPending(input: { entryId: string; workflowId: string; rectificationId: string }): Promise<void> {
      const x = await findRectification(db, input.rectificationId);
      const markedNow = await db.transaction(async (trx) => {
        if ((await memberStatusOf(trx, input.entryId)) === 'removal_pending') return false;
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
        return true;
      });
      if (markedNow) log.info('member removal publicised', { entryId: input.entryId, rectificationId: x.id });
    },

    /** A procedural appeal against the removal stood: the member stays, and is told. */
    async withdrawRemoval(input: { entryId: string; workflowId: string; rectificationId: string }): Promise<void> {
      const entry = await memberContext(db, input.entryId);
      const reason = (await upheldRemovalAppealReason(db, input.rectificationId)) ?? '程序申诉成立';
      if (entry.status !== 'active') {
        await db.transaction(async (trx) => {
          await changeMemberStatus(
            trx,
            {
              ...input,
              status: 'active',
              reason: `移出名录决定撤回：${reason}`,
              action: 'directory.removal_withdrawn',
            },
            { rectificationId: input.rectificationId },
          );
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/removal_withdrawn/${input.rectificationId}`,
              workflowId: input.workflowId,
              purpose: 'removal_withdrawn',
              recipient: entry.contactEmail,
              ...removalWithdrawn({ ...memberMail(entry), reason }),
            },
            trx,
          );
        });
        log.info('member removal withdrawn', { entryId: input.entryId, rectificationId: input.rectificationId });
      }
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'removal_withdrawn' });
    },

    /** 出名录: the removal is final after its publicity period; the member is told and the directory shows it. */
    async removeMember(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
      today: string;
    }): Promise<void> {
      const entry = await memberContext(db, input.entryId);
      const x = await findRectification(db, input.rectificationId);
      const reason = x.outcomeReason ?? '整改未通过';
      if (entry.status !== 'removed') {
        await db.transaction(async (trx) => {
          await changeMemberStatus(
            trx,
            { ...input, status: 'removed', reason, action: 'directory.remove' },
            { rectificationId: input.rectificationId, removedOn: input.today },
          );
          await setMemberRemovedOn(trx, input.entryId, input.today);
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/removal_notice/${input.rectificationId}`,
              workflowId: input.workflowId,
              purpose: 'removal_notice',
              recipient: entry.contactEmail,
              ...removalNotice({ ...memberMail(entry), reason, removedOn: formatDayZh(input.today) }),
            },
            trx,
          );
        });
        log.info('member removed', { entryId: input.entryId, rectificationId: input.rectificationId });
      }
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'removal_notice' });
    },
  };
}
