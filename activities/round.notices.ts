import type { Db } from '../db/knex.js';
import { contactsOf, withoutSubmission, type InstitutionContact } from '../db/repositories/round.js';
import { formalRules } from '../domain/applications.js';
import { shanghaiDayOf } from '../domain/calendar/index.js';
import {
  callNotice,
  callReminder,
  deadlineChanged,
  deadlineExtended,
  roundCancelled,
  type RenderedEmail,
  type RoundMailContext,
} from '../mail/templates.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { mailPage, page, type BatchCursor, type BatchResult } from './mailing.js';
import { eligibleFor, loadPreparedRound, type Deadline, type PreparedRoundContext } from './round.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';

/** A page of a round's recipients: institutions in id order, after `after`. */
export interface RoundBatchCursor extends BatchCursor {
  roundId: string;
}

export interface ReminderBatchInput extends RoundBatchCursor {
  reminder: Reminder;
  deadline: Deadline;
}

export type AnnouncementKind = 'deadline_extended' | 'deadline_changed' | 'round_cancelled';

export interface Announcement {
  kind: AnnouncementKind;
  /** Makes the occasion unique (e.g. the new deadline day). */
  occasion: string;
  previousAt?: string | undefined;
  /** Whether the deadline at `previousAt` was an estimate; absent in announcements from older histories. */
  previousEstimated?: boolean | undefined;
  reason?: string | undefined;
}

export interface AnnouncementBatchInput extends RoundBatchCursor {
  announcement: Announcement;
}

function mailContext({ round, ctx }: PreparedRoundContext, institution: InstitutionContact): RoundMailContext {
  return {
    institutionName: institution.name_zh,
    roundTitle: round.titleZh,
    programmeName: ctx.programme.nameZh,
    year: round.year,
    deadline: round.deadlineAt,
    deadlineEstimated: round.deadlineEstimated ?? false,
  };
}

/** The institutions a prepared round's call addresses (eligible on the day it opened). */
function addressees(db: Db, { round, ctx }: PreparedRoundContext) {
  return eligibleFor(db, ctx, shanghaiDayOf(round.opensAt));
}

/** The round's emails to institutions: the call notice, reminders, and announcements of changes. */
export function createRoundNoticeActivities({ db, outbox, publicBaseUrl }: ActivityDeps) {
  /** Emails the next page of a recipient list; safe to retry, the outbox never sends a key twice. */
  const sendBatch = async (
    input: RoundBatchCursor,
    recipients: ReturnType<typeof addressees>,
    purpose: string,
    render: (institution: InstitutionContact) => { key: string; email: RenderedEmail; dueAt?: Date },
  ): Promise<BatchResult> => {
    const rows = await page(contactsOf(recipients), 'i.id', input);
    return mailPage(outbox, { workflowId: input.roundId, purpose }, input, rows, (i) => ({
      ...render(i),
      recipient: i.contact_email,
    }));
  };

  return {
    /** The call notice, to every eligible institution. */
    async sendCallNotices(input: RoundBatchCursor): Promise<BatchResult> {
      const prepared = await loadPreparedRound(db, input.roundId);
      const { round, ctx } = prepared;
      // The industries a programme is restricted to, by their zh-CN names (the seeded catalogue).
      const names = ctx.rules.fields
        ? await db('industries')
            .whereIn('key', ctx.rules.fields)
            .select<{ key: string; name_zh: string }[]>('key', 'name_zh')
        : [];
      const rules = formalRules(ctx.programme.key, ctx.rules, new Map(names.map((n) => [n.key, n.name_zh])));
      return sendBatch(input, addressees(db, prepared), 'call_notice', (i) => ({
        key: `${round.id}/call_notice/${i.id}`,
        email: callNotice({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          ...mailContext(prepared, i),
          opensAt: round.opensAt,
          quotaNote: ctx.programme.quotaNote,
          formalRules: rules,
        }),
      }));
    },

    /** A reminder k working days before the deadline, only to eligible institutions with nothing submitted. */
    async sendCallReminders(input: ReminderBatchInput): Promise<BatchResult> {
      const prepared = await loadPreparedRound(db, input.roundId);
      const { round } = prepared;
      return sendBatch(input, withoutSubmission(db, addressees(db, prepared), round.id), 'call_reminder', (i) => ({
        key: `${round.id}/call_reminder/${input.deadline.day}/${input.reminder.k}/${i.id}`,
        email: callReminder({
          signInUrl: signInUrlOf({ publicBaseUrl }),
          ...mailContext(prepared, i),
          workingDaysLeft: input.reminder.k,
        }),
        dueAt: new Date(input.reminder.at),
      }));
    },

    /** Tells every eligible institution of a change to the round. */
    async sendRoundAnnouncement(input: AnnouncementBatchInput): Promise<BatchResult> {
      const prepared = await loadPreparedRound(db, input.roundId);
      const { round } = prepared;
      const a = input.announcement;
      return sendBatch(input, addressees(db, prepared), a.kind, (i) => {
        const base = mailContext(prepared, i);
        const email =
          a.kind === 'round_cancelled'
            ? roundCancelled({ ...base, reason: a.reason ?? round.cancelledReason ?? '' })
            : a.kind === 'deadline_extended'
              ? deadlineExtended({
                  ...base,
                  previous: new Date(a.previousAt!),
                  previousEstimated: a.previousEstimated ?? false,
                  reason: a.reason ?? '',
                })
              : // Before the flag, a recomputation only ever followed the first official arrangement of a year.
                deadlineChanged({
                  ...base,
                  previous: new Date(a.previousAt!),
                  previousEstimated: a.previousEstimated ?? true,
                });
        return { key: `${round.id}/${a.kind}/${a.occasion}/${i.id}`, email };
      });
    },
  };
}
