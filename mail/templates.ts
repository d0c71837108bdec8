import { formatInstantZh, formatShanghai } from '../domain/calendar/index.js';

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

export interface CallNoticeData {
  institutionName: string;
  roundTitle: string;
  programmeName: string;
  year: number;
  opensAt: Date;
  deadline: Date;
  deadlineEstimated: boolean;
  quotaNote: string;
}

export function callNotice(d: CallNoticeData): RenderedEmail {
  const estimatedTag = d.deadlineEstimated ? '（预计）' : '';
  return {
    subject: `【申报通知】${d.roundTitle}${estimatedTag}`,
    text: [
      `${d.institutionName}：`,
      '',
      `根据《河南省本科高等学校深化产教融合促进高质量发展行动计划》（教高〔2022〕52号），现启动${d.roundTitle}工作。`,
      '',
      `项目类别：${d.programmeName}（${d.quotaNote}）`,
      `申报开始：${formatInstantZh(d.opensAt)}`,
      `申报截止：${deadlineZh(d.deadline, d.deadlineEstimated)}`,
      '',
      '请登录 ronghe 系统填报并提交申报材料。截止前可修改或撤回；以系统记录的接收时间为准，逾期不予受理。',
      '',
      SIGNATURE,
      AUTOMATED,
      '',
      `Call for applications: ${d.programmeName} ${d.year}, closing ${formatShanghai(d.deadline)}.`,
    ].join('\n'),
  };
}
