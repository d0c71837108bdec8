import { log } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  cancelEvent,
  findEvent,
  invitedInstitutionIds,
  inviteesOf,
  lockEvent,
  moveEvent,
  recordAttendanceAndClose,
  saveRsvp,
  setEventHeld,
  type EventRow,
  type InviteeRow,
} from '../db/repositories/event.js';
import { addDays, formatShanghai, shanghaiDayOf, shanghaiInstant } from '../domain/calendar/index.js';
import {
  eventCancelled,
  eventInvitation,
  eventMoved,
  eventReminder,
  type EventMailContext,
} from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';
import { eventWorkflowId } from '../domain/workflow-ids.js';

/** Presenters who confirmed are reminded this many calendar days before the event, at 09:00 Asia/Shanghai. */
const EVENT_REMINDER_DAYS = [7, 1] as const;

export interface EventReminder {
  daysBefore: number;
  /** 09:00 Asia/Shanghai, ISO with +08:00. */
  at: string;
}

/** Where and when the event is, as of its latest move. */
export interface EventSchedule {
  startsAt: string;
  placeZh: string;
  version: number;
  reminders: EventReminder[];
}

export type RsvpResponse = 'confirm' | 'decline';

/** A presenter's answer as the event workflow accepted it, keyed by the Update that carries it. */
export interface RsvpInput extends DecisionKeyed {
  eventId: string;
  institutionId: string;
  response: RsvpResponse;
  reason?: string | undefined;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

/** Staff's move or cancellation as the event workflow accepted it, keyed by the Update that carries it. */
export interface EventChangeInput extends DecisionKeyed {
  eventId: string;
  workflowId: string;
  /** A move: the new time and/or place. */
  startsAt?: string | undefined;
  placeZh?: string | undefined;
  /** Or a cancellation. */
  cancel?: boolean | undefined;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/** Staff's attendance record as the event workflow accepted it, keyed by the Update that carries it. */
export interface AttendanceInput extends DecisionKeyed {
  eventId: string;
  workflowId: string;
  attended: string[];
  actor: string;
  requestId?: string | undefined;
}

const kindZh: Record<string, string> = { roadshow: '路演', exhibition: '展会' };

/** 09:00 Asia/Shanghai, k calendar days before the day the event starts. */
function eventReminders(startsAt: Date): EventReminder[] {
  const day = shanghaiDayOf(startsAt);
  return EVENT_REMINDER_DAYS.map((k) => ({ daysBefore: k, at: formatShanghai(shanghaiInstant(addDays(day, -k), 9)) }));
}

/**
 * The event the workflow acts on.
 *
 * @throws `ApplicationFailure` EVENT_NOT_FOUND (non-retryable) when there is no such event.
 */
async function loadEvent(db: Db, eventId: string): Promise<EventRow> {
  const e = await findEvent(db, eventId);
  if (!e) refuse('EVENT_NOT_FOUND', eventId);
  return e;
}

const scheduleOf = (e: EventRow): EventSchedule => ({
  startsAt: formatShanghai(e.startsAt),
  placeZh: e.placeZh,
  version: e.version,
  reminders: eventReminders(e.startsAt),
});

const mailContext = (e: EventRow, i: InviteeRow): EventMailContext => ({
  institutionName: i.institutionName,
  kindZh: kindZh[e.kind] ?? e.kind,
  eventTitle: e.titleZh,
  startsAt: e.startsAt,
  placeZh: e.placeZh,
});

/** A roadshow or exhibition (路演/展会): invitations, answers, reminders, moves, attendance. */
export function createEventActivities(deps: ActivityDeps) {
  const { db, outbox } = deps;
  const decision = decisionRecorder(deps);
  return {
    /** Invites every presenter (once each) and returns the schedule with its reminder times. */
    async openEvent(input: { eventId: string; workflowId: string }): Promise<EventSchedule> {
      const e = await loadEvent(db, input.eventId);
      for (const i of await inviteesOf(db, e.id)) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/event_invitation/${i.institutionId}`,
          workflowId: input.workflowId,
          purpose: 'event_invitation',
          recipient: i.contactEmail,
          ...eventInvitation({ ...mailContext(e, i), signInUrl: signInUrlOf(deps) }),
        });
      }
      return scheduleOf(e);
    },

    /**
     * A presenter's answer (a later answer replaces an earlier one until the event starts). A decision keyed by
     * its Update: a retry after the commit returns the first answer.
     *
     * @throws `NOT_INVITED`.
     */
    recordRsvp: decision(async (input: RsvpInput, { trx }): Promise<{ status: 'confirmed' | 'declined' }> => {
      const status = input.response === 'confirm' ? 'confirmed' : 'declined';
      const saved = await saveRsvp(trx, {
        eventId: input.eventId,
        institutionId: input.institutionId,
        status,
        respondedAt: input.receivedAt,
        declineReason: status === 'declined' ? (input.reason ?? null) : null,
      });
      if (saved.kind === 'not_invited') refuse('NOT_INVITED', '贵单位不在本次活动的邀请名单中');
      if (saved.kind === 'superseded') {
        // Received before the answer on record (delivered late): kept in the log, the later answer stands.
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: 'event.rsvp_superseded',
          subjectKind: 'event',
          subjectId: input.eventId,
          details: { institutionId: input.institutionId, receivedAt: input.receivedAt, response: input.response },
          requestId: input.requestId,
          workflowId: eventWorkflowId(input.eventId),
        });
        return { status: saved.status };
      }
      await recordAudit(trx, {
        actor: input.actor,
        role: 'applicant',
        action: status === 'confirmed' ? 'event.confirm' : 'event.decline',
        subjectKind: 'event',
        subjectId: input.eventId,
        reason: input.reason,
        details: { institutionId: input.institutionId, receivedAt: input.receivedAt },
        requestId: input.requestId,
        workflowId: eventWorkflowId(input.eventId),
      });
      log.info('rsvp recorded', { eventId: input.eventId, status });
      return { status };
    }),

    /** A reminder k days before, only to presenters who confirmed, once per date of the event. */
    async sendEventReminder(input: {
      eventId: string;
      workflowId: string;
      version: number;
      reminder: EventReminder;
    }): Promise<number> {
      const e = await loadEvent(db, input.eventId);
      if (e.status !== 'scheduled' || e.version !== input.version) return 0;
      const confirmed = (await inviteesOf(db, e.id)).filter((i) => i.status === 'confirmed');
      for (const i of confirmed) {
        await outbox.deliver({
          // Keyed by the reminder's day: a move within the same day does not remind again.
          idempotencyKey: `${input.workflowId}/event_reminder/${input.reminder.at.slice(0, 10)}/${input.reminder.daysBefore}/${i.institutionId}`,
          workflowId: input.workflowId,
          purpose: 'event_reminder',
          recipient: i.contactEmail,
          dueAt: new Date(input.reminder.at),
          ...eventReminder({ ...mailContext(e, i), daysBefore: input.reminder.daysBefore }),
        });
      }
      return confirmed.length;
    },

    /**
     * Staff move the event (a new time and/or place) or cancel it, with a reason. Everyone still expected —
     * confirmed, or not yet answered — is told; reminders follow the new date. A decision keyed by its Update:
     * a retry after the commit returns the first answer — the event is not moved again, nobody is told twice;
     * the notices are enqueued with the change and sent after its commit.
     */
    changeEvent: decision(async (input: EventChangeInput, tx): Promise<EventSchedule & { status: string }> => {
      const { trx } = tx;
      const before = await lockEvent(trx, input.eventId);
      if (input.cancel) await cancelEvent(trx, input.eventId, input.reason);
      else {
        await moveEvent(trx, input.eventId, {
          startsAt: input.startsAt ? new Date(input.startsAt) : before.startsAt,
          place: input.placeZh ?? before.placeZh,
          version: before.version + 1,
        });
      }
      const e = (await findEvent(trx, input.eventId))!;
      await recordAudit(trx, {
        actor: input.actor,
        role: 'staff',
        action: input.cancel ? 'event.cancel' : 'event.move',
        subjectKind: 'event',
        subjectId: input.eventId,
        reason: input.reason,
        details: input.cancel
          ? {}
          : {
              from: { startsAt: formatShanghai(before.startsAt), place: before.placeZh },
              to: { startsAt: formatShanghai(e.startsAt), place: e.placeZh },
              version: e.version,
            },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
      const told = (await inviteesOf(trx, e.id)).filter((i) => i.status !== 'declined');
      for (const i of told) {
        await tx.enqueue({
          idempotencyKey: input.cancel
            ? `${input.workflowId}/event_cancelled/${i.institutionId}`
            : `${input.workflowId}/event_moved/v${e.version}/${i.institutionId}`,
          workflowId: input.workflowId,
          purpose: input.cancel ? 'event_cancelled' : 'event_moved',
          recipient: i.contactEmail,
          ...(input.cancel
            ? eventCancelled({ ...mailContext(e, i), reason: input.reason })
            : eventMoved({
                signInUrl: signInUrlOf(deps),
                ...mailContext(e, i),
                previousAt: before.startsAt,
                previousPlaceZh: before.placeZh,
                reason: input.reason,
              })),
        });
      }
      log.info('event changed', {
        eventId: input.eventId,
        change: input.cancel ? 'cancel' : 'move',
        version: e.version,
      });
      return { ...scheduleOf(e), status: e.status };
    }),

    /** The event's start time has come. */
    async markEventHeld(input: { eventId: string }): Promise<void> {
      await setEventHeld(db, input.eventId);
    },

    /**
     * Afterwards, staff record who attended (every other invitation is marked absent). A decision keyed by its
     * Update: a retry after the commit returns the first answer.
     *
     * @throws `NOT_INVITED` when a presenter named was not invited.
     */
    recordAttendance: decision(
      async (input: AttendanceInput, { trx }): Promise<{ attended: number; absent: number }> => {
        const invited = await invitedInstitutionIds(trx, input.eventId);
        const unknown = input.attended.filter((i) => !invited.includes(i));
        if (unknown.length > 0) refuse('NOT_INVITED', `以下单位不在邀请名单中：${unknown.join('、')}`);
        await recordAttendanceAndClose(trx, input.eventId, input.attended);
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'event.attendance',
          subjectKind: 'event',
          subjectId: input.eventId,
          details: { attended: input.attended },
          requestId: input.requestId,
          workflowId: input.workflowId,
        });
        const counts = { attended: input.attended.length, absent: invited.length - input.attended.length };
        log.info('event attendance recorded', { eventId: input.eventId, ...counts });
        return counts;
      },
    ),
  };
}
