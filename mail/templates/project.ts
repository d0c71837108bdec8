import { formatInstantZh } from '../../domain/calendar/index.js';
import {
  body,
  deadlineZh,
  estimatedTag,
  letter,
  scoreZh,
  signInLineZh,
  type RenderedEmail,
  type WhereToAct,
} from './common.js';

/** The research project an email is about, and the institution that carries it out. */
export interface ProjectMailContext {
  institutionName: string;
  projectTitle: string;
}

/** The two reports a project owes: halfway through (midterm) and at the end (final). */
type ReportKind = 'midterm' | 'final';

/** 中期检查报告 / 结项报告 */
const reportZh = (kind: ReportKind) => (kind === 'midterm' ? '中期检查报告' : '结项报告');

/** 中期检查 / 结项 — the stage a report belongs to. */
const stageZh = (kind: ReportKind) => (kind === 'midterm' ? '中期检查' : '结项');

/** To the institution when the project is approved (立项); `startsOn` and `endsOn` are formatted days. */
export function projectApproved(d: ProjectMailContext & { startsOn: string; endsOn: string }): RenderedEmail {
  return {
    subject: `【立项通知】“${d.projectTitle}”已立项`,
    text: letter(d.institutionName, [
      `“${d.projectTitle}”已批准立项，研究周期自 ${d.startsOn} 至 ${d.endsOn}。`,
      '周期过半时进行中期检查，期满时结项；中期检查报告和结项报告均经专家评审。确需延期的，可申请一次，最长一年。',
    ]),
  };
}

/**
 * To the institution: submit the `kind` report by `due`; `attempt` 2 is the one resubmission a failed final
 * report gets.
 */
export function projectReportRequest(
  d: ProjectMailContext & WhereToAct & { kind: ReportKind; attempt: number; due: Date; dueEstimated: boolean },
): RenderedEmail {
  const what = reportZh(d.kind);
  return {
    subject: `【${stageZh(d.kind)}】请提交“${d.projectTitle}”${what}${d.attempt > 1 ? '（再次提交）' : ''}${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `请于 ${deadlineZh(d.due, d.dueEstimated)} 前登录 ronghe 系统（${d.signInUrl}）提交“${d.projectTitle}”的${what}，届时组织专家评审。`,
      ...(d.attempt > 1 ? ['结项评审未通过的，可修改后再次提交一次；再次评审仍未通过的，不予结项。'] : []),
    ]),
  };
}

/** To the institution whose `kind` report is not in, `workingDaysLeft` working days before `due`. */
export function projectReportReminder(
  d: ProjectMailContext & WhereToAct & { kind: ReportKind; due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【提醒】“${d.projectTitle}”${reportZh(d.kind)}还有 ${d.workingDaysLeft} 个工作日截止${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `“${d.projectTitle}”的${reportZh(d.kind)}尚未提交，截止时间为 ${deadlineZh(d.due, d.dueEstimated)}。`,
      signInLineZh(d),
    ]),
  };
}

/** To staff when a `kind` report was due at `due` and is still missing. */
export function projectReportOverdue(
  d: ProjectMailContext & WhereToAct & { kind: ReportKind; due: Date },
): RenderedEmail {
  return {
    subject: `【逾期】“${d.projectTitle}”${reportZh(d.kind)}逾期未交`,
    text: body([
      `“${d.projectTitle}”（${d.institutionName}）的${reportZh(d.kind)}已于 ${formatInstantZh(d.due)} 截止，至今未提交。`,
      `报告提交后仍将组织评审并标注逾期；如需撤项，请登录 ronghe 系统（${d.signInUrl}）办理撤项并说明理由。`,
    ]),
  };
}

/**
 * To the institution once experts have judged a `kind` report: passed or not, the score if there is one,
 * the reason, and whether the final report may be resubmitted once.
 */
export function projectReportResult(
  d: ProjectMailContext & {
    kind: ReportKind;
    passed: boolean;
    score: number | null;
    reason: string | null;
    mayResubmit: boolean;
  },
): RenderedEmail {
  const stage = stageZh(d.kind);
  const outcome = d.passed ? '通过' : '不通过';
  return {
    subject: `【${stage}结果】“${d.projectTitle}”${stage}${outcome}`,
    text: letter(d.institutionName, [
      `“${d.projectTitle}”${stage}专家评审结果：${outcome}${scoreZh(d.score)}。`,
      ...(d.reason ? [`理由：${d.reason}`] : []),
      ...(d.mayResubmit ? ['可在修改后再次提交结项报告一次，提交期限另行通知。'] : []),
      ...(d.kind === 'final' && d.passed ? ['项目已结项。'] : []),
    ]),
  };
}

/**
 * To the institution when staff decide its request to extend the project by `months`; `endsOn` is the end of
 * the research period that results.
 */
export function projectExtensionDecided(
  d: ProjectMailContext & { approved: boolean; months: number; endsOn: string; reason: string },
): RenderedEmail {
  return {
    subject: `【延期申请】“${d.projectTitle}”延期申请${d.approved ? '已批准' : '未批准'}`,
    text: letter(d.institutionName, [
      d.approved
        ? `“${d.projectTitle}”延期 ${d.months} 个月的申请已批准，研究周期延至 ${d.endsOn}。`
        : `“${d.projectTitle}”延期 ${d.months} 个月的申请未获批准，研究周期仍至 ${d.endsOn}。`,
      `说明：${d.reason}`,
    ]),
  };
}

/** To the institution when staff terminate the project (撤项), with the reason. */
export function projectTerminated(d: ProjectMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【撤项通知】“${d.projectTitle}”已撤项`,
    text: letter(d.institutionName, [`“${d.projectTitle}”已撤项。`, `理由：${d.reason}`]),
  };
}
