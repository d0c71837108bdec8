import { log } from '@temporalio/activity';
import { auditedSubjects, recordAudit } from '../db/repositories/audit.js';
import {
  assignmentsOf,
  insertReplacement,
  lostFirstAssignments,
  reviewItems,
  reviewerPool,
  timeOutOpenAssignments,
  type LostAssignment,
} from '../db/repositories/review.assignments.js';
import { loadBound, pickReplacement } from '../domain/review/assignment.js';
import { replacementUnavailable, reviewInvitation } from '../mail/templates.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { dueGroup, type DueGroup } from './review.js';
import { enqueueWithAssignmentLink } from './review.links.js';
import { loadReview } from './review.subjects.js';

export interface ReplacementResult {
  timedOut: number;
  replaced: number;
  /** Items left short of reviewers: no eligible expert within the load bound remained. */
  unreplaceable: number;
  /** The due group of the replacements made now, if any. */
  due: DueGroup | undefined;
}

/** Timeouts and declines of first assignments, each replaced once by another eligible expert. */
export function createReviewReplacementActivities({ db, outbox, calendar, staffEmail, publicBaseUrl }: ActivityDeps) {
  /**
   * Finds one replacement for each of the given assignments (first assignments only: a replacement is not
   * replaced again), records it due in the review period from today, and invites the expert. Assignments for
   * which no eligible expert remains are audited (`review.replacement_unavailable`) and emailed to staff, in
   * one notice per call, each assignment once: one reported before is tried again (the pool may have grown)
   * but neither reported nor counted again.
   */
  const replace = async (
    input: { workflowId: string; reviewId: string; today: string },
    lost: LostAssignment[],
  ): Promise<{ replaced: number; unreplaceable: number; due: DueGroup | undefined }> => {
    if (lost.length === 0) return { replaced: 0, unreplaceable: 0, due: undefined };
    const { review, subject, titleZh } = await loadReview(db, input.reviewId);
    const { calendar: cal } = await calendar.snapshot();
    const due = dueGroup(cal, input.today, subject.review.dueWorkingDays, subject.review.reminderWorkingDaysBefore);
    let replaced = 0;
    let unreplaceable = 0;
    await db.transaction(async (trx) => {
      const { experts, reviewers } = await reviewerPool(trx);
      const items = await reviewItems(trx, subject, review.experts_per_item, experts, [
        ...new Set(lost.map((l) => l.item_id)),
      ]);
      const all = await assignmentsOf(trx, review.id);
      const loads = new Map<string, number>();
      for (const a of all)
        if (a.status !== 'declined' && a.status !== 'timed_out')
          loads.set(a.expert_id, (loads.get(a.expert_id) ?? 0) + 1);
      const bound = loadBound(all.filter((a) => a.wave === 0).length, reviewers.length);
      const reported = new Set(
        await auditedSubjects(trx, {
          action: 'review.replacement_unavailable',
          workflowId: input.workflowId,
          subjectIds: lost.map((l) => l.id),
        }),
      );
      const unavailable: LostAssignment[] = [];
      for (const l of lost) {
        if (all.some((a) => a.replaces_assignment_id === l.id)) continue;
        const item = items.find((i) => i.id === l.item_id)!;
        const onItem = new Set(all.filter((a) => a.item_id === l.item_id).map((a) => a.expert_id));
        const pick = pickReplacement(item, reviewers, loads, onItem, bound);
        if (!pick) {
          if (reported.has(l.id)) continue;
          unreplaceable += 1;
          unavailable.push(l);
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.replacement_unavailable',
            subjectKind: 'review_assignment',
            subjectId: l.id,
            reason: '没有符合领域、回避与负载要求的替补专家',
            workflowId: input.workflowId,
          });
          continue;
        }
        const replacementId = await insertReplacement(trx, {
          reviewId: review.id,
          itemKind: subject.itemKind,
          itemId: l.item_id,
          expertId: pick.id,
          replaces: l.id,
          due: { dueDay: due.dueDay, dueAt: new Date(due.dueAt) },
        });
        loads.set(pick.id, (loads.get(pick.id) ?? 0) + 1);
        all.push({ item_id: l.item_id, expert_id: pick.id, status: 'invited', wave: 1, replaces_assignment_id: l.id });
        replaced += 1;
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.replace',
          subjectKind: 'review_assignment',
          subjectId: l.id,
          reason: l.status === 'declined' ? '原专家谢绝' : '原专家逾期未提交',
          details: { from: l.expert_id, to: pick.id, replacement: replacementId },
          workflowId: input.workflowId,
        });
        const expert = experts.find((e) => e.id === pick.id)!;
        await enqueueWithAssignmentLink(
          { outbox, publicBaseUrl },
          trx,
          {
            idempotencyKey: `${input.workflowId}/review_invitation/${replacementId}`,
            workflowId: input.workflowId,
            purpose: 'review_invitation',
            recipient: expert.email,
          },
          {
            expertId: expert.id,
            reviewId: review.id,
            assignments: [{ id: replacementId, dueAt: new Date(due.dueAt) }],
          },
          (link) =>
            reviewInvitation({
              expertName: expert.name_zh,
              reviewTitle: titleZh,
              count: 1,
              due: new Date(due.dueAt),
              dueEstimated: cal.arrangement(Number(due.dueDay.slice(0, 4))).estimated,
              replacement: true,
              ...link,
            }),
        );
      }
      if (unavailable.length > 0) {
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/replacement_unavailable/${unavailable[0]!.id}`,
            workflowId: input.workflowId,
            purpose: 'replacement_unavailable',
            recipient: staffEmail,
            ...replacementUnavailable({
              signInUrl: signInUrlOf({ publicBaseUrl }),
              reviewTitle: titleZh,
              items: [...new Set(unavailable.map((l) => l.item_id))],
            }),
          },
          trx,
        );
      }
    });
    if (replaced > 0 || unreplaceable > 0) {
      log.info('replacement made', { reviewId: review.id, replaced, unreplaceable, dueDay: due.dueDay });
    }
    await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'review_invitation' });
    await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'replacement_unavailable' });
    return { replaced, unreplaceable, due: replaced > 0 ? due : undefined };
  };

  return {
    /** At a due time (after the grace window): reviews still open time out and get one replacement each. */
    async closeDueAssignments(input: {
      workflowId: string;
      reviewId: string;
      dueDay: string;
      today: string;
      at: string;
    }): Promise<ReplacementResult> {
      const lost = await db.transaction(async (trx) => {
        const rows = await timeOutOpenAssignments(trx, input.reviewId, input.dueDay, new Date(input.at));
        for (const r of rows) {
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.timeout',
            subjectKind: 'review_assignment',
            subjectId: r.id,
            reason: '逾期未提交评分',
            details: { expertId: r.expert_id, itemId: r.item_id },
            workflowId: input.workflowId,
          });
        }
        return rows;
      });
      if (lost.length > 0) log.info('assignments timed out', { reviewId: input.reviewId, timedOut: lost.length });
      // Timed-out rows already recorded on an earlier attempt are picked up again from the table.
      const toReplace = await lostFirstAssignments(db, input.reviewId, 'timed_out', input.dueDay);
      const result = await replace(input, toReplace);
      return { timedOut: lost.length, ...result };
    },

    /** Replacements for first assignments declined since the last call. */
    async replaceDeclined(input: { workflowId: string; reviewId: string; today: string }): Promise<ReplacementResult> {
      const declined = await lostFirstAssignments(db, input.reviewId, 'declined');
      return { timedOut: 0, ...(await replace(input, declined)) };
    },
  };
}
