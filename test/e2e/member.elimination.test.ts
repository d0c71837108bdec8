import { afterAll, beforeAll, describe, expect } from 'vitest';
import { collegeEmail, collegeId } from '../../db/seeds/reference-data.js';
import { evaluationRubric } from '../../domain/programmes.js';
import type { MemberWorkflow } from '../../workflows/member.messages.js';
import { recordHistories } from '../support/record-histories.js';
import { scoreAssignedReviews, uniformScores } from '../support/review.scores.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { objector, type Member, type Rectification } from '../support/member.js';
import { storySteps } from '../support/steps.js';
import { eventually } from '../support/wait.js';

/**
 * Procedures 4 and 5 over three simulated years of one directory programme, on the time-skipping server with
 * the real API, PostgreSQL and maildev: every step a person takes goes through the API; everything else is
 * the workflows' own timers.
 *
 * - A reports every year and is graded 良好: it stays.
 * - B is graded 不合格 in year 1, rectifies, passes the experts' re-evaluation and is active again.
 * - C never reports: 不合格, no rectification report, its removal is publicised and it is removed.
 * - D is revoked for misconduct in year 1; its application two years later is refused at submission.
 */
const TASK_QUEUE = 'ronghe-elimination-ts';
const PROGRAMME = 'demo_college';

let stack: TimeSkippingStack;
let staff: string;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };

const db = () => stack.database.db;

const hour = 60 * 60 * 1000;
const shanghai = (d: Date) => new Date(d.getTime() + 8 * hour).toISOString().replace('Z', '+08:00');

/** A directory entry as 认定 leaves it, and its member workflow started the way the round starts it. */
async function admit(key: Member['key'], university: string, college: string, field: string): Promise<Member> {
  const institutionId = collegeId(university, college);
  const today = (await stack.nowIso()).slice(0, 10);
  const [row] = await db()('directory_entries')
    .insert({
      programme: PROGRAMME,
      institution_id: institutionId,
      title_zh: `${key} 产教融合示范学院（${institutionId}）`,
      field_key: field,
      status: 'active',
      admitted_on: today,
    })
    .returning<{ id: string }[]>('id');
  const entryId = row!.id;
  await stack.env.client.workflow.start<MemberWorkflow>('memberWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `member-${entryId}`,
    args: [{ entryId, programme: PROGRAMME, institutionId, admittedOn: today }],
  });
  return {
    key,
    entryId,
    institutionId,
    email: collegeEmail(university, college),
    token: await stack.token({ role: 'applicant', id: institutionId }),
  };
}

const memberState = (m: Member) =>
  stack.env.client.workflow
    .getHandle(`member-${m.entryId}`)
    .query<{ status: string; grades: { year: number; grade: string }[]; elimination?: { stage: string } }>('getMember');

/** Every expert assigned in one review submits the same score on every criterion of the evaluation rubric. */
async function reviewAll(subjectKind: string, subjectId: string, scoreOf: (itemId: string) => number): Promise<Date> {
  const rubric = evaluationRubric.map((c) => c.key);
  return (
    await scoreAssignedReviews(stack, { kind: subjectKind, id: subjectId }, (itemId) =>
      uniformScores(rubric, scoreOf(itemId)),
    )
  ).dueAt;
}

async function publicityOf(subjectKind: string, subjectId: string): Promise<{ id: string; ends_at: Date }> {
  return eventually(async () =>
    db()('publicity_periods')
      .where({ subject_kind: subjectKind, subject_id: subjectId })
      .whereNull('parent_id')
      .first<{ id: string; ends_at: Date } | undefined>('id', 'ends_at'),
  );
}

/** The one publicity entry of an item (a report, a rectification) in a period. */
async function publicityEntry(publicityId: string, itemId: string): Promise<string> {
  const e = await db()('publicity_entries')
    .where({ publicity_id: publicityId, item_id: itemId })
    .first<{ id: string }>('id');
  return e.id;
}

async function fileObjection(publicityId: string, body: Record<string, unknown>) {
  return stack.request<Problem & { objectionId: string }>('POST', `/api/publicity/${publicityId}/objections`, {
    body: { ...objector, ...body },
  });
}

async function resolve(objectionId: string, body: Record<string, unknown>) {
  const r = await stack.request<Problem>('POST', `/api/objections/${objectionId}/resolution`, { token: staff, body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function reportOf(evaluationId: string, m: Member) {
  return db()('evaluation_reports')
    .where({ evaluation_id: evaluationId, directory_entry_id: m.entryId })
    .first<{ id: string } | undefined>('id');
}

/** One year's evaluation, through the API: launched, reports from `reporting`, reviewed, publicised, published. */
async function evaluationYear(
  year: number,
  reporting: Member[],
  score: (m: Member) => number,
  /** What happens while the results are publicised; true when a corrected grade is publicised again. */
  duringPublicity?: (publicityId: string, reportOf: (m: Member) => Promise<string>) => Promise<boolean>,
): Promise<{ evaluationId: string; results: { entryId: string; grade: string | null; gradeZh: string | null }[] }> {
  await stack.skipTo(`${year}-03-06T09:00:00+08:00`);
  const launched = await stack.request<{ evaluationId: string }>('POST', '/api/evaluations', {
    token: staff,
    body: { programme: PROGRAMME, year },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  const { evaluationId } = launched.body;
  const again = await stack.request<Problem>('POST', '/api/evaluations', {
    token: staff,
    body: { programme: PROGRAMME, year },
  });
  expect(again.status).toBe(409);
  expect(again.body.code).toBe('EVALUATION_EXISTS');

  const due = await eventually(async () => {
    const r = await stack.request<{ reportsDue: { at: string } | null; workflow: { stage: string } | null }>(
      'GET',
      `/api/evaluations/${evaluationId}`,
      { token: staff },
    );
    return r.body.workflow?.stage === 'reports_open' ? r.body.reportsDue! : undefined;
  });
  await stack.skipTo(`${year}-03-06T10:00:00+08:00`);
  for (const m of reporting) {
    const sent = await stack.request('POST', `/api/evaluations/${evaluationId}/reports`, {
      token: m.token,
      body: { entryId: m.entryId, summary: `${m.key} 本年度建设进展顺利，校企共建课程与实训基地按计划推进。` },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  }

  // After the due time (and the processing grace) the reports close; a late report is refused with the reason.
  await stack.skipTo(new Date(Date.parse(due.at) + hour).toISOString());
  const late = await stack.request<Problem>('POST', `/api/evaluations/${evaluationId}/reports`, {
    token: reporting[0]!.token,
    body: { entryId: reporting[0]!.entryId, summary: '逾期提交的自评报告，应当被拒绝并说明截止时间。' },
  });
  expect(late.status).toBe(409);
  expect(late.body.code).toBe('DEADLINE_PASSED');

  const reportIds = new Map<string, Member>();
  for (const m of reporting) reportIds.set((await reportOf(evaluationId, m))!.id, m);
  const reviewDue = await reviewAll('evaluation', evaluationId, (itemId) => score(reportIds.get(itemId)!));
  await stack.skipTo(new Date(reviewDue.getTime() + hour).toISOString());
  const publicity = await publicityOf('evaluation', evaluationId);
  const republicised = await duringPublicity?.(publicity.id, async (m) => (await reportOf(evaluationId, m))!.id);
  await stack.skipTo(new Date(publicity.ends_at.getTime() + hour).toISOString());
  if (republicised) {
    const again = await eventually(async () =>
      db()('publicity_periods')
        .where({ subject_kind: 'evaluation', subject_id: evaluationId, parent_id: publicity.id })
        .first<{ ends_at: Date } | undefined>('ends_at'),
    );
    await stack.skipTo(new Date(again.ends_at.getTime() + hour).toISOString());
  }
  await eventually(
    async () =>
      (await stack.env.client.workflow.getHandle(evaluationId).describe()).status.name === 'COMPLETED'
        ? true
        : undefined,
    { timeoutMs: 60_000 },
  );
  const result = await stack.request<{
    status: string;
    results: { entryId: string; grade: string | null; gradeZh: string | null }[];
  }>('GET', `/api/evaluations/${evaluationId}`, { token: staff });
  expect(result.body.status).toBe('published');
  return { evaluationId, results: result.body.results };
}

/** The outbox rows of one purpose, "recipient status": one email per decision, and sent. */
const outboxOf = async (purpose: string) =>
  (await db()('email_outbox').where({ purpose }).select<{ recipient: string; status: string }[]>('recipient', 'status'))
    .map((r) => `${r.recipient} ${r.status}`)
    .sort();

/** How many audit rows (decisions recorded) there are of each action. */
async function auditCounts(actions: string[]): Promise<Record<string, number>> {
  const rows = await db()('audit_events').whereIn('action', actions).pluck<string[]>('action');
  return Object.fromEntries(actions.map((a) => [a, rows.filter((r) => r === a).length]));
}

const mailTo = async (purpose: string) =>
  (await stack.mailbox.list())
    .filter((m) => m.purpose === purpose)
    .map((m) => m.to)
    .sort();

describe.sequential('three years of one directory programme (time-skipping server)', () => {
  const step = storySteps();
  // What the steps hand on to each other.
  let A: Member;
  let B: Member;
  let C: Member;
  let D: Member;
  let reason: string;
  let rectB: Rectification;
  let rectC: Rectification;

  step('when four members are admitted and D is revoked for misconduct, then D is barred for five years', async () => {
    await stack.skipTo('2028-02-01T10:00:00+08:00');
    A = await admit('A', 'zzu', 'cs', 'next_gen_it');
    B = await admit('B', 'henu', 'cs', 'next_gen_it');
    C = await admit('C', 'zzu', 'mech', 'high_end_equipment');
    D = await admit('D', 'hpu', 'energy', 'new_energy');

    // D: revoked for misconduct; the bar runs five years from today.
    await stack.skipTo('2028-02-15T10:00:00+08:00');
    reason = '申报材料弄虚作假，经核查属实';
    const revoked = await stack.request<{ barEndsOn: string }>('POST', `/api/directory/${D.entryId}/revoke`, {
      token: staff,
      body: { reason },
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.barEndsOn).toBe('2033-02-15');
    // The revocation was crashed once right after its commit: the retry answered from the record, with one
    // revocation and one notice, sent.
    expect(stack.crashedDecisions.revokeMember).toBe(1);
    expect(await auditCounts(['directory.revoke'])).toEqual({ 'directory.revoke': 1 });
    expect(await outboxOf('revocation_notice')).toEqual([`${D.email} sent`]);
  });

  step('when year 1 is evaluated, then A is 良好, B and C 不合格, and only C was reminded', async () => {
    // ---- Year 1 (2028): A 80 → 良好; B 50 → 不合格; C sends nothing → 不合格.
    const y1 = await evaluationYear(2028, [A, B], (m) => (m === A ? 80 : 50));
    const gradeOf = (r: typeof y1, m: Member) => r.results.find((x) => x.entryId === m.entryId)?.grade;
    expect(y1.results.map((r) => r.entryId).sort()).toEqual([A, B, C].map((m) => m.entryId).sort());
    expect([gradeOf(y1, A), gradeOf(y1, B), gradeOf(y1, C)]).toEqual(['good', 'fail', 'fail']);
    expect(y1.results.find((r) => r.entryId === C.entryId)).toMatchObject({ gradeZh: '不合格' });
    // Reminders went only to C, the one member without a report (7, 3 and 1 working days before).
    expect(await mailTo('evaluation_reminder')).toEqual([C.email, C.email, C.email]);
    expect(await mailTo('evaluation_request')).toEqual([A.email, B.email, C.email].sort());
    expect(await mailTo('evaluation_result')).toEqual([A.email, B.email, C.email].sort());
  });

  step('when B and C fail, then both rectify for six months; only B reports', async () => {
    // B and C are warned and rectifying.
    const rect = await eventually(async () => {
      const rows = await db()('rectifications')
        .whereIn('directory_entry_id', [B.entryId, C.entryId])
        .select<Rectification[]>('id', 'directory_entry_id', 'due_at', 'months');
      return rows.length === 2 ? rows : undefined;
    });
    expect(rect.map((r) => r.months)).toEqual([6, 6]);
    rectB = rect.find((r) => r.directory_entry_id === B.entryId)!;
    rectC = rect.find((r) => r.directory_entry_id === C.entryId)!;
    expect((await memberState(B)).status).toBe('rectifying');
    expect((await memberState(C)).status).toBe('rectifying');
    expect(await mailTo('rectification_notice')).toEqual([B.email, C.email].sort());

    // A has no rectification to report on.
    const notOpen = await stack.request<Problem>('POST', `/api/directory/${A.entryId}/rectification-report`, {
      token: A.token,
      body: { summary: '没有整改任务的成员提交整改报告，应当被拒绝。' },
    });
    expect(notOpen.status).toBe(409);
    expect(notOpen.body.code).toBe('RECTIFICATION_NOT_OPEN');
    // B reports its rectification; C never does.
    const reported = await stack.request('POST', `/api/directory/${B.entryId}/rectification-report`, {
      token: B.token,
      body: { summary: 'B 已完成整改：重建校企合作机制，新增企业兼职教师十二名。', measures: ['重建合作机制'] },
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(200);
  });

  step('when the rectification is due, then B passes again and C is removed after a dismissed appeal', async () => {
    // The rectification's due time passes: experts re-evaluate B, but only one of them scores (50); the others
    // and their replacements never do. C's removal is publicised.
    await stack.skipTo(new Date(rectB.due_at.getTime() + hour).toISOString());
    const rubric = evaluationRubric.map((c) => c.key);
    const reReview = await scoreAssignedReviews(stack, { kind: 'rectification', id: rectB.id }, (_item, nth) =>
      nth === 0 ? uniformScores(rubric, 50) : null,
    );
    const reReviewDue = reReview.dueAt;
    const removal = await publicityOf('removal', rectC.id);
    const removalEnds = removal.ends_at;
    expect((await memberState(C)).status).toBe('removal_pending');
    // The public page publishes the proposed removal and takes procedural appeals only.
    const pageHtml = await (await fetch(`${stack.api!.url}/publicity/${removal.id}`)).text();
    expect(pageHtml).toContain('拟移出名录（逾期未提交整改报告）');
    expect(pageHtml).toContain('仅受理以程序问题为由的申诉');
    expect(pageHtml).toContain('name="grounds" value="procedural"');
    // C appeals: only procedural grounds are heard; a procedural appeal is heard and dismissed.
    const entryC = await publicityEntry(removal.id, C.entryId);
    const substantive = await fileObjection(removal.id, {
      entryId: entryC,
      facts: '我院整改成效显著，专家复评结论不当，请求重新评价。',
      grounds: 'substantive',
    });
    expect(substantive.status).toBe(422);
    expect(substantive.body.code).toBe('APPEAL_PROCEDURAL_ONLY');
    const procedural = await fileObjection(removal.id, {
      entryId: entryC,
      facts: '整改通知未送达我院联系人，程序存在瑕疵，请求核查。',
      grounds: 'procedural',
    });
    expect(procedural.status, JSON.stringify(procedural.body)).toBe(201);
    await resolve(procedural.body.objectionId, { outcome: 'dismissed', reason: '经核查，整改通知已按期送达联系邮箱' });
    const publicDirectory = await stack.request<{ items: { entryId: string }[] }>(
      'GET',
      `/api/directory?programme=${PROGRAMME}&status=removal_pending`,
    );
    expect(publicDirectory.body.items.map((i) => i.entryId)).toEqual([C.entryId]);
    await stack.skipTo(new Date(Math.max(reReviewDue.getTime(), removalEnds.getTime()) + hour).toISOString());
    // The replacements' own due time passes too: one valid score of three is too few to fail B (nobody is
    // failed for the experts' absence): B waits for staff, who are emailed, and a staff grade decides.
    const replacementsDue = await eventually(async () => {
      const rows = await db()('review_assignments')
        .where({ review_id: reReview.reviewId, wave: 1 })
        .select<{ due_at: Date }[]>('due_at');
      return rows.length > 0 ? new Date(Math.max(...rows.map((r) => r.due_at.getTime()))) : undefined;
    });
    await stack.skipTo(new Date(replacementsDue.getTime() + hour).toISOString());
    await eventually(async () => ((await memberState(B)).elimination?.stage === 'awaiting_grade' ? true : undefined));
    expect(await mailTo('rectification_grade_needed')).toEqual([stack.config.staffEmail]);
    expect((await memberState(B)).status).toBe('rectifying');
    const premature = await stack.request<Problem>('POST', `/api/directory/${A.entryId}/rectification-grade`, {
      token: staff,
      body: { passed: true, reason: '该成员没有待认定的整改报告' },
    });
    expect(premature.body.code).toBe('GRADE_NOT_PENDING');
    const graded = await stack.request<{ passed: boolean }>('POST', `/api/directory/${B.entryId}/rectification-grade`, {
      token: staff,
      body: { passed: true, reason: '专家缺评，经评估中心复核整改材料认定整改合格' },
    });
    expect(graded.status, JSON.stringify(graded.body)).toBe(200);
    expect(graded.body.passed).toBe(true);
    await eventually(async () => ((await memberState(B)).status === 'active' ? true : undefined));
    await eventually(async () => ((await memberState(C)).status === 'removed' ? true : undefined), {
      timeoutMs: 60_000,
    });
    expect(await mailTo('rectification_reminder')).toEqual([C.email, C.email, C.email]);
    expect(await mailTo('rectification_passed')).toEqual([B.email]);
    expect(await mailTo('removal_notice')).toEqual([C.email]);
    // Each decision of the rectification and the removal was crashed once right after its commit; each retry
    // returned the recorded result: one record and one email each.
    expect(stack.crashedDecisions).toMatchObject({
      recordRectificationReport: 1,
      decideRectification: 1,
      recordRectificationGrade: 1,
      markRemovalPending: 1,
      removeMember: 1,
    });
    expect(
      await auditCounts([
        'directory.rectification_report',
        'directory.rectification_report_resubmit',
        'directory.rectification_pass',
        'directory.rectification_awaiting_grade',
        'directory.rectification_staff_grade',
        'directory.rectification_fail',
        'directory.removal_publicise',
        'directory.remove',
      ]),
    ).toEqual({
      'directory.rectification_report': 1,
      'directory.rectification_report_resubmit': 0,
      'directory.rectification_pass': 1,
      'directory.rectification_awaiting_grade': 1,
      'directory.rectification_staff_grade': 1,
      'directory.rectification_fail': 0,
      'directory.removal_publicise': 1,
      'directory.remove': 1,
    });
    expect(await outboxOf('rectification_passed')).toEqual([`${B.email} sent`]);
    expect(await outboxOf('removal_notice')).toEqual([`${C.email} sent`]);
    // B's run of its first year, still running: it continues as new at the year's end.
    await recordHistories(stack.env.client, { 'member-rectified': `member-${B.entryId}` });
  });

  step('when B appeals its 2029 grade and the appeal stands, then 优秀 is publicised again', async () => {
    // ---- Years 2 and 3: A and B report and are graded 良好; C is gone from the evaluation. In 2029 B appeals
    // its grade during the publicity period; the appeal stands, the corrected grade (优秀) is publicised again.
    const y2 = await evaluationYear(
      2029,
      [A, B],
      () => 82,
      async (publicityId, reportOfMember) => {
        const entryB = await publicityEntry(publicityId, await reportOfMember(B));
        const listed = await stack.request<{ entries: { entryId: string; result: string }[] }>(
          'GET',
          `/api/publicity/${publicityId}`,
        );
        expect(listed.body.entries.find((e) => e.entryId === entryB)?.result).toBe('良好（82 分）');
        const appeal = await fileObjection(publicityId, {
          entryId: entryB,
          facts: '专家评分遗漏了本院新增的两个国家级实训基地，请求复核评价等级。',
          onBehalfOfUnit: true,
        });
        expect(appeal.status, JSON.stringify(appeal.body)).toBe(201);
        const noGrade = await stack.request<Problem>('POST', `/api/objections/${appeal.body.objectionId}/resolution`, {
          token: staff,
          body: { outcome: 'upheld', reason: '经复核，遗漏材料属实' },
        });
        expect(noGrade.status).toBe(422);
        await resolve(appeal.body.objectionId, {
          outcome: 'upheld',
          reason: '经复核，遗漏材料属实',
          grade: 'excellent',
        });
        return true;
      },
    );
    expect(Object.fromEntries(y2.results.map((r) => [r.entryId, r.grade]))).toEqual({
      [A.entryId]: 'good',
      [B.entryId]: 'excellent',
    });
  });

  step('when year 3 is evaluated, then A and B are 良好 and every grade is kept', async () => {
    const y3 = await evaluationYear(2030, [A, B], () => 82);
    expect(Object.fromEntries(y3.results.map((r) => [r.entryId, r.grade]))).toEqual({
      [A.entryId]: 'good',
      [B.entryId]: 'good',
    });
    expect((await memberState(A)).grades.map((g) => [g.year, g.grade])).toEqual([
      [2028, 'good'],
      [2029, 'good'],
      [2030, 'good'],
    ]);
    expect((await memberState(B)).grades.map((g) => [g.year, g.grade])).toEqual([
      [2028, 'fail'],
      [2029, 'excellent'],
      [2030, 'good'],
    ]);
    expect(await mailTo('objection_resolved')).toEqual([objector.email, objector.email]);
    expect((await memberState(B)).status).toBe('active');
    // Every report of the three years was crashed once after its commit, and recorded once.
    expect(stack.crashedDecisions.recordEvaluationReport).toBe(6);
    expect(await auditCounts(['evaluation.report_submit', 'evaluation.report_resubmit'])).toEqual({
      'evaluation.report_submit': 6,
      'evaluation.report_resubmit': 0,
    });
  });

  step('then the directory tells the story of each member with its decisions', async () => {
    // The directory tells each story with its decisions.
    const entry = async (m: Member) =>
      (
        await stack.request<{ status: string; decisions: { action: string }[] }>('GET', `/api/directory/${m.entryId}`, {
          token: staff,
        })
      ).body;
    expect((await entry(A)).status).toBe('active');
    const b = await entry(B);
    expect(b.status).toBe('active');
    expect(b.decisions.map((d) => d.action)).toEqual(
      expect.arrayContaining([
        'directory.rectification_start',
        'directory.rectification_report',
        'directory.rectification_pass',
        'evaluation.regrade',
      ]),
    );
    const c = await entry(C);
    expect(c.status).toBe('removed');
    expect(c.decisions.map((d) => d.action)).toEqual(
      expect.arrayContaining([
        'evaluation.report_missing',
        'directory.rectification_start',
        'directory.rectification_no_report',
        'directory.removal_publicise',
        'directory.remove',
      ]),
    );
    expect((await entry(D)).status).toBe('revoked');
    await recordHistories(stack.env.client, { 'member-removed': `member-${C.entryId}` });
  });

  step('when D applies two years after its revocation, then the submission is refused with the bar', async () => {
    // ---- D, two years after its revocation: its application to the same programme is refused at submission.
    await stack.skipTo('2030-06-01T09:00:00+08:00');
    const round = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: PROGRAMME, year: 2030 },
    });
    expect(round.status, JSON.stringify(round.body)).toBe(201);
    await eventually(async () => {
      const r = await stack.request<{ workflow?: { stage: string } }>('GET', `/api/rounds/${round.body.roundId}`, {
        token: staff,
      });
      return r.body.workflow?.stage === 'call_open' ? true : undefined;
    });
    const draft = await stack.request<{ applicationId: string }>(
      'POST',
      `/api/rounds/${round.body.roundId}/applications`,
      { token: D.token, body: { title: '河南理工大学能源科学与工程学院再次申报' } },
    );
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const refused = await stack.request<Problem>('POST', `/api/applications/${draft.body.applicationId}/submit`, {
      token: D.token,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('BARRED');
    expect(refused.body.detail).toContain(reason);
    expect(refused.body.detail).toContain('2033年2月15日');
    console.info(
      `three years: A ${[2028, 2029, 2030].map(() => '良好').join('/')}; B 不合格→整改通过→优秀（申诉成立）/良好; C 移出名录; D 撤销认定，禁止至 2033-02-15; at ${shanghai(new Date(await stack.env.currentTimeMs()))}`,
    );
  });
});
