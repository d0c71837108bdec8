import { formatInstantZh } from '../../domain/calendar/index.js';
import type { FormalRule } from '../../domain/applications.js';
import {
  CONTACT_CENTRE_ZH,
  closesInZh,
  deadlineZh,
  estimatedTag,
  letter,
  type RenderedEmail,
  type WhereToAct,
} from './common.js';

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
  d: RoundMailContext & WhereToAct & { opensAt: Date; quotaNote: string; formalRules: readonly FormalRule[] },
): RenderedEmail {
  return {
    subject: `【申报通知】${d.roundTitle}${estimatedTag(d.deadlineEstimated)}`,
    text: letter(d.institutionName, [
      `根据《河南省本科高等学校深化产教融合促进高质量发展行动计划》（教高〔2022〕52号），现启动${d.roundTitle}工作。`,
      '',
      `项目类别：${d.programmeName}（${d.quotaNote}）`,
      `申报开始：${formatInstantZh(d.opensAt)}`,
      `申报截止：${deadlineZh(d.deadline, d.deadlineEstimated)}`,
      '',
      `请登录 ronghe 系统（${d.signInUrl}）填报并提交申报材料。截止前可修改或撤回；以系统记录的接收时间为准，逾期不予受理。`,
      '',
      '形式审查要求：',
      ...formalRulesZh(d.formalRules),
    ]),
  };
}

/** To an institution that has submitted nothing yet, `workingDaysLeft` working days before the deadline. */
export function callReminder(d: RoundMailContext & WhereToAct & { workingDaysLeft: number }): RenderedEmail {
  return {
    subject: `【申报提醒】${d.roundTitle}将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.deadlineEstimated)}`,
    text: letter(d.institutionName, [
      `${d.roundTitle}${closesInZh(d.deadline, d.deadlineEstimated, d.workingDaysLeft)}`,
      `系统显示贵单位尚未提交申报。如需申报，请在截止前登录 ronghe 系统（${d.signInUrl}）提交；已保存的草稿不视为提交。`,
    ]),
  };
}

/**
 * To every invited institution when staff extend the deadline (`previous` → `deadline`), with the reason;
 * each date says 预计 when it was counted on an estimated calendar (`previousEstimated`, `deadlineEstimated`).
 */
export function deadlineExtended(
  d: RoundMailContext & { previous: Date; previousEstimated: boolean; reason: string },
): RenderedEmail {
  return {
    subject: `【延期通知】${d.roundTitle}截止时间延长至${formatInstantZh(d.deadline)}${estimatedTag(d.deadlineEstimated)}`,
    text: letter(d.institutionName, [
      `${d.roundTitle}的申报截止时间由 ${formatInstantZh(d.previous)}${estimatedTag(d.previousEstimated)} 延长至 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
      `延期原因：${d.reason}`,
      '已提交的申报继续有效；截止前仍可修改、重新提交或撤回。',
    ]),
  };
}

/**
 * To every invited institution when a change to the working-day calendar moves a deadline counted on it (only
 * later), saying why: the State Council's arrangement was published for a year whose deadline was an estimate
 * (`previousEstimated`: the old date is marked 预计), or staff corrected an arrangement already official.
 */
export function deadlineChanged(d: RoundMailContext & { previous: Date; previousEstimated: boolean }): RenderedEmail {
  return {
    subject: `【截止时间调整】${d.roundTitle}截止时间调整为${formatInstantZh(d.deadline)}${estimatedTag(d.deadlineEstimated)}`,
    text: letter(d.institutionName, [
      `${d.roundTitle}的截止时间由 ${formatInstantZh(d.previous)}${estimatedTag(d.previousEstimated)} 调整为 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
      d.previousEstimated
        ? '调整原因：国务院办公厅公布了当年节假日安排，原截止时间系按预计安排计算，现按正式安排重新计算。'
        : '调整原因：工作人员更正了已录入的节假日安排，现按更正后的安排重新计算。',
      '截止时间只会推后、不会提前。',
    ]),
  };
}

/** To every invited institution when staff cancel the round, with the reason. */
export function roundCancelled(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { reason: string },
): RenderedEmail {
  return {
    subject: `【撤销通知】${d.roundTitle}已撤销`,
    text: letter(d.institutionName, [
      `${d.roundTitle}已撤销，已保存或已提交的申报不再受理。`,
      `撤销原因：${d.reason}`,
      '如重新启动，将另行通知。',
    ]),
  };
}

/**
 * To the applicant's contact when the round accepted a submission (受理回执): version `version` of
 * `applicationTitle`, received at `receivedAt` (printed Asia/Shanghai); `warnings` are what the formal check
 * would find today (listed numbered, to be fixed before the deadline). Raises nothing.
 */
export function submissionReceipt(
  d: Pick<RoundMailContext, 'institutionName' | 'roundTitle' | 'deadline' | 'deadlineEstimated'> & {
    applicationTitle: string;
    version: number;
    receivedAt: Date;
    warnings: string[];
  },
): RenderedEmail {
  return {
    subject: `【受理回执】${d.roundTitle}：“${d.applicationTitle}”已受理`,
    text: letter(d.institutionName, [
      `贵单位于 ${formatInstantZh(d.receivedAt)}（北京时间）提交的“${d.applicationTitle}”（第 ${d.version} 版）已受理。`,
      `申报截止：${deadlineZh(d.deadline, d.deadlineEstimated)}。截止前可修改后重新提交（以最后一次提交的版本为准），也可撤回。`,
      ...(d.warnings.length > 0
        ? [
            '',
            '请对照以下各项核实，截止后的形式审查将按届时记录判定；如需修改，请在截止前修改后重新提交：',
            ...d.warnings.map((w, i) => `${i + 1}. ${w}`),
          ]
        : []),
      '',
      '本回执仅确认收到申报，不代表形式审查或评审结果。',
    ]),
  };
}

/** To the applicant whose application failed the formal check; `reasons` are listed numbered. */
export function formalCheckFailed(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { applicationTitle: string; reasons: string[] },
): RenderedEmail {
  return {
    subject: `【形式审查结果】${d.roundTitle}：“${d.applicationTitle}”未通过形式审查`,
    text: letter(d.institutionName, [
      `贵单位申报的“${d.applicationTitle}”未通过${d.roundTitle}的形式审查，原因如下：`,
      ...d.reasons.map((r, i) => `${i + 1}. ${r}`),
      '',
      `如对审查结果有疑问，${CONTACT_CENTRE_ZH}`,
    ]),
  };
}

/**
 * To the applicant whose reviewed application is not on the final list (not shortlisted, nor substituted in)
 * once the round's result is final (认定).
 */
export function notShortlistedNotice(d: {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  applicationTitle: string;
}): RenderedEmail {
  return {
    subject: `【评审结果】${d.roundTitle}：“${d.applicationTitle}”未入选`,
    text: letter(d.institutionName, [
      `贵单位申报的“${d.applicationTitle}”经专家评审，未列入${d.roundTitle}拟认定名单，未认定为${d.programmeName}。`,
      '认定结果已在 ronghe 系统公布。感谢贵单位的参与。',
      '',
      `如对评审结果有疑问，${CONTACT_CENTRE_ZH}`,
    ]),
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
    text: letter(d.institutionName, [
      `经专家评审和公示，贵单位申报的“${d.entryTitle}”认定为${d.programmeName}（${d.roundTitle}）。`,
      '认定结果已在 ronghe 系统公布。',
    ]),
  };
}
