import { NOMINATIONS_PER_INSTITUTION } from '../../domain/showcase.js';
import { deadlineZh, estimatedTag, letter, signInLineZh, type RenderedEmail, type WhereToAct } from './common.js';

/** The call for typical cases an email is about, and the institution it is addressed to. */
interface ShowcaseMailContext {
  institutionName: string;
  showcaseTitle: string;
}

/** To each eligible institution (directory members, project holders): nominate cases by `due`. */
export function showcaseCall(
  d: ShowcaseMailContext & WhereToAct & { due: Date; dueEstimated: boolean },
): RenderedEmail {
  return {
    subject: `【案例征集】${d.showcaseTitle}${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `${d.showcaseTitle}现向名录成员单位和研究项目承担单位征集产教融合典型案例，每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个。`,
      `请于 ${deadlineZh(d.due, d.dueEstimated)} 前登录 ronghe 系统（${d.signInUrl}）提交推荐。`,
      '推荐案例经专家评审和公示后，入选案例将在成果推广页面公开展示。',
    ]),
  };
}

/** To each eligible institution that has nominated nothing, `workingDaysLeft` working days before `due`. */
export function showcaseReminder(
  d: ShowcaseMailContext & WhereToAct & { due: Date; dueEstimated: boolean; workingDaysLeft: number },
): RenderedEmail {
  return {
    subject: `【提醒】${d.showcaseTitle}案例推荐还有 ${d.workingDaysLeft} 个工作日截止${estimatedTag(d.dueEstimated)}`,
    text: letter(d.institutionName, [
      `${d.showcaseTitle}案例推荐将于 ${deadlineZh(d.due, d.dueEstimated)} 截止，贵单位尚未推荐案例。`,
      `每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个案例；不推荐的无需回复。`,
      signInLineZh(d),
    ]),
  };
}

/** To the nominating institution once its case is decided: `selected` for the showcase or not. */
export function showcaseResult(d: ShowcaseMailContext & { caseTitle: string; selected: boolean }): RenderedEmail {
  return {
    subject: `【${d.selected ? '入选通知' : '评审结果'}】“${d.caseTitle}”${d.selected ? '入选' : '未入选'}${d.showcaseTitle}`,
    text: letter(d.institutionName, [
      d.selected
        ? `贵单位推荐的“${d.caseTitle}”经专家评审和公示，入选${d.showcaseTitle}，已在成果推广页面公开展示。`
        : `贵单位推荐的“${d.caseTitle}”经专家评审，未入选${d.showcaseTitle}。感谢参与。`,
    ]),
  };
}
