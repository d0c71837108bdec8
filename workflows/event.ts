import {
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { EventReminder, EventSchedule } from '../activities/event.js';
import { formatInstantZh } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { RETRY } from './budget.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { StageKey } from './search-attributes.js';
import {
  type AttendanceRequest,
  changeEventUpdate,
  type EventChangeRequest,
  type EventInput,
  type EventMemory,
  type EventStage,
  getEventQuery,
  recordAttendanceUpdate,
  type RsvpRequest,
  rsvpUpdate,
} from './event.messages.js';
import { awaitOnTimeReceipts } from './receipts.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: RETRY });

/**
 * A showcase event (路演 roadshow, 展会 exhibition), id `event-<eventId>`: presenters are invited and answer
 * through Updates; those who confirmed are reminded 7 days and 1 day before at 09:00 Asia/Shanghai; staff may
 * move the event (everyone still expected is told; the reminders follow the new date, the old date's are never
 * sent) or cancel it; afterwards staff record attendance. Reminder times are computed in an activity.
 */
export async function eventWorkflow(input: EventInput): Promise<EventMemory> {
  const { eventId, compression } = input;
  const workflowId = workflowInfo().workflowId;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  const m: EventMemory = {
    stage: 'inviting',
    schedule: undefined,
    remindersSent: [],
  };
  // Reminders whose time has already passed when the date is set (an event set or moved close) are dropped.
  const plan = (s: EventSchedule): EventSchedule => {
    const now = Date.now();
    return { ...s, reminders: s.reminders.filter((r) => wall(r.at) > now) };
  };
  const setStage = (stage: EventStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [`event_${stage}`] });
  };
  const closed = () =>
    refusal(
      'EVENT_CLOSED',
      m.stage === 'cancelled'
        ? '活动已取消'
        : `活动已于 ${formatInstantZh(new Date(m.schedule?.startsAt ?? input.startsAt))} 开始，不再受理`,
    );

  /** Set once the event is being marked held: an answer is refused from then on (closed means closed). */
  let held = false;

  setHandler(getEventQuery, () => m);

  setHandler(rsvpUpdate, (req) => decide(decisions.recordRsvp, { ...req, eventId }), {
    validator: (req: RsvpRequest) => {
      // Answers may come while the invitations are still going out: the invitation rows exist already.
      const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
      const startsAt = Date.parse(m.schedule?.startsAt ?? input.startsAt);
      if ((m.stage !== 'scheduled' && m.stage !== 'inviting') || held || !(received < startsAt)) throw closed();
      if (req.response === 'decline' && !req.reason?.trim()) {
        throw refusal('VALIDATION_FAILED', '不能参加的，请说明原因');
      }
    },
  });

  setHandler(
    changeEventUpdate,
    async (req) => {
      const r = await decide(decisions.changeEvent, { ...req, eventId, workflowId });
      if (req.cancel) {
        setStage('cancelled');
      } else {
        m.schedule = plan({ startsAt: r.startsAt, placeZh: r.placeZh, version: r.version, reminders: r.reminders });
      }
      return r;
    },
    {
      validator: (req: EventChangeRequest) => {
        // While the invitations go out the change waits (the API retries a busy workflow).
        if (m.stage === 'inviting') throw busy('邀请正在发出，请稍后重试');
        if (m.stage !== 'scheduled' || held) throw closed();
        if (!req.cancel) {
          const now = calendarTimeFor(Date.now(), compression);
          if (req.startsAt && !(Date.parse(req.startsAt) > now)) {
            throw refusal('EVENT_TIME_INVALID', '新的活动时间须晚于当前时间');
          }
        }
      },
    },
  );

  let attendanceRecorded = false;
  setHandler(
    recordAttendanceUpdate,
    async (req) => {
      const r = await decide(decisions.recordAttendance, { ...req, eventId, workflowId });
      attendanceRecorded = true;
      return r;
    },
    {
      validator: (_req: AttendanceRequest) => {
        if (m.stage === 'cancelled') throw refusal('EVENT_CLOSED', '活动已取消');
        if (m.stage !== 'awaiting_attendance') throw refusal('EVENT_NOT_HELD', '活动尚未举行，不能登记出席情况');
      },
    },
  );

  m.schedule = plan(await acts.openEvent({ eventId, workflowId }));
  setStage('scheduled');

  while (m.stage === 'scheduled') {
    const s = m.schedule;
    const now = Date.now();
    const keyOf = (r: EventReminder) => `${r.at.slice(0, 10)}/${r.daysBefore}`;
    const next = s.reminders.find((r) => !m.remindersSent.includes(keyOf(r)));
    const startsAt = wall(s.startsAt);
    if (next && wall(next.at) <= now) {
      m.remindersSent.push(keyOf(next));
      await acts.sendEventReminder({ eventId, workflowId, version: s.version, reminder: next });
      continue;
    }
    if (now >= startsAt) {
      // Answers received in time but not yet delivered are waited for, then finish recording.
      await awaitOnTimeReceipts(
        { updates: [rsvpUpdate.name] },
        (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) < Date.parse(s.startsAt),
      );
      await condition(allHandlersFinished);
      if (m.stage !== 'scheduled' || m.schedule.version !== s.version) continue;
      // From here the event is held, whatever a receipt time says: no answer is recorded after it.
      held = true;
      await acts.markEventHeld({ eventId });
      setStage('awaiting_attendance');
      break;
    }
    const wakeAt = Math.min(next ? wall(next.at) : Infinity, startsAt);
    await condition(() => m.stage !== 'scheduled' || m.schedule!.version !== s.version, wakeAt - now);
  }

  if (m.stage === 'awaiting_attendance') {
    await condition(() => attendanceRecorded);
    setStage('closed');
  }
  await condition(allHandlersFinished);
  return m;
}
