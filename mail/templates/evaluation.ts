import { gradeZh } from '../../domain/programmes.js';
import {
  body,
  closesInZh,
  deadlineZh,
  estimatedTag,
  letter,
  scoreZh,
  signInLineZh,
  type RenderedEmail,
  type WhereToAct,
} from './common.js';
import type { MemberMailContext } from './member.js';

/** What every email of an annual evaluation says about it: the member evaluated and the evaluation's title. */
type EvaluationMailContext = MemberMailContext & { evaluationTitle: string };

/** To each member's institution when the annual evaluation opens: the self-evaluation report is due at `due`. */
export function evaluationRequest(
  d: EvaluationMailContext & WhereToAct & { due: Date; dueEstimated: boolean },
): RenderedEmail {
  return {
    subject: `【年度动态评价】请提交“${d.entryTitle}”的自评报告${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `根据${d.programmeName}动态评价制，现开展${d.evaluationTitle}。`,
      `请于 ${deadlineZh(d.due, d.dueEstimated)} 前登录 ronghe 系统（${d.signInUrl}）提交“${d.entryTitle}”的年度自评报告。`,
      '截止前可修改并重新提交；以系统记录的接收时间为准。逾期未提交的，评价结果按“不合格”处理。',
    ]),
  };
}

/** To a member's institution that has not submitted its report, `workingDaysLeft` working days before `due`. */
export function evaluationReminder(
  d: EvaluationMailContext & WhereToAct & { due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【自评报告提醒】${d.evaluationTitle}将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `“${d.entryTitle}”的年度自评报告${closesInZh(d.due, d.dueEstimated, d.workingDaysLeft)}`,
      '系统显示贵单位尚未提交。逾期未提交的，评价结果按“不合格”处理。',
      signInLineZh(d),
    ]),
  };
}

/**
 * To a member's institution once the results are publicised: the grade (`gradeZh`, e.g. 优秀 / 不合格), the
 * score if experts gave one, and staff's `reason` if they graded it; a fail announces rectification.
 */
export function evaluationResult(
  d: EvaluationMailContext & { gradeZh: string; score: number | null; reason: string | null },
): RenderedEmail {
  const fail = d.gradeZh === gradeZh.fail;
  return {
    subject: `【评价结果】“${d.entryTitle}”${d.evaluationTitle}结果：${d.gradeZh}`,
    text: letter(d.institutionName, [
      `${d.evaluationTitle}结果已经公示，“${d.entryTitle}”的评价结果为：${d.gradeZh}${scoreZh(d.score)}。`,
      ...(d.reason ? [`说明：${d.reason}`] : []),
      ...(fail ? ['', '评价结果为不合格的，将另行通知限期整改。'] : []),
    ]),
  };
}

/** To staff: `ungraded` reports have fewer valid expert scores than the minimum and wait for a grade from staff. */
export function evaluationUngraded(
  d: WhereToAct & {
    evaluationTitle: string;
    evaluationId: string;
    ungraded: number;
  },
): RenderedEmail {
  return {
    subject: `【需处理】${d.evaluationTitle}有 ${d.ungraded} 份自评报告有效专家评分不足`,
    text: body([
      `${d.evaluationTitle}中有 ${d.ungraded} 份自评报告的有效专家评分不足规定份数，系统不会因专家缺评而判定不合格。`,
      '',
      `请工作人员逐份认定评价等级并说明理由（评价编号：${d.evaluationId}）；全部认定后评价结果进入公示。`,
      signInLineZh(d),
    ]),
  };
}
