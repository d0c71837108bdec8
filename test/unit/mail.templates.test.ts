import { describe, expect, it } from 'vitest';
import { formalRules } from '../../domain/applications.js';
import { shanghaiInstant } from '../../domain/calendar/index.js';
import { programmeCatalogue } from '../../domain/programmes.js';
import * as templates from '../../mail/templates.js';
import {
  callNotice,
  callReminder,
  deadlineChanged,
  deadlineExtended,
  publicityOpened,
  rectificationNotice,
  reviewInvitation,
  reviewReminder,
  submissionReceipt,
} from '../../mail/templates.js';
import { DEFAULT_LETTERHEAD, signNotice } from '../../mail/templates/common.js';

/** Where the emails that ask someone to act send them (the configured PUBLIC_BASE_URL's sign-in page). */
const SIGN_IN_URL = 'https://ronghe.jyt.henan.gov.cn/account/sign-in';
const WHERE = { signInUrl: SIGN_IN_URL };
/** An expert's assignment link, as the review emails carry it. */
const ASSIGNMENT_LINK = 'https://ronghe.jyt.henan.gov.cn/review/assignment/Zm9vYmFyYmF6cXV4';
const LINK = { ...WHERE, link: ASSIGNMENT_LINK, linkExpiresAt: shanghaiInstant('2027-04-13', 24) };

const demoUniversity = programmeCatalogue.find((p) => p.key === 'demo_university')!;
const demoRules = formalRules('demo_university', demoUniversity.rules);

const base = {
  institutionName: '郑州大学',
  roundTitle: '2027年度产教融合示范高校申报',
  programmeName: '产教融合示范高校',
  year: 2027,
  deadline: shanghaiInstant('2027-03-26', 24),
};

describe('zh-CN notices', () => {
  it('says 预计 in every notice whose deadline comes from an estimated calendar', () => {
    const estimated = { ...base, deadlineEstimated: true };
    const emails = [
      callNotice({
        ...WHERE,
        ...estimated,
        opensAt: shanghaiInstant('2027-03-01', 9),
        quotaNote: '每年遴选认定 3–5 所',
        formalRules: demoRules,
      }),
      callReminder({ ...WHERE, ...estimated, workingDaysLeft: 3 }),
      deadlineExtended({
        ...estimated,
        previous: shanghaiInstant('2027-03-19', 24),
        previousEstimated: false,
        reason: '材料准备时间不足',
      }),
    ];
    for (const e of emails) {
      expect(e.subject).toContain('预计');
      expect(e.text).toContain('2027年3月26日 24:00（预计');
    }
  });

  it('lists the formal check’s rules in the call notice: those refused at submission and those judged only later', () => {
    const research = programmeCatalogue.find((p) => p.key === 'research_project')!;
    const e = callNotice({
      ...WHERE,
      ...base,
      programmeName: research.nameZh,
      roundTitle: '2027年度产教融合研究项目申报',
      deadlineEstimated: false,
      opensAt: shanghaiInstant('2027-03-01', 9),
      quotaNote: research.quotaNote,
      formalRules: formalRules('research_project', research.rules),
    });
    expect(e.text).toContain('形式审查要求：\n');
    const rules = e.text.split('形式审查要求：\n')[1]!.split('\n\n')[0]!;
    expect(rules.split('\n')).toEqual([
      '提交时即行检查，不符合的不予受理：',
      '  1. 填写项目名称，至少 4 个字；',
      '  2. 所属领域须为领域目录中的一项；',
      '  3. 项目简介不少于 50 字；',
      '  4. 填写项目负责人（工号、姓名）；',
      '  5. 申请回避的专家不超过 2 名；',
      '  6. 上传附件：申报书；',
      '提交时检查，截止后形式审查时按届时记录再行判定：',
      '  7. 申报单位须为学校或学院；',
      '  8. 申报单位及其所属学校在接收之日不处于本项目类别的禁止申报期内；',
      '  9. 每个申报单位限报 5 项，每所学校（含各学院）限报 15 项；形式审查按接收先后计数；',
      '  10. 每人至多主持 1 项、参与 2 项在研或在审项目（含本批次已提交的申报）；',
      '截止后形式审查时判定：',
      '  11. 附件在截止后核验时完好，与提交时的校验值一致。',
    ]);
  });

  // Issue 14, point 13: every kind of notice whose date was counted on an estimated calendar says so.
  it('says 预计 in every other notice whose date was counted on an estimated calendar', () => {
    const due = shanghaiInstant('2027-04-10', 24);
    const expert = { expertName: '张明', reviewTitle: '2027年度产教融合示范高校申报专家评审' };
    const member = { institutionName: '河南大学', programmeName: '产教融合示范学院', entryTitle: '智能制造产业学院' };
    const emails = {
      reviewInvitation: reviewInvitation({ ...LINK, ...expert, count: 4, due, dueEstimated: true, replacement: false }),
      reviewReminder: reviewReminder({ ...LINK, ...expert, open: 2, due, dueEstimated: true, workingDaysLeft: 2 }),
      rectificationNotice: rectificationNotice({
        ...WHERE,
        ...member,
        reason: '年度评价不合格',
        months: 6,
        due,
        dueEstimated: true,
      }),
      publicityOpened: publicityOpened({
        institutionName: '郑州大学',
        publicityTitle: '2027年度产教融合示范高校拟认定名单公示',
        entryTitle: '新工科产业学院',
        resultZh: null,
        firstDay: '2027年4月1日',
        endsAt: due,
        estimated: true,
      }),
      submissionReceipt: submissionReceipt({
        ...base,
        deadlineEstimated: true,
        applicationTitle: '新工科产业学院',
        version: 1,
        receivedAt: shanghaiInstant('2027-03-20', 10),
        warnings: [],
      }),
    };
    for (const [name, e] of Object.entries(emails)) {
      // A receipt's subject names no date; the deadline it repeats is in the body.
      if (name !== 'submissionReceipt') expect(e.subject, name).toContain('预计');
      expect(e.text, name).toMatch(/2027年(4月10日|3月26日) 24:00（预计/);
    }
  });

  it('says why a deadline changed, and marks the old date 预计 only when it was an estimate', () => {
    const moved = { ...base, deadlineEstimated: false, previous: shanghaiInstant('2027-03-24', 24) };
    const published = deadlineChanged({ ...moved, previousEstimated: true });
    expect(published.text).toContain('由 2027年3月24日 24:00（预计） 调整为 2027年3月26日 24:00');
    expect(published.text).toContain('国务院办公厅公布了当年节假日安排');
    const corrected = deadlineChanged({ ...moved, previousEstimated: false });
    expect(corrected.text).toContain('由 2027年3月24日 24:00 调整为 2027年3月26日 24:00');
    expect(corrected.text).not.toContain('预计');
    expect(corrected.text).toContain('工作人员更正了已录入的节假日安排');
  });

  it('says nothing of an estimate once the calendar is official', () => {
    const e = callReminder({ ...WHERE, ...base, deadlineEstimated: false, workingDaysLeft: 1 });
    expect(e.subject).toBe('【申报提醒】2027年度产教融合示范高校申报将于1个工作日后截止');
    expect(e.text).not.toContain('预计');
  });
});

/** One rendering of every template, each branch of its text at least once, with fixed facts. */
function everyTemplate(t: typeof templates): Record<string, templates.RenderedEmail> {
  const at = (day: string, hours: number) => shanghaiInstant(day, hours);
  const round = {
    institutionName: '郑州大学',
    roundTitle: '2027年度产教融合示范高校申报',
    programmeName: '产教融合示范高校',
    year: 2027,
    deadline: at('2027-03-26', 24),
  };
  const expert = { expertName: '张明', reviewTitle: '2027年度产教融合示范高校申报专家评审' };
  const member = { institutionName: '河南大学', programmeName: '产教融合示范学院', entryTitle: '智能制造产业学院' };
  const event = {
    institutionName: '河南理工大学',
    kindZh: '路演',
    eventTitle: '2027年产教融合成果路演',
    startsAt: at('2027-05-20', 14),
    placeZh: '郑州国际会展中心',
  };
  const project = { institutionName: '郑州轻工业大学', projectTitle: '产教融合协同育人机制研究' };
  const showcase = { institutionName: '河南工业大学', showcaseTitle: '2027年度产教融合典型案例征集' };
  return {
    callNotice: t.callNotice({
      ...WHERE,
      ...round,
      deadlineEstimated: true,
      opensAt: at('2027-03-01', 9),
      quotaNote: '每年遴选认定 3–5 所',
      formalRules: demoRules,
    }),
    callReminder: t.callReminder({ ...WHERE, ...round, deadlineEstimated: false, workingDaysLeft: 3 }),
    deadlineExtended: t.deadlineExtended({
      ...round,
      deadlineEstimated: true,
      previous: at('2027-03-19', 24),
      previousEstimated: true,
      reason: '材料准备时间不足',
    }),
    deadlineChanged: t.deadlineChanged({
      ...round,
      deadlineEstimated: false,
      previous: at('2027-03-24', 24),
      previousEstimated: true,
    }),
    deadlineCorrected: t.deadlineChanged({
      ...round,
      deadlineEstimated: false,
      previous: at('2027-03-24', 24),
      previousEstimated: false,
    }),
    submissionReceipt: t.submissionReceipt({
      ...round,
      deadlineEstimated: false,
      applicationTitle: '新工科产业学院',
      version: 2,
      receivedAt: at('2027-03-20', 10.5),
      warnings: [],
    }),
    submissionReceiptWithWarnings: t.submissionReceipt({
      ...round,
      deadlineEstimated: true,
      applicationTitle: '新工科产业学院',
      version: 1,
      receivedAt: at('2027-03-20', 10),
      warnings: [
        '缺少附件：申报书',
        '截止后形式审查时按届时记录再行判定：申报单位及其所属学校在接收之日不处于本项目类别的禁止申报期内',
      ],
    }),
    notShortlistedNotice: t.notShortlistedNotice({ ...round, applicationTitle: '新工科产业学院' }),
    publicityOpened: t.publicityOpened({
      institutionName: '郑州大学',
      publicityTitle: '2027年度产教融合示范高校申报拟认定名单公示',
      entryTitle: '新工科产业学院',
      resultZh: null,
      firstDay: '2027年5月6日',
      endsAt: at('2027-05-12', 24),
      estimated: false,
    }),
    publicityOpenedWithResult: t.publicityOpened({
      institutionName: '河南大学',
      publicityTitle: '2028年度动态评价结果公示',
      entryTitle: '智能制造产业学院',
      resultZh: '优秀（92.5 分）',
      firstDay: '2028年5月8日',
      endsAt: at('2028-05-12', 24),
      estimated: true,
    }),
    roundCancelled: t.roundCancelled({ ...round, reason: '政策调整' }),
    formalCheckFailed: t.formalCheckFailed({
      ...round,
      applicationTitle: '新工科产业学院',
      reasons: ['缺少承诺书', '超出字数'],
    }),
    reviewInvitation: t.reviewInvitation({
      ...LINK,
      ...expert,
      count: 4,
      due: at('2027-04-10', 17),
      dueEstimated: false,
      replacement: false,
    }),
    reviewInvitationReplacement: t.reviewInvitation({
      ...LINK,
      ...expert,
      count: 1,
      due: at('2027-04-12', 24),
      dueEstimated: true,
      replacement: true,
    }),
    reviewReminder: t.reviewReminder({
      ...LINK,
      ...expert,
      open: 2,
      due: at('2027-04-10', 17),
      dueEstimated: false,
      workingDaysLeft: 2,
    }),
    reviewBlocked: t.reviewBlocked({
      ...WHERE,
      reviewTitle: expert.reviewTitle,
      explanation: '回避后可分派专家不足 5 人。',
    }),
    reviewBlockedWithRetry: t.reviewBlocked({
      ...WHERE,
      reviewTitle: expert.reviewTitle,
      explanation: '回避后可分派专家不足 5 人。',
      reviewId: '6f1c2a4e-8b7d-4c3a-9e21-5d0f7a9b3c11',
    }),
    replacementUnavailable: t.replacementUnavailable({
      ...WHERE,
      reviewTitle: expert.reviewTitle,
      items: ['app-7', 'app-12'],
    }),
    childWorkflowFailed: t.childWorkflowFailed({
      ...WHERE,
      parentWorkflowId: 'round-demo_university-2027',
      childWorkflowId: 'review-round-demo_university-2027',
      childType: 'reviewWorkflow',
      attempt: 1,
      reason: 'round round-demo_university-2027 not found',
    }),
    childWorkflowFailedAgain: t.childWorkflowFailed({
      ...WHERE,
      parentWorkflowId: 'showcase-2027',
      childWorkflowId: 'publicity-showcase-2027',
      childType: 'publicityWorkflow',
      attempt: 2,
      reason: '公示数据缺失',
    }),
    staffGradeNeeded: t.staffGradeNeeded({
      ...WHERE,
      what: '“郑州大学计算机学院 产教融合示范学院”（郑州大学）的整改报告',
      valid: 1,
      min: 3,
    }),
    reviewCompleted: t.reviewCompleted({
      ...WHERE,
      reviewTitle: expert.reviewTitle,
      items: 12,
      recommended: 5,
      underReviewed: ['甲', '乙'],
      spread: ['丙'],
      spreadAbove: 20,
    }),
    reviewCompletedClean: t.reviewCompleted({
      ...WHERE,
      reviewTitle: expert.reviewTitle,
      items: 3,
      recommended: 3,
      underReviewed: [],
      spread: [],
      spreadAbove: 20,
    }),
    objectionUpheld: t.objectionResolved({
      objectorName: '李华',
      publicityTitle: '2027年度认定结果公示',
      entryTitle: '新工科产业学院',
      upheld: true,
      reason: '材料不实',
    }),
    objectionDismissed: t.objectionResolved({
      objectorName: '李华',
      publicityTitle: '2027年度认定结果公示',
      entryTitle: null,
      upheld: false,
      reason: '无事实依据',
    }),
    entryRemoved: t.entryRemoved({
      institutionName: '郑州大学',
      publicityTitle: '2027年度认定结果公示',
      entryTitle: '新工科产业学院',
      reason: '材料不实',
    }),
    objectionsPending: t.objectionsPending({
      ...WHERE,
      publicityTitle: '2027年度认定结果公示',
      pending: 2,
      endedAt: at('2027-06-01', 24),
    }),
    approvalNotice: t.approvalNotice({
      institutionName: '郑州大学',
      roundTitle: round.roundTitle,
      programmeName: round.programmeName,
      entryTitle: '新工科产业学院',
    }),
    revocationNotice: t.revocationNotice({
      institutionName: '郑州大学',
      programmeName: round.programmeName,
      entryTitle: '新工科产业学院',
      reason: '数据造假',
      barEndsOn: '2030年6月1日',
    }),
    evaluationRequest: t.evaluationRequest({
      ...WHERE,
      ...member,
      evaluationTitle: '2028年度动态评价',
      due: at('2028-03-31', 24),
      dueEstimated: true,
    }),
    evaluationReminder: t.evaluationReminder({
      ...WHERE,
      ...member,
      evaluationTitle: '2028年度动态评价',
      due: at('2028-03-31', 24),
      dueEstimated: false,
      workingDaysLeft: 5,
    }),
    evaluationResultFail: t.evaluationResult({
      ...member,
      evaluationTitle: '2028年度动态评价',
      gradeZh: '不合格',
      score: 58.456,
      reason: '未提交自评报告',
    }),
    evaluationResultPass: t.evaluationResult({
      ...member,
      evaluationTitle: '2028年度动态评价',
      gradeZh: '优秀',
      score: null,
      reason: null,
    }),
    evaluationUngraded: t.evaluationUngraded({
      ...WHERE,
      evaluationTitle: '2028年度动态评价',
      evaluationId: 'ev-2028',
      ungraded: 3,
    }),
    rectificationNotice: t.rectificationNotice({
      ...WHERE,
      ...member,
      reason: '年度评价不合格',
      months: 6,
      due: at('2028-12-31', 24),
      dueEstimated: true,
    }),
    rectificationReminder: t.rectificationReminder({
      ...WHERE,
      ...member,
      due: at('2028-12-31', 24),
      dueEstimated: false,
      workingDaysLeft: 4,
    }),
    rectificationPassed: t.rectificationPassed({ ...member, score: 85 }),
    rectificationPassedByStaff: t.rectificationPassed({ ...member, score: null }),
    removalNotice: t.removalNotice({ ...member, reason: '复评不合格', removedOn: '2029年2月1日' }),
    removalWithdrawn: t.removalWithdrawn({ ...member, reason: '复评专家未回避' }),
    eventInvitation: t.eventInvitation({ ...WHERE, ...event }),
    eventInvitationExhibition: t.eventInvitation({ ...WHERE, ...event, kindZh: '展会' }),
    eventReminderTomorrow: t.eventReminder({ ...event, daysBefore: 1 }),
    eventReminderWeek: t.eventReminder({ ...event, daysBefore: 7 }),
    eventMoved: t.eventMoved({
      ...WHERE,
      ...event,
      previousAt: at('2027-05-13', 9),
      previousPlaceZh: '河南省教育厅',
      reason: '场地冲突',
    }),
    eventCancelled: t.eventCancelled({ ...event, reason: '天气原因' }),
    projectApproved: t.projectApproved({ ...project, startsOn: '2027年7月1日', endsOn: '2029年6月30日' }),
    projectReportRequestMidterm: t.projectReportRequest({
      ...WHERE,
      ...project,
      kind: 'midterm',
      attempt: 1,
      due: at('2028-06-30', 24),
      dueEstimated: true,
    }),
    projectReportRequestFinalAgain: t.projectReportRequest({
      ...WHERE,
      ...project,
      kind: 'final',
      attempt: 2,
      due: at('2029-09-30', 24),
      dueEstimated: false,
    }),
    projectReportReminder: t.projectReportReminder({
      ...WHERE,
      ...project,
      kind: 'final',
      due: at('2029-06-30', 24),
      dueEstimated: false,
      workingDaysLeft: 3,
    }),
    projectReportOverdue: t.projectReportOverdue({ ...WHERE, ...project, kind: 'midterm', due: at('2028-06-30', 24) }),
    projectReportResultFinalPassed: t.projectReportResult({
      ...project,
      kind: 'final',
      passed: true,
      score: 82.5,
      reason: null,
      mayResubmit: false,
    }),
    projectReportResultFinalFailed: t.projectReportResult({
      ...project,
      kind: 'final',
      passed: false,
      score: null,
      reason: '成果不足',
      mayResubmit: true,
    }),
    projectReportResultMidterm: t.projectReportResult({
      ...project,
      kind: 'midterm',
      passed: true,
      score: 90,
      reason: null,
      mayResubmit: false,
    }),
    projectExtensionApproved: t.projectExtensionDecided({
      ...project,
      approved: true,
      months: 6,
      endsOn: '2029年12月31日',
      reason: '疫情影响',
    }),
    projectExtensionRefused: t.projectExtensionDecided({
      ...project,
      approved: false,
      months: 12,
      endsOn: '2029年6月30日',
      reason: '理由不充分',
    }),
    projectTerminated: t.projectTerminated({ ...project, reason: '负责人调离' }),
    showcaseCall: t.showcaseCall({ ...WHERE, ...showcase, due: at('2027-09-30', 24), dueEstimated: true }),
    showcaseReminder: t.showcaseReminder({
      ...WHERE,
      ...showcase,
      due: at('2027-09-30', 24),
      dueEstimated: false,
      workingDaysLeft: 2,
    }),
    showcaseSelected: t.showcaseResult({ ...showcase, caseTitle: '校企共建产业学院', selected: true }),
    showcaseNotSelected: t.showcaseResult({ ...showcase, caseTitle: '校企共建产业学院', selected: false }),
    receiptRefused: t.receiptNotAccepted({
      addressee: '郑州大学',
      requestZh: '提交申报',
      about: '申报项目《智能制造产教融合品牌项目》',
      receivedAt: new Date('2027-04-06T15:00:12Z'),
      receiptId: 'applicant:zzu/final-2027#1',
      outcome: 'refused',
      reason: '申报已于 2027年4月6日 24:00 截止（本次接收时间 2027年4月7日 00:30），逾期不予受理',
    }),
    accountInvitation: t.accountInvitation({
      name: '李华',
      roleZh: '评审专家',
      email: 'lihua@zzu.edu.cn',
      link: 'https://ronghe.jyt.henan.gov.cn/account/invitation/aW52aXRhdGlvbg',
      expiresAt: at('2027-04-09', 9.5),
      totp: false,
      ...WHERE,
    }),
    passwordReset: t.passwordReset({
      name: '李华',
      email: 'lihua@zzu.edu.cn',
      link: 'https://ronghe.jyt.henan.gov.cn/account/reset/cmVzZXQ',
      expiresAt: at('2027-04-09', 9.5),
    }),
    receiptFailed: t.receiptNotAccepted({
      addressee: '王芳',
      requestZh: '公示异议',
      receivedAt: new Date('2027-06-01T02:00:00Z'),
      receiptId: 'receipt/3f2b9c4e-7d1a-4e8b-9a0c-5b6d7e8f9a01',
      outcome: 'failed',
      reason: 'internal',
    }),
  };
}

// Issue 14, point 14: a notice an official would sign.
describe('every notice, as an official would sign it', () => {
  const emails = Object.entries(everyTemplate(templates));

  it.each(emails)('%s has one deadline: no ISO timestamp, no English date line', (_name, email) => {
    expect(`${email.subject}\n${email.text}`).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[+-]\d{2}:\d{2}\b/);
  });

  it.each(emails)('%s names no API path', (_name, email) => {
    expect(`${email.subject}\n${email.text}`).not.toMatch(/\/api\/|\b(GET|POST|PUT|DELETE) \//);
  });

  it.each(emails)('%s, signed, carries the issuing body, the date of issue and the contact', (_name, email) => {
    const signed = signNotice(email.text, DEFAULT_LETTERHEAD, new Date('2027-04-06T01:30:00Z'));
    const foot = signed.slice(email.text.length + 1).split('\n');
    expect(foot).toEqual([
      '',
      '河南省高等教育学会产教融合管理服务中心',
      '2027年4月6日',
      '',
      '联系人：王老师，联系电话：0371-65900000',
      '（本邮件由 ronghe 系统自动发送，请勿直接回复。）',
    ]);
    // Signed once: the body itself ends in what the procedure says, not in a signature of its own.
    expect(email.text).not.toContain('河南省高等教育学会产教融合管理服务中心\n');
  });

  it('dates the issue by the day in Asia/Shanghai', () => {
    // 2027-04-06 23:30 UTC is 7 April in Beijing.
    expect(signNotice('正文', DEFAULT_LETTERHEAD, new Date('2027-04-06T23:30:00Z'))).toContain('\n2027年4月7日\n');
  });
});

// Issue 15, point 4: every email that asks its reader to do something in the system says where.
describe('every email that asks someone to act says where', () => {
  /** Phrases that send the reader into the system (登录 ronghe 系统, 在系统中…, 打开以下链接). */
  const ASKS_TO_ACT = /登录 ronghe 系统|在系统中|通过 ronghe 系统提交|请打开以下链接|尚未提交|尚未推荐/;
  const asking = Object.entries(everyTemplate(templates)).filter(([, email]) => ASKS_TO_ACT.test(email.text));

  it('finds the notices that ask to act', () => {
    expect(asking.map(([name]) => name)).toEqual(
      expect.arrayContaining(['callNotice', 'callReminder', 'eventInvitation', 'reviewInvitation', 'reviewReminder']),
    );
  });

  it.each(asking)('%s prints the address to go to (PUBLIC_BASE_URL)', (_name, email) => {
    expect(email.text).toMatch(/https:\/\/ronghe\.jyt\.henan\.gov\.cn\//);
  });

  it.each(Object.entries(everyTemplate(templates)))('%s never says 登录 ronghe 系统 without the address', (_n, e) => {
    for (const line of e.text.split('\n').filter((l) => /登录 ronghe 系统|在系统中/.test(l))) {
      expect(line).toContain(SIGN_IN_URL);
    }
  });

  it.each(['reviewInvitation', 'reviewInvitationReplacement', 'reviewReminder'])(
    '%s carries the assignment link, until when it is good, and where to sign in after',
    (name) => {
      const email = Object.fromEntries(Object.entries(everyTemplate(templates)))[name]!;
      expect(email.text).toContain(ASSIGNMENT_LINK);
      expect(email.text).toContain('链接有效期至 2027年4月13日 24:00（北京时间）');
      expect(email.text).toContain(`过期后请在 ${SIGN_IN_URL} 以您的账号和密码登录`);
    },
  );
});

describe('every template, byte for byte', () => {
  // The snapshot is the emails as sent today, signed as the outbox signs them (issued 6 April 2027 under the
  // default letterhead): a change to any subject or body shows up here first.
  it.each(Object.entries(everyTemplate(templates)))('renders %s as before', (_name, email) => {
    const issuedAt = new Date('2027-04-06T01:30:00Z');
    expect({ ...email, text: signNotice(email.text, DEFAULT_LETTERHEAD, issuedAt) }).toMatchSnapshot();
  });

  it('leaves no exported template out of the snapshot', () => {
    const used = new Set<string>();
    const recording = new Proxy(templates, {
      get: (target, name) => {
        used.add(String(name));
        return Reflect.get(target, name) as unknown;
      },
    });
    everyTemplate(recording);
    const exported = Object.keys(templates).filter(
      (name) => typeof Reflect.get(templates, name) === 'function' && name !== 'deadlineZh',
    );
    expect(exported.filter((name) => !used.has(name))).toEqual([]);
  });
});
