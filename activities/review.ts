import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import {
  countFirstAssignments,
  ensureReview,
  insertFirstAssignments,
  reviewItems,
  reviewerPool,
  setReviewStatus,
} from '../db/repositories/review.assignments.js';
import type { ReviewSubjectKind } from '../domain/review/subjects.js';
import { setApplicationsStatus } from '../db/repositories/round.applications.js';
import type { WorkingCalendar } from '../domain/calendar/index.js';
import { assignReviewers, loadBound } from '../domain/review/assignment.js';
import { reviewBlocked } from '../mail/templates.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { subjectOrRefuse } from './review.subjects.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';

/** When a group of assignments is due, and when its experts are reminded. */
export interface DueGroup {
  dueDay: string;
  /** 24:00 Asia/Shanghai on dueDay, ISO with +08:00. */
  dueAt: string;
  reminders: Reminder[];
}

/** Assignments made `today` are due `workingDays` working days on; reminders k working days before. */
export function dueGroup(cal: WorkingCalendar, today: string, workingDays: number, reminderKs: number[]): DueGroup {
  const period = cal.period(today, workingDays);
  return {
    dueDay: period.lastDay,
    dueAt: period.endsAtIso,
    reminders: cal.remindersBefore(period.lastDay, reminderKs),
  };
}

export interface PrepareReviewInput {
  workflowId: string;
  subjectKind: ReviewSubjectKind;
  subjectId: string;
  /** Today on the workflow's clock (Shanghai calendar day): the invitations go out today. */
  today: string;
}

export type PrepareReviewResult =
  | {
      status: 'assigned';
      reviewId: string;
      titleZh: string;
      items: number;
      assignments: number;
      maxLoad: number;
      bound: number;
      due: DueGroup;
    }
  | { status: 'blocked'; reviewId: string; titleZh: string; explanation: string }
  | { status: 'empty'; reviewId: string; titleZh: string };

/**
 * The expert review's assignment: k experts per item. Invitations and reminders are in `review.mailing.ts`,
 * replacements in `review.replacement.ts`, the aggregation in `review.results.ts`.
 */
export function createReviewActivities({ db, outbox, calendar, staffEmail, publicBaseUrl }: ActivityDeps) {
  return {
    /**
     * Creates the review, assigns k experts per item by maximum flow, and fixes the first due date. A retried
     * call finds the assignment stored; a shortfall blocks the review (with the explanation for staff).
     */
    async prepareReview(input: PrepareReviewInput): Promise<PrepareReviewResult> {
      const subject = await subjectOrRefuse(db, input.subjectKind, input.subjectId);
      const { titleZh, review } = subject;
      const reviewId = await ensureReview(db, subject, input.workflowId);
      const { calendar: cal } = await calendar.snapshot();
      const due = dueGroup(cal, input.today, review.dueWorkingDays, review.reminderWorkingDaysBefore);

      let assignedNow = false;
      const prepared = await db.transaction(async (trx): Promise<PrepareReviewResult> => {
        assignedNow = false;
        const existing = await countFirstAssignments(trx, reviewId);
        const { experts, reviewers } = await reviewerPool(trx);
        const items = await reviewItems(trx, subject, review.expertsPerApplication, experts);
        if (items.length === 0) {
          await setReviewStatus(trx, reviewId, 'empty');
          return { status: 'empty' as const, reviewId, titleZh };
        }
        if (existing > 0) {
          // A retried activity (same input, same day): the assignment was stored already.
          return {
            status: 'assigned' as const,
            reviewId,
            titleZh,
            items: items.length,
            assignments: existing,
            maxLoad: 0,
            bound: loadBound(existing, reviewers.length),
            due,
          };
        }
        const result = assignReviewers(items, reviewers);
        if (!result.ok) {
          await setReviewStatus(trx, reviewId, 'blocked', result.shortfall.messageZh);
          await recordAudit(trx, {
            actor: 'system:review',
            role: 'system',
            action: 'review.assignment_blocked',
            subjectKind: 'review',
            subjectId: reviewId,
            reason: result.shortfall.messageZh,
            details: {
              kind: result.shortfall.kind,
              need: result.shortfall.need,
              achievable: result.shortfall.achievable,
            },
            workflowId: input.workflowId,
          });
          return { status: 'blocked' as const, reviewId, titleZh, explanation: result.shortfall.messageZh };
        }
        await insertFirstAssignments(
          trx,
          { reviewId, itemKind: subject.itemKind, due: { dueDay: due.dueDay, dueAt: new Date(due.dueAt) } },
          result.assignments,
        );
        await setReviewStatus(trx, reviewId, 'reviewing', null);
        if (subject.kind === 'round') {
          await setApplicationsStatus(
            trx,
            items.map((i) => i.id),
            'under_review',
          );
        }
        await recordAudit(trx, {
          actor: 'system:review',
          role: 'system',
          action: 'review.assign',
          subjectKind: 'review',
          subjectId: reviewId,
          details: {
            items: items.length,
            assignments: result.assignments.length,
            maxLoad: result.maxLoad,
            bound: result.bound,
            due: due.dueAt,
          },
          workflowId: input.workflowId,
        });
        assignedNow = true;
        return {
          status: 'assigned' as const,
          reviewId,
          titleZh,
          items: items.length,
          assignments: result.assignments.length,
          maxLoad: result.maxLoad,
          bound: result.bound,
          due,
        };
      });
      if (prepared.status === 'blocked') log.info('review assignment blocked', { reviewId });
      else if (prepared.status === 'empty') log.info('review has no items', { reviewId });
      else if (assignedNow) {
        log.info('assignment made', {
          reviewId,
          items: prepared.items,
          assignments: prepared.assignments,
          maxLoad: prepared.maxLoad,
        });
      }
      return prepared;
    },

    /** Tells staff why the assignment cannot be made (once per attempt). */
    async notifyReviewBlocked(input: {
      workflowId: string;
      reviewId: string;
      attempt: number;
      explanation: string;
      titleZh: string;
    }): Promise<void> {
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/review_blocked/${input.attempt}`,
        workflowId: input.workflowId,
        purpose: 'review_blocked',
        recipient: staffEmail,
        ...reviewBlocked({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          reviewTitle: input.titleZh,
          explanation: input.explanation,
          reviewId: input.reviewId,
        }),
      });
    },
  };
}
