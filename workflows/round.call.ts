import type { Reminder } from '../domain/calendar/working-calendar.js';
import { formatInstantZh, shanghaiInstant } from '../domain/calendar/days.js';
import { calendarTimeFor, type TimeCompression } from '../domain/compressed-time.js';
import { refusal } from './failures.js';
import type { ExtendRequest, RoundMemory, RoundStage } from './round.messages.js';

/**
 * The call for applications' rules, as plain functions of the round's memory: how the call's Updates
 * (submission, withdrawal, extension, cancellation) are judged by the receipt time the API stamped against
 * the deadline the round holds, and which reminders of a deadline are still ahead. Each judgement returns
 * nothing or throws the refusal (an `ApplicationFailure` carrying an error code) the Update's validator
 * answers with; they run inside the workflow and stay deterministic.
 */

/** Stages after the call has closed: no cancellation, no extension, no submission. */
const PAST_CALL: readonly RoundStage[] = [
  'formal_check',
  'review',
  'shortlist_pending',
  'shortlist_confirmed',
  'publicity',
  'approved',
  'closed',
];

/** The round's fixed facts a judgement reads besides its memory. */
export interface CallFacts {
  /** When the call opens, calendar time in epoch milliseconds. */
  opensAtMs: number;
  compression: TimeCompression | undefined;
}

/**
 * A submission or withdrawal received at `receivedAt` (ISO, wall time as the API stamped it): refused with
 * `ROUND_CANCELLED`, `CALL_NOT_OPEN`, `VALIDATION_FAILED` (not an instant) or `DEADLINE_PASSED` — after the
 * deadline, or within it but once the grace window for recording has ended.
 */
export function judgeReceipt(m: RoundMemory, receivedAt: string, call: CallFacts): void {
  if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
  if (m.stage === 'preparing' || m.stage === 'scheduled') {
    throw refusal('CALL_NOT_OPEN', `申报将于 ${formatInstantZh(new Date(call.opensAtMs))} 开始`);
  }
  const received = calendarTimeFor(Date.parse(receivedAt), call.compression);
  if (Number.isNaN(received)) throw refusal('VALIDATION_FAILED', 'receivedAt is not an ISO instant');
  const deadline = new Date(Date.parse(m.deadline!.at));
  if (received > deadline.getTime()) {
    throw refusal(
      'DEADLINE_PASSED',
      `申报已于 ${formatInstantZh(deadline)} 截止（本次接收时间 ${formatInstantZh(new Date(received))}），逾期不予受理`,
    );
  }
  if (m.stage !== 'call_open' && m.stage !== 'call_closing') {
    throw refusal(
      'DEADLINE_PASSED',
      `申报已于 ${formatInstantZh(deadline)} 截止，截止后 ${Math.round(m.graceSeconds / 60)} 分钟的处理宽限期也已结束，不再受理`,
    );
  }
}

/**
 * Staff's extension: refused with `ROUND_CANCELLED`, `CALL_CLOSED` (received after the deadline, or the call no
 * longer open) or `DEADLINE_NOT_LATER` (the new deadline, 24:00 Asia/Shanghai of `deadlineDay`, is not later).
 */
export function judgeExtension(m: RoundMemory, req: ExtendRequest, compression: TimeCompression | undefined): void {
  if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
  const deadlineMs = () => Date.parse(m.deadline!.at);
  const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
  if (!m.deadline || (m.stage !== 'scheduled' && m.stage !== 'call_open') || received > deadlineMs()) {
    throw refusal('CALL_CLOSED', '申报已截止，不能再延期');
  }
  const requested = shanghaiInstant(req.deadlineDay, 24);
  if (Number.isNaN(requested.getTime()) || requested.getTime() <= deadlineMs()) {
    throw refusal(
      'DEADLINE_NOT_LATER',
      `新的截止时间 ${formatInstantZh(requested)} 须晚于当前截止时间 ${formatInstantZh(new Date(deadlineMs()))}`,
    );
  }
}

/** Staff's cancellation: refused with `ROUND_CANCELLED` or, once the call has closed, `ROUND_NOT_CANCELLABLE`. */
export function judgeCancellation(m: RoundMemory): void {
  if (m.stage === 'cancelled') throw refusal('ROUND_CANCELLED', '该申报批次已撤销');
  if (PAST_CALL.includes(m.stage)) {
    throw refusal('ROUND_NOT_CANCELLABLE', '申报已截止并进入形式审查，不能撤销');
  }
}

/**
 * The reminders of a new deadline still to send: those not already done for that deadline day (a reminder is
 * never sent twice), not before the call opens, and not already past (`wallNow`, wall-clock epoch ms;
 * `wall` turns a calendar ISO instant into wall-clock epoch ms).
 */
export function remindersAhead(
  m: RoundMemory,
  deadlineDay: string,
  reminders: Reminder[],
  opensAtMs: number,
  wall: (calendarIso: string) => number,
  wallNow: number,
): Reminder[] {
  return reminders.filter(
    (r) => !m.remindersDone.includes(`${deadlineDay}#${r.k}`) && Date.parse(r.at) >= opensAtMs && wall(r.at) > wallNow,
  );
}
