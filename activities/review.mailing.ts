import { expertsHolding } from '../db/repositories/review.assignments.js';
import { reviewInvitation, reviewReminder } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { mailPage, page, type BatchResult } from './mailing.js';
import type { DueGroup } from './review.js';
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

/** The review's emails to experts, a page of experts at a time: invitations and reminders. */
export function createReviewMailingActivities({ db, outbox, calendar }: ActivityDeps) {
  /** Whether the due day's year is still on an estimated calendar. */
  const estimated = async (dueDay: string) =>
    (await calendar.snapshot()).calendar.arrangement(Number(dueDay.slice(0, 4))).estimated;

  return {
    /** One invitation per expert for their first assignments. */
    async sendReviewInvitations(input: ReviewBatchInput): Promise<BatchResult> {
      const { titleZh } = await loadReview(db, input.reviewId);
      const dueEstimated = await estimated(input.due.dueDay);
      const experts = await page(expertsHolding(db, { reviewId: input.reviewId, firstOnly: true }), 'e.id', input);
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'review_invitation' }, input, experts, (e) => ({
        key: `${input.workflowId}/review_invitation/${e.id}`,
        recipient: e.email,
        email: reviewInvitation({
          expertName: e.name_zh,
          reviewTitle: titleZh,
          count: e.n,
          due: new Date(input.due.dueAt),
          dueEstimated,
          replacement: false,
        }),
      }));
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
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'review_reminder' }, input, experts, (e) => ({
        key: `${input.workflowId}/review_reminder/${input.due.dueDay}/${input.reminder.k}/${e.id}`,
        recipient: e.email,
        dueAt: new Date(input.reminder.at),
        email: reviewReminder({
          expertName: e.name_zh,
          reviewTitle: titleZh,
          open: e.n,
          due: new Date(input.due.dueAt),
          dueEstimated,
          workingDaysLeft: input.reminder.k,
        }),
      }));
    },
  };
}
