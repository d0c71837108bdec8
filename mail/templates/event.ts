import { formatInstantZh } from '../../domain/calendar/index.js';
import { letter, type RenderedEmail, type WhereToAct } from './common.js';

/** A roadshow or exhibition as its emails describe it, addressed to one invited institution. */
export interface EventMailContext {
  institutionName: string;
  /** 路演 / 展会 */
  kindZh: string;
  eventTitle: string;
  startsAt: Date;
  placeZh: string;
}

/** "时间：…（北京时间）" and "地点：…" on two lines. */
const when = (d: EventMailContext) => `时间：${formatInstantZh(d.startsAt)}（北京时间）\n地点：${d.placeZh}`;

/** To each invited institution: where and when, and how to answer (RSVP). */
export function eventInvitation(d: EventMailContext & WhereToAct): RenderedEmail {
  return {
    subject: `【邀请】${d.eventTitle}（${d.kindZh}）`,
    text: letter(d.institutionName, [
      `诚邀贵单位参加“${d.eventTitle}”${d.kindZh}并作展示。`,
      when(d),
      '',
      `请登录 ronghe 系统（${d.signInUrl}）确认是否参加。确认参加的单位将在活动前 7 天和前 1 天收到提醒。`,
    ]),
  };
}

/** To each institution that accepted, `daysBefore` days before the event (明天 when it is 1). */
export function eventReminder(d: EventMailContext & { daysBefore: number }): RenderedEmail {
  return {
    subject: `【提醒】${d.eventTitle}将于${d.daysBefore === 1 ? '明天' : `${d.daysBefore}天后`}举行`,
    text: letter(d.institutionName, [`贵单位已确认参加的“${d.eventTitle}”${d.kindZh}即将举行。`, when(d)]),
  };
}

/** To each invited institution when the event moves from `previousAt` at `previousPlaceZh` to a new time or place. */
export function eventMoved(
  d: EventMailContext & WhereToAct & { previousAt: Date; previousPlaceZh: string; reason: string },
): RenderedEmail {
  return {
    subject: `【时间地点变更】${d.eventTitle}改于${formatInstantZh(d.startsAt)}举行`,
    text: letter(d.institutionName, [
      `“${d.eventTitle}”${d.kindZh}原定于${formatInstantZh(d.previousAt)}在${d.previousPlaceZh}举行，现调整如下：`,
      when(d),
      `调整原因：${d.reason}`,
      '',
      `提醒将按新的时间发送。如因调整无法参加，请登录 ronghe 系统（${d.signInUrl}）告知。`,
    ]),
  };
}

/** To each invited institution when the event is cancelled, with the reason. */
export function eventCancelled(d: EventMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【取消通知】${d.eventTitle}取消举行`,
    text: letter(d.institutionName, [
      `原定于${formatInstantZh(d.startsAt)}在${d.placeZh}举行的“${d.eventTitle}”${d.kindZh}取消举行。`,
      `取消原因：${d.reason}`,
    ]),
  };
}
