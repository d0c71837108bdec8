import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collegeEmail, collegeId } from '../../db/seeds/reference-data.js';
import { eventWorkflowId } from '../../domain/workflow-ids.js';
import { rsvpUpdate } from '../../workflows/event.messages.js';
import { recordHistories } from '../support/record-histories.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * A showcase event over real calendar time (time-skipping server, the real API, PostgreSQL and maildev):
 * presenters confirm or decline, the event is moved once, and reminders go 7 days and 1 day before the new
 * date at 09:00 Asia/Shanghai, only to those who confirmed, each exactly once; a cancelled event reminds no one.
 */
const TASK_QUEUE = 'ronghe-event-ts';

let stack: TimeSkippingStack;
let staff: string;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };

interface Presenter {
  id: string;
  email: string;
  token: string;
}

async function presenter(university: string, college: string): Promise<Presenter> {
  const id = collegeId(university, college);
  return { id, email: collegeEmail(university, college), token: await stack.token({ role: 'applicant', id }) };
}

/** Emails of one purpose for one event: "recipient dueAt" (the due time of reminders), sorted. */
async function sent(eventId: string, purpose: string): Promise<string[]> {
  const rows = await stack.database
    .db('email_outbox')
    .where({ workflow_id: `event-${eventId}`, purpose, status: 'sent' })
    .select<{ recipient: string; due_at: Date | null }[]>('recipient', 'due_at');
  return rows.map((r) => `${r.recipient}${r.due_at ? ` ${r.due_at.toISOString()}` : ''}`).sort();
}

const rsvp = (eventId: string, p: Presenter, body: Record<string, unknown>) =>
  stack.request<Problem & { status: string }>('POST', `/api/events/${eventId}/rsvp`, { token: p.token, body });

describe('a showcase event (time-skipping server)', () => {
  it('confirmations and declines, one move, reminders 7 and 1 days before the new date only to those confirmed, attendance afterwards', async () => {
    const [p1, p2, p3, p4] = await Promise.all([
      presenter('zzu', 'cs'),
      presenter('henu', 'cs'),
      presenter('hpu', 'energy'),
      presenter('haust', 'vehicle'),
    ]);
    const all = [p1, p2, p3, p4];
    await stack.skipTo('2027-06-01T10:00:00+08:00');
    const created = await stack.request<{ eventId: string; version: number } & Problem>('POST', '/api/events', {
      token: staff,
      body: {
        kind: 'roadshow',
        title: '2027年产教融合典型案例路演',
        startsAt: '2027-06-20T09:30:00+08:00',
        place: '郑州国际会展中心 2 号馆',
        presenters: all.map((p) => p.id),
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { eventId } = created.body;
    await eventually(async () => ((await sent(eventId, 'event_invitation')).length === 4 ? true : undefined));
    expect(await sent(eventId, 'event_invitation')).toEqual(all.map((p) => p.email).sort());

    // Answers: P1 and P3 confirm; P2 declines (a reason is required); P4 does not answer yet.
    expect((await rsvp(eventId, p1, { response: 'confirm' })).status).toBe(200);
    const noReason = await rsvp(eventId, p2, { response: 'decline' });
    expect(noReason.status).toBe(422);
    expect((await rsvp(eventId, p2, { response: 'decline', reason: '当日另有教学评估安排' })).status).toBe(200);
    expect((await rsvp(eventId, p3, { response: 'confirm' })).status).toBe(200);
    const stranger = await stack.request<Problem>('POST', `/api/events/${eventId}/rsvp`, {
      token: await stack.token({ role: 'applicant', id: collegeId('zzu', 'mech') }),
      body: { response: 'confirm' },
    });
    expect(stranger.status).toBe(403);
    expect(stranger.body.code).toBe('NOT_INVITED');

    // The event is moved once, a week later and to another hall: those still expected are told.
    await stack.skipTo('2027-06-05T10:00:00+08:00');
    const past = await stack.request<Problem>('PUT', `/api/events/${eventId}`, {
      token: staff,
      body: { startsAt: '2027-06-04T09:00:00+08:00', reason: '时间写错了' },
    });
    expect(past.status).toBe(422);
    expect(past.body.code).toBe('EVENT_TIME_INVALID');
    const moved = await stack.request<{ startsAt: string; place: string; version: number }>(
      'PUT',
      `/api/events/${eventId}`,
      {
        token: staff,
        body: { startsAt: '2027-06-27T14:00:00+08:00', place: '河南省科技馆报告厅', reason: '与省级会议时间冲突' },
      },
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({
      startsAt: '2027-06-27T14:00:00+08:00',
      place: '河南省科技馆报告厅',
      version: 2,
    });
    await eventually(async () => ((await sent(eventId, 'event_moved')).length === 3 ? true : undefined));
    expect(await sent(eventId, 'event_moved')).toEqual([p1, p3, p4].map((p) => p.email).sort());
    // P4 confirms after the move.
    await stack.skipTo('2027-06-10T10:00:00+08:00');
    expect((await rsvp(eventId, p4, { response: 'confirm' })).status).toBe(200);

    // The old date's reminders (06-13 and 06-19 at 09:00) never go out.
    await stack.skipTo('2027-06-19T12:00:00+08:00');
    expect(await sent(eventId, 'event_reminder')).toEqual([]);

    // 7 days before the new date, at 09:00: P1, P3 and P4.
    await stack.skipTo('2027-06-20T08:59:00+08:00');
    expect(await sent(eventId, 'event_reminder')).toEqual([]);
    await stack.skipTo('2027-06-20T09:01:00+08:00');
    const week = [p1, p3, p4].map((p) => `${p.email} 2027-06-20T01:00:00.000Z`).sort();
    await eventually(async () => ((await sent(eventId, 'event_reminder')).length === 3 ? true : undefined));
    expect(await sent(eventId, 'event_reminder')).toEqual(week);

    // P3 withdraws; it is not reminded the day before.
    await stack.skipTo('2027-06-22T10:00:00+08:00');
    expect((await rsvp(eventId, p3, { response: 'decline', reason: '展示负责人出国交流' })).status).toBe(200);
    // Its earlier confirmation, received the day before but delivered only now (a receipt redelivered after an
    // outage), does not overwrite the later decline: the last answer received wins.
    const redelivered = await stack.env.client.workflow.getHandle(eventWorkflowId(eventId)).executeUpdate(rsvpUpdate, {
      args: [
        {
          institutionId: p3.id,
          response: 'confirm',
          receivedAt: '2027-06-21T02:00:00.000Z',
          actor: `applicant:${p3.id}`,
        },
      ],
      updateId: 'receipt/p3-confirm-redelivered',
    });
    expect(redelivered).toEqual({ status: 'declined' });
    expect(
      await stack.database.db('event_invitations').where({ event_id: eventId, institution_id: p3.id }).first('status'),
    ).toEqual({ status: 'declined' });
    const early = await stack.request<Problem>('POST', `/api/events/${eventId}/attendance`, {
      token: staff,
      body: { attended: [p1.id] },
    });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('EVENT_NOT_HELD');
    // A later hour the same day: those still expected are told; the reminders already sent are not repeated.
    const later = await stack.request<{ startsAt: string; version: number }>('PUT', `/api/events/${eventId}`, {
      token: staff,
      body: { startsAt: '2027-06-27T15:30:00+08:00', reason: '开幕式延后' },
    });
    expect(later.body).toMatchObject({ startsAt: '2027-06-27T15:30:00+08:00', version: 3 });
    await eventually(async () => ((await sent(eventId, 'event_moved')).length === 5 ? true : undefined));
    expect(await sent(eventId, 'event_moved')).toEqual([p1.email, p1.email, p3.email, p4.email, p4.email].sort());
    expect(await sent(eventId, 'event_reminder')).toEqual(week);

    await stack.skipTo('2027-06-26T08:59:00+08:00');
    expect(await sent(eventId, 'event_reminder')).toEqual(week);
    await stack.skipTo('2027-06-26T09:01:00+08:00');
    const day = [p1, p4].map((p) => `${p.email} 2027-06-26T01:00:00.000Z`);
    await eventually(async () => ((await sent(eventId, 'event_reminder')).length === 5 ? true : undefined));
    expect(await sent(eventId, 'event_reminder')).toEqual([...week, ...day].sort());

    // After the start: answers are refused; staff record attendance and the event closes.
    await stack.skipTo('2027-06-27T18:00:00+08:00');
    const late = await rsvp(eventId, p2, { response: 'confirm' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('EVENT_CLOSED');
    const attendance = await stack.request<{
      status: string;
      invitations: { institutionId: string; status: string; attended: boolean | null; declineReason: string | null }[];
    }>('POST', `/api/events/${eventId}/attendance`, { token: staff, body: { attended: [p1.id, p4.id] } });
    expect(attendance.status, JSON.stringify(attendance.body)).toBe(200);
    expect(attendance.body.status).toBe('closed');
    expect(attendance.body.invitations.map((i) => [i.institutionId, i.status, i.attended])).toEqual(
      [
        [p1.id, 'confirmed', true],
        [p2.id, 'declined', false],
        [p3.id, 'declined', false],
        [p4.id, 'confirmed', true],
      ].sort(),
    );
    await eventually(async () =>
      (await stack.env.client.workflow.getHandle(`event-${eventId}`).describe()).status.name === 'COMPLETED'
        ? true
        : undefined,
    );

    // Each reminder exactly once in the sink too; a presenter sees only its own invitation.
    const inbox = (await stack.mailbox.list()).filter((m) => m.purpose === 'event_reminder');
    expect(inbox.map((m) => m.to).sort()).toEqual([p1.email, p1.email, p3.email, p4.email, p4.email].sort());
    // Every answer, move and the attendance was crashed once after its commit (the default fault): each was
    // recorded once (the audit below, version 3 after two moves), and each move's notices went out once.
    expect(stack.crashedDecisions).toMatchObject({ recordRsvp: 6, changeEvent: 2, recordAttendance: 1 });
    const movedMail = (await stack.mailbox.list()).filter((m) => m.purpose === 'event_moved');
    expect(movedMail.map((m) => m.to).sort()).toEqual([p1.email, p1.email, p3.email, p4.email, p4.email].sort());
    expect(
      await stack.database
        .db('email_outbox')
        .where({ workflow_id: `event-${eventId}`, purpose: 'event_moved' })
        .pluck('status'),
    ).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    const own = await stack.request<{ invitations: { institutionId: string }[] }>('GET', `/api/events/${eventId}`, {
      token: p2.token,
    });
    expect(own.body.invitations.map((i) => i.institutionId)).toEqual([p2.id]);
    const audit = await stack.database
      .db('audit_events')
      .where({ subject_kind: 'event', subject_id: eventId })
      .orderBy('id')
      .pluck('action');
    expect(audit).toEqual([
      'event.schedule',
      'event.confirm',
      'event.rsvp_refused',
      'event.decline',
      'event.confirm',
      'event.rsvp_refused',
      'event.move',
      'event.confirm',
      'event.decline',
      'event.rsvp_superseded',
      'event.move',
      'event.rsvp_refused',
      'event.attendance',
    ]);
    await recordHistories(stack.env.client, { 'event-roadshow': `event-${eventId}` });
  });

  it('a cancelled event tells those expected and reminds no one', async () => {
    const [p1, p2] = await Promise.all([presenter('zzu', 'mat'), presenter('henu', 'pharm')]);
    await stack.skipTo('2027-07-01T10:00:00+08:00');
    const created = await stack.request<{ eventId: string }>('POST', '/api/events', {
      token: staff,
      body: {
        kind: 'exhibition',
        title: '2027年产教融合成果展',
        startsAt: '2027-07-15T09:00:00+08:00',
        place: '洛阳会展中心',
        presenters: [p1.id, p2.id],
      },
    });
    expect(created.status).toBe(201);
    const { eventId } = created.body;
    const confirmed = await rsvp(eventId, p1, { response: 'confirm' });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    await stack.skipTo('2027-07-02T10:00:00+08:00');
    const cancelled = await stack.request<{ status: string }>('PUT', `/api/events/${eventId}`, {
      token: staff,
      body: { cancel: true, reason: '场馆临时检修' },
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await eventually(async () => ((await sent(eventId, 'event_cancelled')).length === 2 ? true : undefined));
    expect(await sent(eventId, 'event_cancelled')).toEqual([p1.email, p2.email].sort());
    // The cancellation was crashed once after its commit: recorded once, each notice sent once.
    expect(stack.crashedDecisions).toMatchObject({ recordRsvp: 7, changeEvent: 3 });
    const cancelMail = (await stack.mailbox.list()).filter((m) => m.purpose === 'event_cancelled');
    expect(cancelMail.map((m) => m.to).sort()).toEqual([p1.email, p2.email].sort());
    expect(
      await stack.database
        .db('email_outbox')
        .where({ workflow_id: `event-${eventId}` })
        .whereNot({ status: 'sent' })
        .count('* as n'),
    ).toEqual([{ n: 0 }]);
    expect(
      await stack.database
        .db('audit_events')
        .where({ subject_kind: 'event', subject_id: eventId, action: 'event.cancel' })
        .count('* as n'),
    ).toEqual([{ n: 1 }]);
    const again = await stack.request<Problem>('PUT', `/api/events/${eventId}`, {
      token: staff,
      body: { startsAt: '2027-07-20T09:00:00+08:00', reason: '改期' },
    });
    expect(again.status).toBe(409);
    await stack.skipTo('2027-07-16T10:00:00+08:00');
    expect(await sent(eventId, 'event_reminder')).toEqual([]);
    await recordHistories(stack.env.client, { 'event-exhibition-cancelled': `event-${eventId}` });
  });

  it.each([
    ['an empty showcase', 'create', { showcaseId: '' }, 'VALIDATION_FAILED', 'showcaseId', '所属年度成果推广'],
    ['a malformed showcase', 'create', { showcaseId: 'x' }, 'VALIDATION_FAILED', 'showcaseId', '所属年度成果推广'],
    [
      'an unknown showcase',
      'create',
      { showcaseId: 'showcase-2031' },
      'VALIDATION_FAILED',
      'showcaseId',
      '所属年度成果推广 showcase-2031 不存在',
    ],
    ['an empty presenter', 'create', { presenters: [''] }, 'VALIDATION_FAILED', 'presenters.0', ''],
    [
      'an unknown presenter',
      'create',
      { presenters: ['zzu-cs', 'no-such-college'] },
      'INSTITUTION_NOT_FOUND',
      'presenters.1',
      '展示单位 no-such-college 不存在',
    ],
    [
      'an unknown attendee',
      'attendance',
      { attended: ['no-such-college'] },
      'INSTITUTION_NOT_FOUND',
      'attended.0',
      '出席单位 no-such-college 不存在',
    ],
  ] as const)(
    'refuses %s with 422 naming the field, before any workflow starts or row is written',
    async (_what, route, fields, code, path, detail) => {
      const eventsBefore = await stack.database.db('showcase_events').count<{ n: number }[]>('* as n');
      const anEvent = await stack.database.db('showcase_events').first<{ id: string } | undefined>('id');
      const res =
        route === 'create'
          ? await stack.request<Problem & { errors: { path: string }[] }>('POST', '/api/events', {
              token: staff,
              body: {
                kind: 'roadshow',
                title: '2099年产教融合典型案例路演',
                startsAt: '2099-06-20T09:30:00+08:00',
                place: '郑州国际会展中心 2 号馆',
                presenters: ['zzu-cs'],
                ...fields,
              },
            })
          : await stack.request<Problem & { errors: { path: string }[] }>(
              'POST',
              `/api/events/${anEvent!.id}/attendance`,
              { token: staff, body: fields },
            );
      expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([422, code]);
      expect(res.body.errors.map((e) => e.path)).toContain(path);
      expect(res.body.detail).toContain(detail);
      expect(await stack.database.db('showcase_events').count<{ n: number }[]>('* as n')).toEqual(eventsBefore);
    },
  );
});
