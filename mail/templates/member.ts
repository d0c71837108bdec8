import { formatInstantZh } from '../../domain/calendar/index.js';
import {
  closesInZh,
  deadlineZh,
  estimatedTag,
  letter,
  signInLineZh,
  type RenderedEmail,
  type WhereToAct,
} from './common.js';

/** The directory member an email is about, and the institution it is addressed to. */
export interface MemberMailContext {
  institutionName: string;
  programmeName: string;
  entryTitle: string;
}

/**
 * To a member's institution whose evaluation failed (`reason`): a warning and `months` of rectification,
 * the report due at `due`.
 */
export function rectificationNotice(
  d: MemberMailContext & WhereToAct & { reason: string; months: number; due: Date; dueEstimated: boolean },
): RenderedEmail {
  return {
    subject: `【警示及限期整改通知】“${d.entryTitle}”须于${formatInstantZh(d.due)}前完成整改${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `“${d.entryTitle}”${d.reason}。根据${d.programmeName}名录清单淘汰制，现予警示，并限期整改 ${d.months} 个月。`,
      `请于 ${deadlineZh(d.due, d.dueEstimated)} 前登录 ronghe 系统（${d.signInUrl}）提交整改报告，届时组织专家复评。`,
      '复评合格的恢复正常；复评不合格或逾期未提交整改报告的，经公示后移出名录。',
    ]),
  };
}

/** To a member's institution that has not submitted its rectification report, `workingDaysLeft` before `due`. */
export function rectificationReminder(
  d: MemberMailContext & WhereToAct & { due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【整改报告提醒】“${d.entryTitle}”整改报告将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `“${d.entryTitle}”的整改报告${closesInZh(d.due, d.dueEstimated, d.workingDaysLeft)}`,
      '系统显示贵单位尚未提交。逾期未提交的，经公示后移出名录。',
      signInLineZh(d),
    ]),
  };
}

/**
 * To a member's institution whose rectification passed the re-review (`score`, printed with two decimals), or
 * was found to pass by staff (`score` null: too few experts scored it).
 */
export function rectificationPassed(d: MemberMailContext & { score: number | null }): RenderedEmail {
  return {
    subject: `【复评结果】“${d.entryTitle}”整改复评合格`,
    text: letter(d.institutionName, [
      d.score === null
        ? `“${d.entryTitle}”整改情况经复核认定合格，恢复正常，继续保留在${d.programmeName}名录中。`
        : `“${d.entryTitle}”整改情况经专家复评合格（${d.score.toFixed(2)} 分），恢复正常，继续保留在${d.programmeName}名录中。`,
    ]),
  };
}

/** To a member's institution once its removal from the directory takes effect on `removedOn` (a formatted day). */
export function removalNotice(d: MemberMailContext & { reason: string; removedOn: string }): RenderedEmail {
  return {
    subject: `【移出名录通知】“${d.entryTitle}”移出${d.programmeName}名录`,
    text: letter(d.institutionName, [
      `“${d.entryTitle}”${d.reason}，经公示无程序异议，自 ${d.removedOn} 起移出${d.programmeName}名录。`,
    ]),
  };
}

/** To a member's institution whose proposed removal is withdrawn because a procedural appeal was upheld. */
export function removalWithdrawn(d: MemberMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【移出名录撤回通知】“${d.entryTitle}”保留在${d.programmeName}名录`,
    text: letter(d.institutionName, [
      `关于“${d.entryTitle}”移出名录的公示期间，程序申诉经核查成立：${d.reason}。`,
      '拟移出名录的决定撤回，该成员恢复正常。',
    ]),
  };
}

/**
 * To the institution whose approval (认定) is revoked for misconduct; it may not apply to the programme
 * again until `barEndsOn` (a formatted day).
 */
export function revocationNotice(d: MemberMailContext & { reason: string; barEndsOn: string }): RenderedEmail {
  return {
    subject: `【撤销认定通知】“${d.entryTitle}”的${d.programmeName}认定已撤销`,
    text: letter(d.institutionName, [
      `经查，“${d.entryTitle}”存在以下问题：${d.reason}。`,
      `现撤销其${d.programmeName}认定，移出名录；自即日起至 ${d.barEndsOn} 止，贵单位不得申报${d.programmeName}。`,
    ]),
  };
}
