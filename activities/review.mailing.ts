import { letterAssignments, type LetterAssignment } from '../db/repositories/assignment-links.js';
import { expertsHolding, type ExpertHolding } from '../db/repositories/review.assignments.js';
import { reviewInvitation, reviewReminder, type ExpertLink, type RenderedEmail } from '../mail/templates.js';
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

  /**
   * Mails a page of the experts holding `which` assignments, each email recorded with its link to the expert's
   * assignments among them (one transaction per email), then sent by key.
   */
  const mailExperts = async (
    input: ReviewBatchInput,
    which: { firstOnly: true } | { openDueDay: string },
    email: { purpose: string; dueAt?: Date },
    letterOf: (e: ExpertHolding) => { key: string; render: (link: ExpertLink) => RenderedEmail },
  ): Promise<BatchResult> => {
    const experts = await page(expertsHolding(db, { reviewId: input.reviewId, ...which }), 'e.id', input);
    const held = byExpert(
      await letterAssignments(db, { reviewId: input.reviewId, expertIds: experts.map((e) => e.id), ...which }),
    );
    return mailPage(outbox, { workflowId: input.workflowId, purpose: email.purpose }, input, experts, async (e) => {
      const { key, render } = letterOf(e);
      await db.transaction((trx) =>
        enqueueWithAssignmentLink(
          { outbox, publicBaseUrl },
          trx,
          { idempotencyKey: key, workflowId: input.workflowId, recipient: e.email, ...email },
          { expertId: e.id, reviewId: input.reviewId, assignments: held.get(e.id) ?? [] },
          render,
        ),
      );
      return { key, queued: true };
    });
  };

  return {
    /** One invitation per expert for their first assignments. */
    async sendReviewInvitations(input: ReviewBatchInput): Promise<BatchResult> {
      const { titleZh } = await loadReview(db, input.reviewId);
      const dueEstimated = await estimated(input.due.dueDay);
      return mailExperts(input, { firstOnly: true }, { purpose: 'review_invitation' }, (e) => ({
        key: `${input.workflowId}/review_invitation/${e.id}`,
        render: (link) =>
          reviewInvitation({
            expertName: e.name_zh,
            reviewTitle: titleZh,
            count: e.n,
            due: new Date(input.due.dueAt),
            dueEstimated,
            replacement: false,
            ...link,
          }),
      }));
    },

    /** A reminder k working days before a due day, only to experts with a review of that day still open. */
    async sendReviewReminders(input: ReminderBatchInput): Promise<BatchResult> {
      const { titleZh } = await loadReview(db, input.reviewId);
      const dueEstimated = await estimated(input.due.dueDay);
      return mailExperts(
        input,
        { openDueDay: input.due.dueDay },
        { purpose: 'review_reminder', dueAt: new Date(input.reminder.at) },
        (e) => ({
          key: `${input.workflowId}/review_reminder/${input.due.dueDay}/${input.reminder.k}/${e.id}`,
          render: (link) =>
            reviewReminder({
              expertName: e.name_zh,
              reviewTitle: titleZh,
              open: e.n,
              due: new Date(input.due.dueAt),
              dueEstimated,
              workingDaysLeft: input.reminder.k,
              ...link,
            }),
        }),
      );
    },
  };
}

/** Assignments grouped by their expert. */
function byExpert(rows: LetterAssignment[]): Map<string, LetterAssignment[]> {
  const map = new Map<string, LetterAssignment[]>();
  for (const r of rows) map.set(r.expertId, [...(map.get(r.expertId) ?? []), r]);
  return map;
}
