import { formatInstantZh } from '../../domain/calendar/index.js';
import {
  CONTACT_CENTRE_ZH,
  body,
  deadlineZh,
  estimatedTag,
  greeting,
  letter,
  type RenderedEmail,
  type WhereToAct,
} from './common.js';

/**
 * To the person who raised a named objection, once staff decide it; `entryTitle` is null for an objection
 * against the list as a whole.
 */
export function objectionResolved(d: {
  objectorName: string;
  publicityTitle: string;
  entryTitle: string | null;
  upheld: boolean;
  reason: string;
}): RenderedEmail {
  return {
    subject: `【异议处理结果】${d.publicityTitle}`,
    // Every empty line is dropped here, the one after the greeting included: the notice has always read so.
    text: body(
      [
        ...greeting(d.objectorName),
        `您对${d.publicityTitle}${d.entryTitle ? `中“${d.entryTitle}”` : ''}提出的异议已处理完毕。`,
        `处理结果：${d.upheld ? '异议成立' : '异议不成立'}`,
        `理由：${d.reason}`,
        d.upheld ? '相关项目已从名单中撤下，递补结果将另行公示。' : '',
        '感谢您对产教融合项目遴选工作的监督。',
      ].filter((l) => l !== ''),
    ),
  };
}

/** To the institution whose entry leaves the publicised list because an objection against it was upheld. */
export function entryRemoved(d: {
  institutionName: string;
  publicityTitle: string;
  entryTitle: string;
  reason: string;
}): RenderedEmail {
  return {
    subject: `【公示结果】“${d.entryTitle}”经异议核查撤出名单`,
    text: letter(d.institutionName, [
      `贵单位的“${d.entryTitle}”在${d.publicityTitle}期间收到实名异议，经核查异议成立，已撤出名单。`,
      `理由：${d.reason}`,
      `如有疑问，${CONTACT_CENTRE_ZH}`,
    ]),
  };
}

/** To staff when the publicity period ended at `endedAt` with `pending` objections still undecided. */
export function objectionsPending(
  d: WhereToAct & {
    publicityTitle: string;
    pending: number;
    endedAt: Date;
  },
): RenderedEmail {
  return {
    subject: `【待处理】${d.publicityTitle}尚有 ${d.pending} 件异议未处理`,
    text: body([
      `${d.publicityTitle}已于 ${formatInstantZh(d.endedAt)} 期满，尚有 ${d.pending} 件异议未处理。`,
      `异议处理完毕之前公示不能结束、结果不能认定，请尽快登录 ronghe 系统（${d.signInUrl}）处理。`,
    ]),
  };
}

/**
 * To each institution with an entry on a list a publicity period publishes (公示): the entry (`entryTitle`,
 * with its published `resultZh` if any), the first day (`firstDay`, formatted) and the end (`endsAt`, 24:00 of
 * the last working day; `estimated` when counted on an estimated calendar), and how objections are raised.
 */
export function publicityOpened(d: {
  institutionName: string;
  publicityTitle: string;
  entryTitle: string;
  resultZh: string | null;
  firstDay: string;
  endsAt: Date;
  estimated: boolean;
}): RenderedEmail {
  return {
    subject: `【公示通知】${d.publicityTitle}${estimatedTag(d.estimated)}`,
    text: letter(d.institutionName, [
      `${d.publicityTitle}现已开始，贵单位的“${d.entryTitle}”${d.resultZh ? `（${d.resultZh}）` : ''}列入公示名单。`,
      `公示期：自 ${d.firstDay} 起，至 ${deadlineZh(d.endsAt, d.estimated)} 止。`,
      '公示期间，任何单位和个人可通过 ronghe 系统公示页面实名提出异议；异议经核查处理后，结果另行通知。',
      '公示期满且无成立的异议，公示结果生效。',
    ]),
  };
}
