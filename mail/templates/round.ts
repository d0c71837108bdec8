import { formatInstantZh, formatShanghai } from '../../domain/calendar/index.js';
import type { FormalRule } from '../../domain/applications.js';
import { CONTACT_CENTRE_ZH, closesInZh, deadlineZh, estimatedTag, letter, type RenderedEmail } from './common.js';

/** What every notice of a call for applications says about the round, addressed to one institution. */
export interface RoundMailContext {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  year: number;
  deadline: Date;
  deadlineEstimated: boolean;
}

/**
 * The formal check's rules as the call notice lists them (`formalRules`), grouped by when each is judged: those
 * refused at submission, those checked at submission and judged again after the deadline, those judged only then.
 */
function formalRulesZh(rules: readonly FormalRule[]): string[] {
  const groups: [FormalRule['judged'], string][] = [
    ['submission', '提交时即行检查，不符合的不予受理：'],
    ['both', '提交时检查，截止后形式审查时按届时记录再行判定：'],
    ['formal_check', '截止后形式审查时判定：'],
  ];
  let n = 0;
  return groups.flatMap(([judged, heading]) => {
    const inGroup = rules.filter((r) => r.judged === judged);
    const items = inGroup.map((r) => `  ${++n}. ${r.textZh}${n === rules.length ? '。' : '；'}`);
    return inGroup.length === 0 ? [] : [heading, ...items];
  });
}

/**
 * To every eligible institution when a round opens: programme, quota, opening and closing times, and the formal
 * check's rules (`formalRules`: what is refused at submission and what is judged only after the deadline).
 */
export function callNotice(
  d: RoundMailContext & { opensAt: Date; quotaNote: string; formalRules: readonly FormalRule[] },
): RenderedEmail {
  return {
    subject: `【申报通知】${d.roundTitle}${estimatedTag(d.deadlineEstimated)}`,
    text: letter(
      d.institutionName,
      [
        `根据《河南省本科高等学校深化产教融合促进高质量发展行动计划》（教高〔2022〕52号），现启动${d.roundTitle}工作。`,
        '',
        `项目类别：${d.programmeName}（${d.quotaNote}）`,
        `申报开始：${formatInstantZh(d.opensAt)}`,
        `申报截止：${deadlineZh(d.deadline, d.deadlineEstimated)}`,
        '',
        '请登录 ronghe 系统填报并提交申报材料。截止前可修改或撤回；以系统记录的接收时间为准，逾期不予受理。',
        '',
        '形式审查要求：',
        ...formalRulesZh(d.formalRules),
      ],
      `Call for applications: ${d.programmeName} ${d.year}, closing ${formatShanghai(d.deadline)}.`,
    ),
  };
}

/** To an institution that has submitted nothing yet, `workingDaysLeft` working days before the deadline. */
export function callReminder(d: RoundMailContext & { workingDaysLeft: number }): RenderedEmail {
  return {
    subject: `【申报提醒】${d.roundTitle}将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.deadlineEstimated)}`,
    text: letter(
      d.institutionName,
      [
        `${d.roundTitle}${closesInZh(d.deadline, d.deadlineEstimated, d.workingDaysLeft)}`,
        '系统显示贵单位尚未提交申报。如需申报，请在截止前登录 ronghe 系统提交；已保存的草稿不视为提交。',
      ],
      `Reminder: ${d.programmeName} ${d.year} closes ${formatShanghai(d.deadline)}; nothing submitted yet.`,
    ),
  };
}

/** To every invited institution when staff extend the deadline (`previous` → `deadline`), with the reason. */
export function deadlineExtended(d: RoundMailContext & { previous: Date; reason: string }): RenderedEmail {
  return {
    subject: `【延期通知】${d.roundTitle}截止时间延长至${formatInstantZh(d.deadline)}${estimatedTag(d.deadlineEstimated)}`,
    text: letter(
      d.institutionName,
      [
        `${d.roundTitle}的申报截止时间由 ${formatInstantZh(d.previous)} 延长至 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
        `延期原因：${d.reason}`,
        '已提交的申报继续有效；截止前仍可修改、重新提交或撤回。',
      ],
      `Deadline extended: ${d.programmeName} ${d.year} now closes ${formatShanghai(d.deadline)}.`,
    ),
  };
}

/** To every invited institution when the official holiday arrangement moves an estimated deadline (only later). */
export function deadlineChanged(d: RoundMailContext & { previous: Date }): RenderedEmail {
  return {
    subject: `【截止时间调整】${d.roundTitle}截止时间调整为${formatInstantZh(d.deadline)}`,
    text: letter(
      d.institutionName,
      [
        `根据国务院办公厅公布的节假日安排，${d.roundTitle}的截止时间由 ${formatInstantZh(d.previous)}（预计）调整为 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
        '截止时间只会推后、不会提前。',
      ],
      `Deadline confirmed by the official holiday arrangement: ${formatShanghai(d.deadline)}.`,
    ),
  };
}

/** To every invited institution when staff cancel the round, with the reason. */
export function roundCancelled(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { reason: string },
): RenderedEmail {
  return {
    subject: `【撤销通知】${d.roundTitle}已撤销`,
    text: letter(
      d.institutionName,
      [`${d.roundTitle}已撤销，已保存或已提交的申报不再受理。`, `撤销原因：${d.reason}`, '如重新启动，将另行通知。'],
      `The call ${d.programmeName} ${d.year} has been cancelled.`,
    ),
  };
}

/** To the applicant whose application failed the formal check; `reasons` are listed numbered. */
export function formalCheckFailed(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { applicationTitle: string; reasons: string[] },
): RenderedEmail {
  return {
    subject: `【形式审查结果】${d.roundTitle}：“${d.applicationTitle}”未通过形式审查`,
    text: letter(
      d.institutionName,
      [
        `贵单位申报的“${d.applicationTitle}”未通过${d.roundTitle}的形式审查，原因如下：`,
        ...d.reasons.map((r, i) => `${i + 1}. ${r}`),
        '',
        `如对审查结果有疑问，${CONTACT_CENTRE_ZH}`,
      ],
      `Formal check not passed: ${d.applicationTitle}.`,
    ),
  };
}

/** To the applicant whose entry is approved (认定) after review and publicity. */
export function approvalNotice(d: {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  entryTitle: string;
}): RenderedEmail {
  return {
    subject: `【认定通知】“${d.entryTitle}”认定为${d.programmeName}`,
    text: letter(
      d.institutionName,
      [
        `经专家评审和公示，贵单位申报的“${d.entryTitle}”认定为${d.programmeName}（${d.roundTitle}）。`,
        '认定结果已在 ronghe 系统公布。',
      ],
      `Approved: ${d.entryTitle}.`,
    ),
  };
}
