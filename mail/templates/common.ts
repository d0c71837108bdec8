import { formatDayZh, formatInstantZh, shanghaiDayOf } from '../../domain/calendar/index.js';

/**
 * Who issues every notice and whom its reader asks (config NOTICE_ISSUER, NOTICE_CONTACT_NAME,
 * NOTICE_CONTACT_PHONE; the sender's display name is `issuer` too). Printed at the foot of each notice by
 * {@link signNotice}.
 */
export interface Letterhead {
  /** The issuing body, e.g. 河南省高等教育学会产教融合管理服务中心: the signature and the sender's name. */
  issuer: string;
  /** The person a reader with a question asks, e.g. 王老师. */
  contactName: string;
  /** Their telephone, e.g. 0371-65902345. */
  contactPhone: string;
}

/** The defaults of `.env.example`: the centre that runs the procedures, and its office's contact. */
export const DEFAULT_LETTERHEAD: Letterhead = {
  issuer: '河南省高等教育学会产教融合管理服务中心',
  contactName: '王老师',
  contactPhone: '0371-65900000',
};

const AUTOMATED = '（本邮件由 ronghe 系统自动发送，请勿直接回复。）';

/** Where a notice sends the reader with a question: "请与本通知所列联系人联系。" (the contact is in the foot). */
export const CONTACT_CENTRE_ZH = '请与本通知所列联系人联系。';

/**
 * One email as a template renders it: a one-line subject and the plain-text body in zh-CN, without its foot
 * (the outbox adds issuer, date of issue and contact when it records the email: {@link signNotice}).
 */
export interface RenderedEmail {
  subject: string;
  text: string;
}

/**
 * A deadline as notices print it: "2027年3月26日 24:00", followed by "（预计，以国务院公布的当年节假日安排为准）"
 * when the working-day calendar it was counted on is still an estimate.
 */
export function deadlineZh(deadline: Date, estimated: boolean): string {
  return `${formatInstantZh(deadline)}${estimated ? '（预计，以国务院公布的当年节假日安排为准）' : ''}`;
}

/** "（预计）" after a subject whose deadline comes from an estimated calendar; empty otherwise. */
export function estimatedTag(estimated: boolean): string {
  return estimated ? '（预计）' : '';
}

/** "将于 <deadline> 截止，距截止还有 N 个工作日。" — the middle of every reminder; N counts working days. */
export function closesInZh(deadline: Date, estimated: boolean, workingDaysLeft: number): string {
  return `将于 ${deadlineZh(deadline, estimated)} 截止，距截止还有 ${workingDaysLeft} 个工作日。`;
}

/** "（82.5 分）" — a score rounded to at most two decimals, trailing zeros dropped; empty when there is none. */
export function scoreZh(score: number | null): string {
  return score === null ? '' : `（${Number(score.toFixed(2))} 分）`;
}

/** The salutation that opens a letter: "郑州大学：" and a blank line. */
export function greeting(addressee: string): string[] {
  return [`${addressee}：`, ''];
}

/**
 * Where the reader acts: `signInUrl` is the sign-in page under the configured public address
 * (`${PUBLIC_BASE_URL}/account/sign-in`). Every template that asks someone to act in the system takes it as data
 * and prints it (issue 15, point 4: no email says 请登录 ronghe 系统 without the address).
 */
export interface WhereToAct {
  signInUrl: string;
}

/** "登录地址：<url>" — the line that tells the reader where to go. */
export function signInLineZh(d: WhereToAct): string {
  return `登录地址：${d.signInUrl}`;
}

/** The whole body: the zh-CN lines, one per line (the foot is added by {@link signNotice}). */
export function body(lines: string[]): string {
  return lines.join('\n');
}

/** A body addressed to someone: {@link greeting}, then the lines. */
export function letter(addressee: string, lines: string[]): string {
  return body([...greeting(addressee), ...lines]);
}

/**
 * The notice as it is sent: `text`, then the issuing body, the date of issue (`issuedAt` as an Asia/Shanghai
 * day, "2027年4月6日"), the contact person and telephone, and the automated-mail note. The outbox signs every
 * email it records with the configured {@link Letterhead}, so no notice goes out without them.
 */
export function signNotice(text: string, letterhead: Letterhead, issuedAt: Date): string {
  return [
    text,
    '',
    letterhead.issuer,
    formatDayZh(shanghaiDayOf(issuedAt)),
    '',
    `联系人：${letterhead.contactName}，联系电话：${letterhead.contactPhone}`,
    AUTOMATED,
  ].join('\n');
}
