import { formatInstantZh } from '../../domain/calendar/index.js';
import { body, deadlineZh, estimatedTag, letter, signInLineZh, type RenderedEmail, type WhereToAct } from './common.js';

/** The expert an email of a review is addressed to, and the review's Chinese title. */
export interface ExpertMailContext {
  expertName: string;
  reviewTitle: string;
}

/**
 * The link a review email to an expert carries (issue 15, point 4): `link` opens the assignments the email is
 * about and signs the expert in for them only (`${PUBLIC_BASE_URL}/review/assignment/<token>`), good until
 * `linkExpiresAt`; after that the expert signs in with the password at `signInUrl`.
 */
export interface ExpertLink extends WhereToAct {
  link: string;
  linkExpiresAt: Date;
}

/** The lines that tell the expert where to act: the link, how long it is good, and where to sign in after. */
function whereToAct(d: ExpertLink, what: string): string[] {
  return [
    `请打开以下链接${what}（链接仅供您本人处理本邮件所列评审任务，请勿转发）：`,
    d.link,
    `链接有效期至 ${formatInstantZh(d.linkExpiresAt)}（北京时间）；过期后请在 ${d.signInUrl} 以您的账号和密码登录。`,
  ];
}

/**
 * To an expert assigned `count` items, due at `due` (`dueEstimated`: counted on an estimated calendar);
 * `replacement` when the expert stands in for one who declined or did not finish; the link to those items.
 */
export function reviewInvitation(
  d: ExpertMailContext & ExpertLink & { count: number; due: Date; dueEstimated: boolean; replacement: boolean },
): RenderedEmail {
  return {
    subject: `【评审邀请】${d.reviewTitle}：${d.count} 项评审任务，${formatInstantZh(d.due)}前完成${estimatedTag(d.dueEstimated)}`,
    text: letter(`${d.expertName}专家`, [
      d.replacement
        ? `因原评审专家未能完成，特邀请您补充评审${d.reviewTitle}中的 ${d.count} 项申报。`
        : `诚邀您担任${d.reviewTitle}的评审专家，共 ${d.count} 项申报。`,
      `请于 ${deadlineZh(d.due, d.dueEstimated)} 前接受或谢绝邀请并提交评分。`,
      ...whereToAct(d, '查看评审材料、接受或谢绝邀请并提交评分'),
      '',
      '如与申报单位存在利害关系，请谢绝并声明回避；您的声明将记录在案，今后不再分派该单位的评审。',
      '评审意见仅供评审工作使用，请勿外传。',
    ]),
  };
}

/**
 * To an expert with `open` scores not yet submitted, `workingDaysLeft` working days before `due`
 * (`dueEstimated`: counted on an estimated calendar); the link to those open items.
 */
export function reviewReminder(
  d: ExpertMailContext & ExpertLink & { open: number; due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【评审提醒】${d.reviewTitle}：尚有 ${d.open} 项评审未提交，${d.workingDaysLeft}个工作日后截止${estimatedTag(d.dueEstimated)}`,
    text: letter(`${d.expertName}专家`, [
      `您在${d.reviewTitle}中尚有 ${d.open} 项评审未提交，截止时间为 ${deadlineZh(d.due, d.dueEstimated)}。`,
      ...whereToAct(d, '提交评分'),
      '逾期未提交的评审将另请专家补评。',
    ]),
  };
}

/**
 * To staff when the expert pool cannot cover the assignment; `explanation` says what is missing. With
 * `reviewId`, the notice names the review to assign again once the pool is enlarged.
 */
export function reviewBlocked(
  d: WhereToAct & { reviewTitle: string; explanation: string; reviewId?: string },
): RenderedEmail {
  return {
    subject: `【需处理】${d.reviewTitle}：专家库不足，无法完成分派`,
    text: body([
      `${d.reviewTitle}的评审专家分派未能完成：`,
      '',
      d.explanation,
      '',
      d.reviewId
        ? `补充专家后请登录 ronghe 系统（${d.signInUrl}）对该评审重新发起分派（评审编号：${d.reviewId}）。`
        : `补充专家后请登录 ronghe 系统（${d.signInUrl}）重新发起分派。`,
    ]),
  };
}

/**
 * To staff when experts who declined or missed their due date could not be replaced (no eligible expert of
 * the field within the load bound): `items` are the ids of the items (applications, reports) left short of reviewers.
 */
export function replacementUnavailable(d: WhereToAct & { reviewTitle: string; items: string[] }): RenderedEmail {
  return {
    subject: `【需处理】${d.reviewTitle}：${d.items.length} 项评审无可替补专家`,
    text: body([
      `${d.reviewTitle}中以下 ${d.items.length} 项评审对象（ID）的评审专家谢绝或逾期，专家库中已无符合领域、回避与负载要求的替补专家：`,
      '',
      ...d.items.map((t) => `- ${t}`),
      '',
      '这些项目的有效评分可能不足，请补充专家或在汇总时予以关注。',
      signInLineZh(d),
    ]),
  };
}

/**
 * To staff when a report's expert review ended with fewer valid scores than the minimum (`valid` of `min`):
 * nobody is failed for the experts' absence, so staff decide it with a reason (README lists the operation).
 * `what` names the report, e.g. 「某学院 产教融合示范学院」的整改报告.
 */
export function staffGradeNeeded(d: WhereToAct & { what: string; valid: number; min: number }): RenderedEmail {
  return {
    subject: `【需处理】${d.what}有效专家评分不足，待工作人员认定`,
    text: body([
      `${d.what}的专家评审已经结束，有效评分 ${d.valid} 份，不足规定的 ${d.min} 份。系统不会因专家缺评而判定其不通过。`,
      '',
      `请工作人员审阅材料后登录 ronghe 系统（${d.signInUrl}）认定是否通过并说明理由；认定之前，流程在此等待。`,
    ]),
  };
}

/**
 * To staff when every score is in: how many items are recommended within the quota, and the titles of
 * those with too few valid scores (`underReviewed`) or a score spread above the programme's
 * `spreadFlagAbove` points (`spread`; `spreadAbove` is that threshold).
 */
export function reviewCompleted(
  d: WhereToAct & {
    reviewTitle: string;
    items: number;
    recommended: number;
    underReviewed: string[];
    spread: string[];
    spreadAbove: number;
  },
): RenderedEmail {
  return {
    subject: `【评审完成】${d.reviewTitle}：推荐 ${d.recommended} 项，待确认`,
    text: body([
      `${d.reviewTitle}已完成专家评审：共 ${d.items} 项，按名额推荐 ${d.recommended} 项，请登录 ronghe 系统（${d.signInUrl}）确认推荐名单。`,
      '',
      d.underReviewed.length
        ? `有效评分不足的申报（${d.underReviewed.length} 项，不自动推荐）：${d.underReviewed.join('、')}`
        : '所有申报的有效评分均已达到最低人数。',
      d.spread.length
        ? `评分极差超过 ${d.spreadAbove} 分的申报（${d.spread.length} 项，请关注）：${d.spread.join('、')}`
        : `无评分极差超过 ${d.spreadAbove} 分的申报。`,
    ]),
  };
}
