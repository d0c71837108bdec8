import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { addDays, formatShanghai, shanghaiDayOf, shanghaiInstant } from '../domain/calendar/index.js';
import {
  eventCancelled,
  eventInvitation,
  eventMoved,
  eventReminder,
  type EventMailContext,
} from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';
import { eventWorkflowId } from '../domain/workflow-ids.js';

/** Presenters who confirmed are reminded this many calendar days before the event, at 09:00 Asia/Shanghai. */
export const EVENT_REMINDER_DAYS = [7, 1] as const;

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

export interface RsvpInput {
  eventId: string;
  institutionId: string;
  response: RsvpResponse;
  reason?: string | undefined;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface EventChangeInput {
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

export interface AttendanceInput {
  eventId: string;
  workflowId: string;
  attended: string[];
  actor: string;
  requestId?: string | undefined;
}

const kindZh: Record<string, string> = { roadshow: '路演', exhibition: '展会' };

/** 09:00 Asia/Shanghai, k calendar days before the day the event starts. */
export function eventReminders(startsAt: Date): EventReminder[] {
  const day = shanghaiDayOf(startsAt);
  return EVENT_REMINDER_DAYS.map((k) => ({ daysBefore: k, at: formatShanghai(shanghaiInstant(addDays(day, -k), 9)) }));
}

interface EventRow {
  id: string;
  kind: string;
  title_zh: string;
  starts_at: Date;
  place_zh: string;
  status: string;
  version: number;
}

interface InviteeRow {
  institution_id: string;
  status: 'invited' | 'confirmed' | 'declined';
  name_zh: string;
  contact_email: string;
}

async function loadEvent(db: Db, eventId: string): Promise<EventRow> {
  const e = await db('showcase_events')
    .where({ id: eventId })
    .first<EventRow | undefined>('id', 'kind', 'title_zh', 'starts_at', 'place_zh', 'status', 'version');
  if (!e) refuse('EVENT_NOT_FOUND', eventId);
  return e;
}

const invitees = (db: Db, eventId: string) =>
  db('event_invitations as v')
    .join('institutions as i', 'i.id', 'v.institution_id')
    .where('v.event_id', eventId)
    .orderBy('v.institution_id')
    .select<InviteeRow[]>('v.institution_id', 'v.status', 'i.name_zh', 'i.contact_email');

const scheduleOf = (e: EventRow): EventSchedule => ({
  startsAt: formatShanghai(e.starts_at),
  placeZh: e.place_zh,
  version: e.version,
  reminders: eventReminders(e.starts_at),
});

const mailContext = (e: EventRow, i: InviteeRow): EventMailContext => ({
  institutionName: i.name_zh,
  kindZh: kindZh[e.kind] ?? e.kind,
  eventTitle: e.title_zh,
  startsAt: e.starts_at,
  placeZh: e.place_zh,
});

export function createEventActivities({ db, outbox }: ActivityDeps) {
  return {
    /** Invites every presenter (once each) and returns the schedule with its reminder times. */
    async openEvent(input: { eventId: string; workflowId: string }): Promise<EventSchedule> {
      const e = await loadEvent(db, input.eventId);
      for (const i of await invitees(db, e.id)) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/event_invitation/${i.institution_id}`,
          workflowId: input.workflowId,
          purpose: 'event_invitation',
          recipient: i.contact_email,
          ...eventInvitation(mailContext(e, i)),
        });
      }
      return scheduleOf(e);
    },

    /** A presenter's answer (a later answer replaces an earlier one until the event starts). */
    async recordRsvp(input: RsvpInput): Promise<{ status: 'confirmed' | 'declined' }> {
      const status = input.response === 'confirm' ? 'confirmed' : 'declined';
      return db.transaction(async (trx) => {
        const updated = await trx('event_invitations')
          .where({ event_id: input.eventId, institution_id: input.institutionId })
          .update({
            status,
            responded_at: input.receivedAt,
            decline_reason: status === 'declined' ? (input.reason ?? null) : null,
          });
        if (updated === 0) refuse('NOT_INVITED', '贵单位不在本次活动的邀请名单中');
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
        return { status };
      });
    },

    /** A reminder k days before, only to presenters who confirmed, once per date of the event. */
    async sendEventReminder(input: {
      eventId: string;
      workflowId: string;
      version: number;
      reminder: EventReminder;
    }): Promise<number> {
      const e = await loadEvent(db, input.eventId);
      if (e.status !== 'scheduled' || e.version !== input.version) return 0;
      const confirmed = (await invitees(db, e.id)).filter((i) => i.status === 'confirmed');
      for (const i of confirmed) {
        await outbox.deliver({
          // Keyed by the reminder's day: a move within the same day does not remind again.
          idempotencyKey: `${input.workflowId}/event_reminder/${input.reminder.at.slice(0, 10)}/${input.reminder.daysBefore}/${i.institution_id}`,
          workflowId: input.workflowId,
          purpose: 'event_reminder',
          recipient: i.contact_email,
          dueAt: new Date(input.reminder.at),
          ...eventReminder({ ...mailContext(e, i), daysBefore: input.reminder.daysBefore }),
        });
      }
      return confirmed.length;
    },

    /**
     * Staff move the event (a new time and/or place) or cancel it, with a reason. Everyone still expected —
     * confirmed, or not yet answered — is told; reminders follow the new date.
     */
    async changeEvent(input: EventChangeInput): Promise<EventSchedule & { status: string }> {
      const e = await db.transaction(async (trx) => {
        const before = await trx('showcase_events')
          .where({ id: input.eventId })
          .forUpdate()
          .first<EventRow>('id', 'kind', 'title_zh', 'starts_at', 'place_zh', 'status', 'version');
        await trx('showcase_events')
          .where({ id: input.eventId })
          .update(
            input.cancel
              ? { status: 'cancelled', cancelled_reason: input.reason }
              : {
                  starts_at: input.startsAt ? new Date(input.startsAt) : before.starts_at,
                  place_zh: input.placeZh ?? before.place_zh,
                  version: before.version + 1,
                },
          );
        const e = await trx('showcase_events')
          .where({ id: input.eventId })
          .first<EventRow>('id', 'kind', 'title_zh', 'starts_at', 'place_zh', 'status', 'version');
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
                from: { startsAt: formatShanghai(before.starts_at), place: before.place_zh },
                to: { startsAt: formatShanghai(e.starts_at), place: e.place_zh },
                version: e.version,
              },
          requestId: input.requestId,
          workflowId: input.workflowId,
        });
        const told = (await invitees(trx, e.id)).filter((i) => i.status !== 'declined');
        for (const i of told) {
          await outbox.enqueue(
            {
              idempotencyKey: input.cancel
                ? `${input.workflowId}/event_cancelled/${i.institution_id}`
                : `${input.workflowId}/event_moved/v${e.version}/${i.institution_id}`,
              workflowId: input.workflowId,
              purpose: input.cancel ? 'event_cancelled' : 'event_moved',
              recipient: i.contact_email,
              ...(input.cancel
                ? eventCancelled({ ...mailContext(e, i), reason: input.reason })
                : eventMoved({
                    ...mailContext(e, i),
                    previousAt: before.starts_at,
                    previousPlaceZh: before.place_zh,
                    reason: input.reason,
                  })),
            },
            trx,
          );
        }
        return e;
      });
      await outbox.deliverOwed({
        workflowId: input.workflowId,
        purpose: input.cancel ? 'event_cancelled' : 'event_moved',
      });
      return { ...scheduleOf(e), status: e.status };
    },

    /** The event's start time has come. */
    async markEventHeld(input: { eventId: string }): Promise<void> {
      await db('showcase_events').where({ id: input.eventId, status: 'scheduled' }).update({ status: 'held' });
    },

    /** Afterwards, staff record who attended (every other invitation is marked absent). */
    async recordAttendance(input: AttendanceInput): Promise<{ attended: number; absent: number }> {
      return db.transaction(async (trx) => {
        const invited = (await trx('event_invitations')
          .where({ event_id: input.eventId })
          .pluck('institution_id')) as string[];
        const unknown = input.attended.filter((i) => !invited.includes(i));
        if (unknown.length > 0) refuse('NOT_INVITED', `以下单位不在邀请名单中：${unknown.join('、')}`);
        await trx('event_invitations')
          .where({ event_id: input.eventId })
          .update({ attended: trx.raw('institution_id = any(?)', [input.attended]) });
        await trx('showcase_events')
          .where({ id: input.eventId })
          .update({ status: 'closed', attendance_recorded_at: trx.fn.now() });
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
        return { attended: input.attended.length, absent: invited.length - input.attended.length };
      });
    },
  };
}
