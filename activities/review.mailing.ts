import { letterAssignments, type LetterAssignment } from '../db/repositories/assignment-links.js';
import { expertsHolding } from '../db/repositories/review.assignments.js';
import { reviewInvitation, reviewReminder } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { mailPage, page, type BatchResult } from './mailing.js';
import type { DueGroup } from './review.js';
import { enqueueWithAssignmentLink } from './review.links.js';
import { loadReview } from './review.subjects.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';

export interface ReviewBatchInput {
  workflowId: string;
  reviewId: string;
  due: DueGroup;
  after?: string | undefined;
  batchSize: number;
}

export interface ReminderBatchInput extends ReviewBatchInput {
  reminder: Reminder;
}

/**
 * The review's emails to experts, a page of experts at a time: invitations and reminders. Each carries its own
 * link to the assignments it is about (`enqueueWithAssignmentLink`: recorded with the email, once).
 */
export function createReviewMailingActivities({ db, outbox, calendar, publicBaseUrl }: ActivityDeps) {
  /** Whether the due day's year is still on an estimated calendar. */
  const estimated = async (dueDay: string) =>
    (await calendar.snapshot()).calendar.arrangement(Number(dueDay.slice(0, 4))).estimated;

  return {
    /** One invitation per expert for their first assignments. */
    async sendReviewInvitations(input: ReviewBatchInput): Promise<BatchResult> {
      const { titleZh } = await loadReview(db, input.reviewId);
      const dueEstimated = await estimated(input.due.dueDay);
      const experts = await page(expertsHolding(db, { reviewId: input.reviewId, firstOnly: true }), 'e.id', input);
      const held = byExpert(
        await letterAssignments(db, { reviewId: input.reviewId, expertIds: experts.map((e) => e.id), firstOnly: true }),
      );
      const purpose = 'review_invitation';
      return mailPage(outbox, { workflowId: input.workflowId, purpose }, input, experts, async (e) => {
        const key = `${input.workflowId}/review_invitation/${e.id}`;
        await db.transaction((trx) =>
          enqueueWithAssignmentLink(
            { outbox, publicBaseUrl },
            trx,
            { idempotencyKey: key, workflowId: input.workflowId, purpose, recipient: e.email },
            { expertId: e.id, reviewId: input.reviewId, assignments: held.get(e.id) ?? [] },
            (link) =>
              reviewInvitation({
                expertName: e.name_zh,
                reviewTitle: titleZh,
                count: e.n,
                due: new Date(input.due.dueAt),
                dueEstimated,
                replacement: false,
                ...link,
              }),
          ),
        );
        return { key, queued: true };
      });
    },

    /** A reminder k working days before a due day, only to experts with a review of that day still open. */
    async sendReviewReminders(input: ReminderBatchInput): Promise<BatchResult> {
      const { titleZh } = await loadReview(db, input.reviewId);
      const dueEstimated = await estimated(input.due.dueDay);
      const experts = await page(
        expertsHolding(db, { reviewId: input.reviewId, openDueDay: input.due.dueDay }),
        'e.id',
        input,
      );
      const held = byExpert(
        await letterAssignments(db, {
          reviewId: input.reviewId,
          expertIds: experts.map((e) => e.id),
          openDueDay: input.due.dueDay,
        }),
      );
      const purpose = 'review_reminder';
      return mailPage(outbox, { workflowId: input.workflowId, purpose }, input, experts, async (e) => {
        const key = `${input.workflowId}/review_reminder/${input.due.dueDay}/${input.reminder.k}/${e.id}`;
        await db.transaction((trx) =>
          enqueueWithAssignmentLink(
            { outbox, publicBaseUrl },
            trx,
            {
              idempotencyKey: key,
              workflowId: input.workflowId,
              purpose,
              recipient: e.email,
              dueAt: new Date(input.reminder.at),
            },
            { expertId: e.id, reviewId: input.reviewId, assignments: held.get(e.id) ?? [] },
            (link) =>
              reviewReminder({
                expertName: e.name_zh,
                reviewTitle: titleZh,
                open: e.n,
                due: new Date(input.due.dueAt),
                dueEstimated,
                workingDaysLeft: input.reminder.k,
                ...link,
              }),
          ),
        );
        return { key, queued: true };
      });
    },
  };
}

/** Assignments grouped by their expert. */
function byExpert(rows: LetterAssignment[]): Map<string, LetterAssignment[]> {
  const map = new Map<string, LetterAssignment[]>();
  for (const r of rows) map.set(r.expertId, [...(map.get(r.expertId) ?? []), r]);
  return map;
}
