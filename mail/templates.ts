import { formatInstantZh, formatShanghai } from '../domain/calendar/index.js';
import { NOMINATIONS_PER_INSTITUTION } from '../domain/showcase.js';

/** Sender line shown under every notice. */
const SIGNATURE = '河南省教育厅\n河南省高等教育学会产教融合管理服务中心';
const AUTOMATED = '（本邮件由 ronghe 系统自动发送，请勿直接回复。）';

export interface RenderedEmail {
  subject: string;
  text: string;
}

/** "2027年3月15日 24:00（预计，以国务院公布的节假日安排为准）" */
export function deadlineZh(deadline: Date, estimated: boolean): string {
  return `${formatInstantZh(deadline)}${estimated ? '（预计，以国务院公布的当年节假日安排为准）' : ''}`;
}

function estimatedTag(estimated: boolean): string {
  return estimated ? '（预计）' : '';
}

function body(lines: string[], english: string): string {
  return [...lines, '', SIGNATURE, AUTOMATED, '', english].join('\n');
}

export interface RoundMailContext {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  year: number;
  deadline: Date;
  deadlineEstimated: boolean;
}

export function callNotice(d: RoundMailContext & { opensAt: Date; quotaNote: string }): RenderedEmail {
  return {
    subject: `【申报通知】${d.roundTitle}${estimatedTag(d.deadlineEstimated)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `根据《河南省本科高等学校深化产教融合促进高质量发展行动计划》（教高〔2022〕52号），现启动${d.roundTitle}工作。`,
        '',
        `项目类别：${d.programmeName}（${d.quotaNote}）`,
        `申报开始：${formatInstantZh(d.opensAt)}`,
        `申报截止：${deadlineZh(d.deadline, d.deadlineEstimated)}`,
        '',
        '请登录 ronghe 系统填报并提交申报材料。截止前可修改或撤回；以系统记录的接收时间为准，逾期不予受理。',
      ],
      `Call for applications: ${d.programmeName} ${d.year}, closing ${formatShanghai(d.deadline)}.`,
    ),
  };
}

export function callReminder(d: RoundMailContext & { workingDaysLeft: number }): RenderedEmail {
  return {
    subject: `【申报提醒】${d.roundTitle}将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.deadlineEstimated)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.roundTitle}将于 ${deadlineZh(d.deadline, d.deadlineEstimated)} 截止，距截止还有 ${d.workingDaysLeft} 个工作日。`,
        '系统显示贵单位尚未提交申报。如需申报，请在截止前登录 ronghe 系统提交；已保存的草稿不视为提交。',
      ],
      `Reminder: ${d.programmeName} ${d.year} closes ${formatShanghai(d.deadline)}; nothing submitted yet.`,
    ),
  };
}

export function deadlineExtended(d: RoundMailContext & { previous: Date; reason: string }): RenderedEmail {
  return {
    subject: `【延期通知】${d.roundTitle}截止时间延长至${formatInstantZh(d.deadline)}${estimatedTag(d.deadlineEstimated)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.roundTitle}的申报截止时间由 ${formatInstantZh(d.previous)} 延长至 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
        `延期原因：${d.reason}`,
        '已提交的申报继续有效；截止前仍可修改、重新提交或撤回。',
      ],
      `Deadline extended: ${d.programmeName} ${d.year} now closes ${formatShanghai(d.deadline)}.`,
    ),
  };
}

export function deadlineChanged(d: RoundMailContext & { previous: Date }): RenderedEmail {
  return {
    subject: `【截止时间调整】${d.roundTitle}截止时间调整为${formatInstantZh(d.deadline)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `根据国务院办公厅公布的节假日安排，${d.roundTitle}的截止时间由 ${formatInstantZh(d.previous)}（预计）调整为 ${deadlineZh(d.deadline, d.deadlineEstimated)}。`,
        '截止时间只会推后、不会提前。',
      ],
      `Deadline confirmed by the official holiday arrangement: ${formatShanghai(d.deadline)}.`,
    ),
  };
}

export function roundCancelled(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { reason: string },
): RenderedEmail {
  return {
    subject: `【撤销通知】${d.roundTitle}已撤销`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.roundTitle}已撤销，已保存或已提交的申报不再受理。`,
        `撤销原因：${d.reason}`,
        '如重新启动，将另行通知。',
      ],
      `The call ${d.programmeName} ${d.year} has been cancelled.`,
    ),
  };
}

export function formalCheckFailed(
  d: Omit<RoundMailContext, 'deadline' | 'deadlineEstimated'> & { applicationTitle: string; reasons: string[] },
): RenderedEmail {
  return {
    subject: `【形式审查结果】${d.roundTitle}：“${d.applicationTitle}”未通过形式审查`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `贵单位申报的“${d.applicationTitle}”未通过${d.roundTitle}的形式审查，原因如下：`,
        ...d.reasons.map((r, i) => `${i + 1}. ${r}`),
        '',
        '如对审查结果有疑问，请与河南省高等教育学会产教融合管理服务中心联系。',
      ],
      `Formal check not passed: ${d.applicationTitle}.`,
    ),
  };
}

export interface ExpertMailContext {
  expertName: string;
  reviewTitle: string;
}

export function reviewInvitation(
  d: ExpertMailContext & { count: number; due: Date; replacement: boolean },
): RenderedEmail {
  return {
    subject: `【评审邀请】${d.reviewTitle}：${d.count} 项评审任务，${formatInstantZh(d.due)}前完成`,
    text: body(
      [
        `${d.expertName}专家：`,
        '',
        d.replacement
          ? `因原评审专家未能完成，特邀请您补充评审${d.reviewTitle}中的 ${d.count} 项申报。`
          : `诚邀您担任${d.reviewTitle}的评审专家，共 ${d.count} 项申报。`,
        `请于 ${formatInstantZh(d.due)} 前登录 ronghe 系统接受或谢绝邀请并提交评分。`,
        '如与申报单位存在利害关系，请谢绝并声明回避；您的声明将记录在案，今后不再分派该单位的评审。',
        '评审意见仅供评审工作使用，请勿外传。',
      ],
      `Review invitation: ${d.count} item(s), due ${formatShanghai(d.due)}.`,
    ),
  };
}

export function reviewReminder(
  d: ExpertMailContext & { open: number; due: Date; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【评审提醒】${d.reviewTitle}：尚有 ${d.open} 项评审未提交，${d.workingDaysLeft}个工作日后截止`,
    text: body(
      [
        `${d.expertName}专家：`,
        '',
        `您在${d.reviewTitle}中尚有 ${d.open} 项评审未提交，截止时间为 ${formatInstantZh(d.due)}。`,
        '逾期未提交的评审将另请专家补评。',
      ],
      `Reminder: ${d.open} review(s) open, due ${formatShanghai(d.due)}.`,
    ),
  };
}

export function reviewBlocked(d: { reviewTitle: string; explanation: string }): RenderedEmail {
  return {
    subject: `【需处理】${d.reviewTitle}：专家库不足，无法完成分派`,
    text: body(
      [`${d.reviewTitle}的评审专家分派未能完成：`, '', d.explanation, '', '补充专家后请在系统中重新发起分派。'],
      'Reviewer assignment blocked: the expert pool is too small.',
    ),
  };
}

export function reviewCompleted(d: {
  reviewTitle: string;
  items: number;
  recommended: number;
  underReviewed: string[];
  spread: string[];
}): RenderedEmail {
  return {
    subject: `【评审完成】${d.reviewTitle}：推荐 ${d.recommended} 项，待确认`,
    text: body(
      [
        `${d.reviewTitle}已完成专家评审：共 ${d.items} 项，按名额推荐 ${d.recommended} 项，请在系统中确认推荐名单。`,
        '',
        d.underReviewed.length
          ? `有效评分不足的申报（${d.underReviewed.length} 项，不自动推荐）：${d.underReviewed.join('、')}`
          : '所有申报的有效评分均已达到最低人数。',
        d.spread.length
          ? `评分极差超过 20 分的申报（${d.spread.length} 项，请关注）：${d.spread.join('、')}`
          : '无评分极差超过 20 分的申报。',
      ],
      `Review completed: ${d.recommended} of ${d.items} recommended.`,
    ),
  };
}

export function objectionResolved(d: {
  objectorName: string;
  publicityTitle: string;
  entryTitle: string | null;
  upheld: boolean;
  reason: string;
}): RenderedEmail {
  return {
    subject: `【异议处理结果】${d.publicityTitle}`,
    text: body(
      [
        `${d.objectorName}：`,
        '',
        `您对${d.publicityTitle}${d.entryTitle ? `中“${d.entryTitle}”` : ''}提出的异议已处理完毕。`,
        `处理结果：${d.upheld ? '异议成立' : '异议不成立'}`,
        `理由：${d.reason}`,
        d.upheld ? '相关项目已从名单中撤下，递补结果将另行公示。' : '',
        '感谢您对产教融合项目遴选工作的监督。',
      ].filter((l) => l !== ''),
      `Your objection was ${d.upheld ? 'upheld' : 'dismissed'}.`,
    ),
  };
}

export function entryRemoved(d: {
  institutionName: string;
  publicityTitle: string;
  entryTitle: string;
  reason: string;
}): RenderedEmail {
  return {
    subject: `【公示结果】“${d.entryTitle}”经异议核查撤出名单`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `贵单位的“${d.entryTitle}”在${d.publicityTitle}期间收到实名异议，经核查异议成立，已撤出名单。`,
        `理由：${d.reason}`,
        '如有疑问，请与河南省高等教育学会产教融合管理服务中心联系。',
      ],
      `Removed from the list after an objection was upheld: ${d.entryTitle}.`,
    ),
  };
}

export function objectionsPending(d: { publicityTitle: string; pending: number; endedAt: Date }): RenderedEmail {
  return {
    subject: `【待处理】${d.publicityTitle}尚有 ${d.pending} 件异议未处理`,
    text: body(
      [
        `${d.publicityTitle}已于 ${formatInstantZh(d.endedAt)} 期满，尚有 ${d.pending} 件异议未处理。`,
        '异议处理完毕之前公示不能结束、结果不能认定，请尽快处理。',
      ],
      `${d.pending} objection(s) pending; the publicity period cannot close.`,
    ),
  };
}

export function approvalNotice(d: {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  entryTitle: string;
}): RenderedEmail {
  return {
    subject: `【认定通知】“${d.entryTitle}”认定为${d.programmeName}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `经专家评审和公示，贵单位申报的“${d.entryTitle}”认定为${d.programmeName}（${d.roundTitle}）。`,
        '认定结果已在 ronghe 系统公布。',
      ],
      `Approved: ${d.entryTitle}.`,
    ),
  };
}

export function revocationNotice(d: {
  institutionName: string;
  programmeName: string;
  entryTitle: string;
  reason: string;
  barEndsOn: string;
}): RenderedEmail {
  return {
    subject: `【撤销认定通知】“${d.entryTitle}”的${d.programmeName}认定已撤销`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `经查，“${d.entryTitle}”存在以下问题：${d.reason}。`,
        `现撤销其${d.programmeName}认定，移出名录；自即日起至 ${d.barEndsOn} 止，贵单位不得申报${d.programmeName}。`,
      ],
      `Revoked for misconduct; barred from this programme until ${d.barEndsOn}.`,
    ),
  };
}

export interface MemberMailContext {
  institutionName: string;
  programmeName: string;
  entryTitle: string;
}

export function evaluationRequest(
  d: MemberMailContext & { evaluationTitle: string; due: Date; dueEstimated: boolean },
): RenderedEmail {
  return {
    subject: `【年度动态评价】请提交“${d.entryTitle}”的自评报告${estimatedTag(d.dueEstimated)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `根据${d.programmeName}动态评价制，现开展${d.evaluationTitle}。`,
        `请于 ${deadlineZh(d.due, d.dueEstimated)} 前登录 ronghe 系统提交“${d.entryTitle}”的年度自评报告。`,
        '截止前可修改并重新提交；以系统记录的接收时间为准。逾期未提交的，评价结果按“不合格”处理。',
      ],
      `Annual evaluation: self-evaluation report due ${formatShanghai(d.due)}; a missing report counts as a fail.`,
    ),
  };
}

export function evaluationReminder(
  d: MemberMailContext & { evaluationTitle: string; due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【自评报告提醒】${d.evaluationTitle}将于${d.workingDaysLeft}个工作日后截止${estimatedTag(d.dueEstimated)}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.entryTitle}”的年度自评报告将于 ${deadlineZh(d.due, d.dueEstimated)} 截止，距截止还有 ${d.workingDaysLeft} 个工作日。`,
        '系统显示贵单位尚未提交。逾期未提交的，评价结果按“不合格”处理。',
      ],
      `Reminder: self-evaluation report due ${formatShanghai(d.due)}; nothing submitted yet.`,
    ),
  };
}

export function evaluationResult(
  d: MemberMailContext & { evaluationTitle: string; gradeZh: string; score: number | null; reason: string | null },
): RenderedEmail {
  const fail = d.gradeZh === '不合格';
  return {
    subject: `【评价结果】“${d.entryTitle}”${d.evaluationTitle}结果：${d.gradeZh}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.evaluationTitle}结果已经公示，“${d.entryTitle}”的评价结果为：${d.gradeZh}${d.score === null ? '' : `（${Number(d.score.toFixed(2))} 分）`}。`,
        ...(d.reason ? [`说明：${d.reason}`] : []),
        ...(fail ? ['', '评价结果为不合格的，将另行通知限期整改。'] : []),
      ],
      `Annual evaluation result: ${d.gradeZh}.`,
    ),
  };
}

export function evaluationUngraded(d: {
  evaluationTitle: string;
  evaluationId: string;
  ungraded: number;
}): RenderedEmail {
  return {
    subject: `【需处理】${d.evaluationTitle}有 ${d.ungraded} 份自评报告无有效专家评分`,
    text: body(
      [
        `${d.evaluationTitle}中有 ${d.ungraded} 份自评报告没有任何有效的专家评分，系统不会因专家缺评而判定不合格。`,
        '',
        `请工作人员逐份认定评价等级并说明理由（POST /api/evaluations/${d.evaluationId}/grades）；全部认定后评价结果进入公示。`,
      ],
      'Reports without any valid expert score await a grade from staff.',
    ),
  };
}

export function rectificationNotice(
  d: MemberMailContext & { reason: string; months: number; due: Date; dueEstimated: boolean },
): RenderedEmail {
  return {
    subject: `【警示及限期整改通知】“${d.entryTitle}”须于${formatInstantZh(d.due)}前完成整改`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.entryTitle}”${d.reason}。根据${d.programmeName}名录清单淘汰制，现予警示，并限期整改 ${d.months} 个月。`,
        `请于 ${deadlineZh(d.due, d.dueEstimated)} 前通过 ronghe 系统提交整改报告，届时组织专家复评。`,
        '复评合格的恢复正常；复评不合格或逾期未提交整改报告的，经公示后移出名录。',
      ],
      `Warning: rectification for ${d.months} months; report due ${formatShanghai(d.due)}.`,
    ),
  };
}

export function rectificationReminder(
  d: MemberMailContext & { due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【整改报告提醒】“${d.entryTitle}”整改报告将于${d.workingDaysLeft}个工作日后截止`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.entryTitle}”的整改报告将于 ${deadlineZh(d.due, d.dueEstimated)} 截止，距截止还有 ${d.workingDaysLeft} 个工作日。`,
        '系统显示贵单位尚未提交。逾期未提交的，经公示后移出名录。',
      ],
      `Reminder: rectification report due ${formatShanghai(d.due)}; nothing submitted yet.`,
    ),
  };
}

export function rectificationPassed(d: MemberMailContext & { score: number }): RenderedEmail {
  return {
    subject: `【复评结果】“${d.entryTitle}”整改复评合格`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.entryTitle}”整改情况经专家复评合格（${d.score.toFixed(2)} 分），恢复正常，继续保留在${d.programmeName}名录中。`,
      ],
      'Rectification passed: the member stays in the directory.',
    ),
  };
}

export function removalNotice(d: MemberMailContext & { reason: string; removedOn: string }): RenderedEmail {
  return {
    subject: `【移出名录通知】“${d.entryTitle}”移出${d.programmeName}名录`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.entryTitle}”${d.reason}，经公示无程序异议，自 ${d.removedOn} 起移出${d.programmeName}名录。`,
      ],
      'Removed from the directory after the publicity period.',
    ),
  };
}

export function removalWithdrawn(d: MemberMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【移出名录撤回通知】“${d.entryTitle}”保留在${d.programmeName}名录`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `关于“${d.entryTitle}”移出名录的公示期间，程序申诉经核查成立：${d.reason}。`,
        '拟移出名录的决定撤回，该成员恢复正常。',
      ],
      'The removal was withdrawn after a procedural appeal was upheld.',
    ),
  };
}

export interface EventMailContext {
  institutionName: string;
  /** 路演 / 展会 */
  kindZh: string;
  eventTitle: string;
  startsAt: Date;
  placeZh: string;
}

const when = (d: EventMailContext) => `时间：${formatInstantZh(d.startsAt)}（北京时间）\n地点：${d.placeZh}`;

export function eventInvitation(d: EventMailContext): RenderedEmail {
  return {
    subject: `【邀请】${d.eventTitle}（${d.kindZh}）`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `诚邀贵单位参加“${d.eventTitle}”${d.kindZh}并作展示。`,
        when(d),
        '',
        '请通过 ronghe 系统确认是否参加（POST /api/events/:eventId/rsvp）。确认参加的单位将在活动前 7 天和前 1 天收到提醒。',
      ],
      `Invitation to present at a showcase ${d.kindZh === '路演' ? 'roadshow' : 'exhibition'}.`,
    ),
  };
}

export function eventReminder(d: EventMailContext & { daysBefore: number }): RenderedEmail {
  return {
    subject: `【提醒】${d.eventTitle}将于${d.daysBefore === 1 ? '明天' : `${d.daysBefore}天后`}举行`,
    text: body(
      [`${d.institutionName}：`, '', `贵单位已确认参加的“${d.eventTitle}”${d.kindZh}即将举行。`, when(d)],
      `Reminder: the event is in ${d.daysBefore} day(s).`,
    ),
  };
}

export function eventMoved(
  d: EventMailContext & { previousAt: Date; previousPlaceZh: string; reason: string },
): RenderedEmail {
  return {
    subject: `【时间地点变更】${d.eventTitle}改于${formatInstantZh(d.startsAt)}举行`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.eventTitle}”${d.kindZh}原定于${formatInstantZh(d.previousAt)}在${d.previousPlaceZh}举行，现调整如下：`,
        when(d),
        `调整原因：${d.reason}`,
        '',
        '提醒将按新的时间发送。如因调整无法参加，请在系统中告知。',
      ],
      'The event has been moved; reminders follow the new date.',
    ),
  };
}

export function eventCancelled(d: EventMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【取消通知】${d.eventTitle}取消举行`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `原定于${formatInstantZh(d.startsAt)}在${d.placeZh}举行的“${d.eventTitle}”${d.kindZh}取消举行。`,
        `取消原因：${d.reason}`,
      ],
      'The event has been cancelled.',
    ),
  };
}

export interface ProjectMailContext {
  institutionName: string;
  projectTitle: string;
}

const reportZh = (kind: 'midterm' | 'final') => (kind === 'midterm' ? '中期检查报告' : '结项报告');

export function projectApproved(d: ProjectMailContext & { startsOn: string; endsOn: string }): RenderedEmail {
  return {
    subject: `【立项通知】“${d.projectTitle}”已立项`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.projectTitle}”已批准立项，研究周期自 ${d.startsOn} 至 ${d.endsOn}。`,
        '周期过半时进行中期检查，期满时结项；中期检查报告和结项报告均经专家评审。确需延期的，可申请一次，最长一年。',
      ],
      'Research project approved (立项).',
    ),
  };
}

export function projectReportRequest(
  d: ProjectMailContext & { kind: 'midterm' | 'final'; attempt: number; due: Date; dueEstimated: boolean },
): RenderedEmail {
  const what = reportZh(d.kind);
  return {
    subject: `【${d.kind === 'midterm' ? '中期检查' : '结项'}】请提交“${d.projectTitle}”${what}${d.attempt > 1 ? '（再次提交）' : ''}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `请于 ${deadlineZh(d.due, d.dueEstimated)} 前通过 ronghe 系统提交“${d.projectTitle}”的${what}，届时组织专家评审。`,
        ...(d.attempt > 1 ? ['结项评审未通过的，可修改后再次提交一次；再次评审仍未通过的，不予结项。'] : []),
      ],
      `Please submit the ${d.kind} report.`,
    ),
  };
}

export function projectReportReminder(
  d: ProjectMailContext & { kind: 'midterm' | 'final'; due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【提醒】“${d.projectTitle}”${reportZh(d.kind)}还有 ${d.workingDaysLeft} 个工作日截止`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.projectTitle}”的${reportZh(d.kind)}尚未提交，截止时间为 ${deadlineZh(d.due, d.dueEstimated)}。`,
      ],
      `Reminder: ${d.workingDaysLeft} working day(s) left.`,
    ),
  };
}

export function projectReportOverdue(d: ProjectMailContext & { kind: 'midterm' | 'final'; due: Date }): RenderedEmail {
  return {
    subject: `【逾期】“${d.projectTitle}”${reportZh(d.kind)}逾期未交`,
    text: body(
      [
        `“${d.projectTitle}”（${d.institutionName}）的${reportZh(d.kind)}已于 ${formatInstantZh(d.due)} 截止，至今未提交。`,
        '报告提交后仍将组织评审并标注逾期；如需撤项，请在系统中说明理由（POST /api/projects/:projectId/terminate）。',
      ],
      'A project report is overdue.',
    ),
  };
}

export function projectReportResult(
  d: ProjectMailContext & {
    kind: 'midterm' | 'final';
    passed: boolean;
    score: number | null;
    reason: string | null;
    mayResubmit: boolean;
  },
): RenderedEmail {
  const stage = d.kind === 'midterm' ? '中期检查' : '结项';
  const outcome = d.passed ? '通过' : '不通过';
  return {
    subject: `【${stage}结果】“${d.projectTitle}”${stage}${outcome}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `“${d.projectTitle}”${stage}专家评审结果：${outcome}${d.score === null ? '' : `（${Number(d.score.toFixed(2))} 分）`}。`,
        ...(d.reason ? [`理由：${d.reason}`] : []),
        ...(d.mayResubmit ? ['可在修改后再次提交结项报告一次，提交期限另行通知。'] : []),
        ...(d.kind === 'final' && d.passed ? ['项目已结项。'] : []),
      ],
      `${stage}: ${d.passed ? 'passed' : 'not passed'}.`,
    ),
  };
}

export function projectExtensionDecided(
  d: ProjectMailContext & { approved: boolean; months: number; endsOn: string; reason: string },
): RenderedEmail {
  return {
    subject: `【延期申请】“${d.projectTitle}”延期申请${d.approved ? '已批准' : '未批准'}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        d.approved
          ? `“${d.projectTitle}”延期 ${d.months} 个月的申请已批准，研究周期延至 ${d.endsOn}。`
          : `“${d.projectTitle}”延期 ${d.months} 个月的申请未获批准，研究周期仍至 ${d.endsOn}。`,
        `说明：${d.reason}`,
      ],
      `Extension ${d.approved ? 'approved' : 'refused'}.`,
    ),
  };
}

export function projectTerminated(d: ProjectMailContext & { reason: string }): RenderedEmail {
  return {
    subject: `【撤项通知】“${d.projectTitle}”已撤项`,
    text: body(
      [`${d.institutionName}：`, '', `“${d.projectTitle}”已撤项。`, `理由：${d.reason}`],
      'The project has been terminated.',
    ),
  };
}

export function showcaseCall(d: {
  institutionName: string;
  showcaseTitle: string;
  due: Date;
  dueEstimated: boolean;
}): RenderedEmail {
  return {
    subject: `【案例征集】${d.showcaseTitle}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.showcaseTitle}现向名录成员单位和研究项目承担单位征集产教融合典型案例，每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个。`,
        `请于 ${deadlineZh(d.due, d.dueEstimated)} 前通过 ronghe 系统提交推荐（POST /api/showcases/:showcaseId/nominations）。`,
        '推荐案例经专家评审和公示后，入选案例将在成果推广页面公开展示。',
      ],
      'Call for typical-case nominations.',
    ),
  };
}

export function showcaseReminder(d: {
  institutionName: string;
  showcaseTitle: string;
  due: Date;
  dueEstimated: boolean;
  workingDaysLeft: number;
}): RenderedEmail {
  return {
    subject: `【提醒】${d.showcaseTitle}案例推荐还有 ${d.workingDaysLeft} 个工作日截止`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        `${d.showcaseTitle}案例推荐将于 ${deadlineZh(d.due, d.dueEstimated)} 截止，贵单位尚未推荐案例。`,
        `每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个案例；不推荐的无需回复。`,
      ],
      `Reminder: ${d.workingDaysLeft} working day(s) left to nominate.`,
    ),
  };
}

export function showcaseResult(d: {
  institutionName: string;
  showcaseTitle: string;
  caseTitle: string;
  selected: boolean;
}): RenderedEmail {
  return {
    subject: `【${d.selected ? '入选通知' : '评审结果'}】“${d.caseTitle}”${d.selected ? '入选' : '未入选'}${d.showcaseTitle}`,
    text: body(
      [
        `${d.institutionName}：`,
        '',
        d.selected
          ? `贵单位推荐的“${d.caseTitle}”经专家评审和公示，入选${d.showcaseTitle}，已在成果推广页面公开展示。`
          : `贵单位推荐的“${d.caseTitle}”经专家评审，未入选${d.showcaseTitle}。感谢参与。`,
      ],
      d.selected ? 'Your case was selected for the showcase.' : 'Your case was not selected.',
    ),
  };
}
