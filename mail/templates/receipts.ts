import { formatInstantZh } from '../../domain/calendar/index.js';
import { CONTACT_CENTRE_ZH, letter, type RenderedEmail } from './common.js';

/**
 * To the person whose kept receipt (a request received while the workflow engine was out of reach, answered
 * "无需重复提交") was redelivered and not accepted: `refused` by the procedure with `reason` (the workflow's
 * message), or `failed` by a system error. `requestZh` names the request (`receiptRequestZh`), `receivedAt` is
 * the receipt time it was judged by (printed Asia/Shanghai), `receiptId` the Update id the person was given,
 * `about` what the request concerned (an application's title, a publicity period), when known.
 */
export function receiptNotAccepted(d: {
  addressee: string;
  requestZh: string;
  about?: string | undefined;
  receivedAt: Date;
  receiptId: string;
  outcome: 'refused' | 'failed';
  reason: string;
}): RenderedEmail {
  const refused = d.outcome === 'refused';
  return {
    subject: refused ? `【未予受理】您的“${d.requestZh}”请求未被受理` : `【未能办理】您的“${d.requestZh}”请求未能办理`,
    text: letter(d.addressee, [
      `您于 ${formatInstantZh(d.receivedAt)}（北京时间）通过 ronghe 系统提出的${d.about ? `关于${d.about}的` : ''}“${d.requestZh}”请求，`,
      '该请求当时未能即时办理，系统已按上述接收时间留存，并随后自动送交办理。',
      '',
      refused
        ? `经办理，该请求未予受理。原因：${d.reason}${/[。！？.!?]$/.test(d.reason) ? '' : '。'}`
        : '办理时系统出现错误，该请求未能办理（并非因请求内容不符合要求）。',
      '',
      `回执编号：${d.receiptId}`,
      '',
      `如有疑问，${CONTACT_CENTRE_ZH.replace(/。$/, '')}，并提供上述回执编号。`,
    ]),
  };
}
