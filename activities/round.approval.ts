import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { setApplicationsStatus } from '../db/repositories/round.applications.js';
import {
  admitToDirectory,
  directoryEntriesOf,
  listedApplications,
  markRoundApproved,
  roundHeading,
} from '../db/repositories/round.approval.js';
import { roundContext } from '../db/repositories/round.rules.js';
import { approvalNotice } from '../mail/templates.js';
import { notShortlistedEmails } from './applicant-notices.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

export interface ApproveRoundInput {
  roundId: string;
  workflowId: string;
  /** Calendar day (YYYY-MM-DD) of the 认定: directory entries are admitted on it. */
  today: string;
  /** Workflow time of the 认定 (ISO). */
  at: string;
}

export interface ApproveRoundResult {
  approved: number;
  /** Directory entries added now (0 on a repeat, or for a programme without a directory). */
  directoryEntries: number;
  /** Every directory entry of the round's approved applications, in id order: each gets its member workflow. */
  entries: { entryId: string; institutionId: string }[];
}

/** The round's 认定 after its publicity period. */
const approvalNoticeKey = (workflowId: string, applicationId: string) =>
  `${workflowId}/approval_notice/${applicationId}`;

export function createRoundApprovalActivities({ db, outbox }: ActivityDeps) {
  return {
    /**
     * 认定: the result becomes final. Every application still listed is approved, its applicant told; for a
     * directory programme each becomes a directory entry. Applicants whose reviewed application is not on the
     * list are told the result too. A round approved already is reported, not redone.
     *
     * @throws `ROUND_NOT_FOUND`.
     */
    async approveRound(input: ApproveRoundInput): Promise<ApproveRoundResult> {
      const ctx = await roundContext(db, input.roundId);
      if (!ctx) refuse('ROUND_NOT_FOUND', input.roundId);
      const result = await db.transaction(async (trx) => {
        const round = await roundHeading(trx, input.roundId);
        const listed = await listedApplications(trx, input.roundId);
        const notListed = await notShortlistedEmails(trx, {
          roundId: input.roundId,
          workflowId: input.workflowId,
          roundTitle: round.title_zh,
          programmeName: ctx.programme.nameZh,
        });
        const others = notListed.map((e) => e.idempotencyKey);
        if (round.status === 'approved') {
          return { approved: listed.length, directoryEntries: 0, listed, others, now: false };
        }
        await setApplicationsStatus(
          trx,
          listed.map((l) => l.id),
          'approved',
        );
        const directoryEntries = ctx.programme.entersDirectory
          ? await admitToDirectory(trx, ctx.programme.key, listed, input.today)
          : 0;
        for (const l of listed) {
          await outbox.enqueue(
            {
              idempotencyKey: approvalNoticeKey(input.workflowId, l.id),
              workflowId: input.workflowId,
              purpose: 'approval_notice',
              recipient: l.contact_email,
              ...approvalNotice({
                institutionName: l.name_zh,
                roundTitle: round.title_zh,
                programmeName: ctx.programme.nameZh,
                entryTitle: l.title_zh,
              }),
            },
            trx,
          );
        }
        for (const email of notListed) await outbox.enqueue(email, trx);
        await markRoundApproved(trx, input.roundId, new Date(input.at));
        await recordAudit(trx, {
          actor: 'system:round',
          role: 'system',
          action: 'round.approve',
          subjectKind: 'round',
          subjectId: input.roundId,
          details: { approved: listed.length, directoryEntries },
          workflowId: input.workflowId,
        });
        return { approved: listed.length, directoryEntries, listed, others, now: true };
      });
      if (result.now) {
        log.info('round approved', {
          roundId: input.roundId,
          approved: result.approved,
          directoryEntries: result.directoryEntries,
        });
      }
      // Handed to SMTP for a bounded time; what is left (a round of thousands) is the outbox sweeper's.
      await outbox.sendSoon([...result.listed.map((l) => approvalNoticeKey(input.workflowId, l.id)), ...result.others]);
      // The directory entries of this round (new or from an earlier attempt): each gets its member workflow.
      const entries = await directoryEntriesOf(
        db,
        result.listed.map((l) => l.id),
      );
      return {
        approved: result.approved,
        directoryEntries: result.directoryEntries,
        entries: entries.map((e) => ({ entryId: e.id, institutionId: e.institution_id })),
      };
    },
  };
}
