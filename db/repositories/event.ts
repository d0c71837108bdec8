import type { Db } from '../knex.js';

/** 路演 (roadshow) or 展会 (exhibition). */
export type EventKind = 'roadshow' | 'exhibition';

/** A roadshow or exhibition (路演/展会), as the API shows it and its activities read it. */
export interface EventRow {
  id: string;
  kind: EventKind;
  titleZh: string;
  startsAt: Date;
  placeZh: string;
  /** `scheduled`, `held`, `closed` or `cancelled`. */
  status: string;
  /** Raised by each move, so that reminders for an earlier date are not sent. */
  version: number;
}

/** An invited presenter with its answer and where to write to it. */
export interface InviteeRow {
  institutionId: string;
  status: 'invited' | 'confirmed' | 'declined';
  institutionName: string;
  contactEmail: string;
}

interface RawEvent {
  id: string;
  kind: EventKind;
  title_zh: string;
  starts_at: Date;
  place_zh: string;
  status: string;
  version: number;
}

const eventColumns = ['id', 'kind', 'title_zh', 'starts_at', 'place_zh', 'status', 'version'] as const;

const toEvent = (e: RawEvent): EventRow => ({
  id: e.id,
  kind: e.kind,
  titleZh: e.title_zh,
  startsAt: e.starts_at,
  placeZh: e.place_zh,
  status: e.status,
  version: e.version,
});

/** The event; undefined when there is none. */
export async function findEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const e = await db('showcase_events')
    .where({ id: eventId })
    .first<RawEvent | undefined>(...eventColumns);
  return e ? toEvent(e) : undefined;
}

/** The event, its row locked (`FOR UPDATE`) until the transaction ends; it must exist. */
export async function lockEvent(trx: Db, eventId: string): Promise<EventRow> {
  return toEvent(
    await trx('showcase_events')
      .where({ id: eventId })
      .forUpdate()
      .first<RawEvent>(...eventColumns),
  );
}

/** Every invited presenter, in institution id order. */
export async function inviteesOf(db: Db, eventId: string): Promise<InviteeRow[]> {
  const rows = await db('event_invitations as v')
    .join('institutions as i', 'i.id', 'v.institution_id')
    .where('v.event_id', eventId)
    .orderBy('v.institution_id')
    .select<{ institution_id: string; status: InviteeRow['status']; name_zh: string; contact_email: string }[]>(
      'v.institution_id',
      'v.status',
      'i.name_zh',
      'i.contact_email',
    );
  return rows.map((r) => ({
    institutionId: r.institution_id,
    status: r.status,
    institutionName: r.name_zh,
    contactEmail: r.contact_email,
  }));
}

/**
 * Stores the presenter's answer with the instant it was received (ISO) and, for a decline, its reason,
 * replacing an answer received earlier — never a later one: the last answer *received* wins, so an answer
 * delivered late (a redelivered receipt, issue 13) is `superseded` by a newer one and the newer one's status
 * is returned. `not_invited` when the institution is not invited.
 */
export async function saveRsvp(
  trx: Db,
  rsvp: {
    eventId: string;
    institutionId: string;
    status: 'confirmed' | 'declined';
    respondedAt: string;
    declineReason: string | null;
  },
): Promise<{ kind: 'saved' } | { kind: 'superseded'; status: 'confirmed' | 'declined' } | { kind: 'not_invited' }> {
  const invitation = trx('event_invitations').where({ event_id: rsvp.eventId, institution_id: rsvp.institutionId });
  const updated = await invitation
    .clone()
    .where((q) => q.whereNull('responded_at').orWhere('responded_at', '<=', rsvp.respondedAt))
    .update({ status: rsvp.status, responded_at: rsvp.respondedAt, decline_reason: rsvp.declineReason });
  if (updated > 0) return { kind: 'saved' };
  const current = await invitation.clone().first<{ status: 'confirmed' | 'declined' } | undefined>('status');
  return current ? { kind: 'superseded', status: current.status } : { kind: 'not_invited' };
}

/** Moves the event to a new time and place, as its next version. */
export async function moveEvent(
  trx: Db,
  eventId: string,
  to: { startsAt: Date; place: string; version: number },
): Promise<void> {
  await trx('showcase_events')
    .where({ id: eventId })
    .update({ starts_at: to.startsAt, place_zh: to.place, version: to.version });
}

/** Cancels the event with the reason. */
export async function cancelEvent(trx: Db, eventId: string, reason: string): Promise<void> {
  await trx('showcase_events').where({ id: eventId }).update({ status: 'cancelled', cancelled_reason: reason });
}

/** A scheduled event whose start time has come is `held`. */
export async function setEventHeld(db: Db, eventId: string): Promise<void> {
  await db('showcase_events').where({ id: eventId, status: 'scheduled' }).update({ status: 'held' });
}

/** The institutions invited to the event. */
export async function invitedInstitutionIds(db: Db, eventId: string): Promise<string[]> {
  return (await db('event_invitations').where({ event_id: eventId }).pluck('institution_id')) as string[];
}

/**
 * Records who attended (every other invitation is marked absent) and closes the event, stamped now. Call inside
 * the attendance's transaction.
 */
export async function recordAttendanceAndClose(trx: Db, eventId: string, attended: string[]): Promise<void> {
  await trx('event_invitations')
    .where({ event_id: eventId })
    .update({ attended: trx.raw('institution_id = any(?)', [attended]) });
  await trx('showcase_events')
    .where({ id: eventId })
    .update({ status: 'closed', attendance_recorded_at: trx.fn.now() });
}
