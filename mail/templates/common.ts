import { formatInstantZh } from '../../domain/calendar/index.js';

/** The centre that runs the procedures: it signs every notice and answers questions about them. */
const CENTRE_ZH = '河南省高等教育学会产教融合管理服务中心';

/** Sender lines shown under every notice. */
const SIGNATURE = `河南省教育厅\n${CENTRE_ZH}`;
const AUTOMATED = '（本邮件由 ronghe 系统自动发送，请勿直接回复。）';

/** Where a notice sends the reader with a question: "请与河南省高等教育学会产教融合管理服务中心联系。" */
export const CONTACT_CENTRE_ZH = `请与${CENTRE_ZH}联系。`;

/** One email as the outbox stores it: a one-line subject and a plain-text body (zh-CN, then one English line). */
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

/** The whole body: the zh-CN lines, the signature, the automated-mail note, and one English summary line. */
export function body(lines: string[], english: string): string {
  return [...lines, '', SIGNATURE, AUTOMATED, '', english].join('\n');
}

/** A body addressed to someone: {@link greeting}, then the lines, then the footer of {@link body}. */
export function letter(addressee: string, lines: string[], english: string): string {
  return body([...greeting(addressee), ...lines], english);
}
