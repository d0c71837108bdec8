import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collegeEmail, collegeId } from '../../db/seeds/reference-data.js';
import { evaluationRubric } from '../../domain/programmes.js';
import type { MemberWorkflow } from '../../workflows/member.messages.js';
import { recordHistories } from '../support/record-histories.js';
import { scoreAssignedReviews, uniformScores } from '../support/review.scores.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Procedure 4 on the dev server with real PostgreSQL and maildev: a whole evaluation year of ten members with
 * compressed durations. (Its yearly launch by a Schedule is in schedule.test.ts.)
 */
let stack: TestStack;
let staff: string;

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };
const db = () => stack.database.db;

interface Member {
  entryId: string;
  institutionId: string;
  email: string;
  token: string;
  /**
   * The experts' score; undefined when the member never reports; null when only one expert scores it (50, too
   * few valid scores for a grade) and the rest never do.
   */
  score: number | undefined | null;
}

const PROGRAMME = 'demo_college';
const colleges: [string, string, string, number | undefined | null][] = [
  ['zzu', 'cs', 'next_gen_it', 92],
  ['zzu', 'mech', 'high_end_equipment', 95],
  ['zzu', 'mat', 'new_materials', 80],
  ['henu', 'cs', 'next_gen_it', 78],
  // One expert scores it 50; the others never do (nor their replacements): one valid score of three is too few
  // to make it 不合格, so staff grade it, with a reason.
  ['henu', 'pharm', 'biomedicine', null],
  ['hpu', 'energy', 'new_energy', 76],
  ['hpu', 'mat', 'new_materials', 65],
  ['hpu', 'mech', 'high_end_equipment', 50],
  ['haust', 'vehicle', 'nev_connected', undefined],
  ['haust', 'agri', 'modern_agriculture', undefined],
];
const STAFF_GRADE = 'good';
const expectedGrade = (score: number | undefined | null) =>
  score === null
    ? STAFF_GRADE
    : score === undefined || score < 60
      ? 'fail'
      : score >= 90
        ? 'excellent'
        : score >= 75
          ? 'good'
          : 'pass';

describe('an evaluation year of ten members, end to end with compressed durations (dev server)', () => {
  it('reaches published results; every email exactly once; every decision audited', { timeout: 300_000 }, async () => {
    const members: Member[] = [];
    for (const [university, college, field, score] of colleges) {
      const institutionId = collegeId(university, college);
      const [row] = await db()('directory_entries')
        .insert({
          programme: PROGRAMME,
          institution_id: institutionId,
          title_zh: `${institutionId} 产教融合示范学院`,
          field_key: field,
          status: 'active',
          admitted_on: '2026-06-30',
        })
        .returning<{ id: string }[]>('id');
      await stack.client.workflow.start<MemberWorkflow>('memberWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `member-${row!.id}`,
        args: [{ entryId: row!.id, programme: PROGRAMME, institutionId, admittedOn: '2026-06-30' }],
      });
      members.push({
        entryId: row!.id,
        institutionId,
        email: collegeEmail(university, college),
        token: await stack.token({ role: 'applicant', id: institutionId }),
        score,
      });
    }

    // 20 working days in about 28 s of wall time.
    const launched = await stack.request<{ evaluationId: string }>('POST', '/api/evaluations', {
      token: staff,
      body: { programme: PROGRAMME, year: 2027, timeScale: 86_400 },
    });
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    const { evaluationId } = launched.body;
    await eventually(async () => {
      const r = await stack.request<{ workflow: { stage: string } | null }>('GET', `/api/evaluations/${evaluationId}`, {
        token: staff,
      });
      return r.body.workflow?.stage === 'reports_open' ? true : undefined;
    });
    // Another college's report for a member not its own is refused.
    const foreign = await stack.request<Problem>('POST', `/api/evaluations/${evaluationId}/reports`, {
      token: members[1]!.token,
      body: { entryId: members[0]!.entryId, summary: '冒用其他单位名录条目提交的自评报告，应当被拒绝。' },
    });
    expect(foreign.body.code).toBe('DIRECTORY_ENTRY_NOT_FOUND');
    for (const m of members.filter((x) => x.score !== undefined)) {
      const sent = await stack.request('POST', `/api/evaluations/${evaluationId}/reports`, {
        token: m.token,
        body: {
          entryId: m.entryId,
          summary: `${m.institutionId} 本年度共建课程 6 门，企业导师 20 名，学生实习 300 人次。`,
          indicators: { 共建课程: 6, 企业导师: 20 },
        },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    }

    // The experts review what they are assigned, as soon as they are invited.
    const reports = await db()('evaluation_reports')
      .where({ evaluation_id: evaluationId })
      .select<{ id: string; directory_entry_id: string }[]>('id', 'directory_entry_id');
    const scoreOf = (reportId: string) => {
      const entryId = reports.find((r) => r.id === reportId)!.directory_entry_id;
      return members.find((m) => m.entryId === entryId)!.score!;
    };
    const rubric = evaluationRubric.map((c) => c.key);
    const { reviewId, assignments } = await scoreAssignedReviews(
      stack,
      { kind: 'evaluation', id: evaluationId },
      (itemId, nth) => {
        const s = scoreOf(itemId);
        return s === null ? (nth === 0 ? uniformScores(rubric, 50) : null) : uniformScores(rubric, s);
      },
      { timeoutMs: 90_000 },
    );

    // One report has a single valid score (its other experts time out, then their replacements): it is not
    // 不合格 on that one score; staff are asked to grade it.
    await eventually(
      async () => ((await stack.mailbox.list()).some((m) => m.purpose === 'evaluation_ungraded') ? true : undefined),
      { timeoutMs: 120_000, what: 'the request to staff to grade an unscored report' },
    );
    const unscored = members.find((m) => m.score === null)!;
    const graded = await stack.request<Problem>('POST', `/api/evaluations/${evaluationId}/grades`, {
      token: staff,
      body: { entryId: members[0]!.entryId, grade: 'excellent', reason: '试图更改已有专家评分的等级' },
    });
    expect(graded.status).toBe(409);
    expect(graded.body.code).toBe('ALREADY_GRADED');
    const staffGrade = await stack.request<{ remaining: number }>('POST', `/api/evaluations/${evaluationId}/grades`, {
      token: staff,
      body: { entryId: unscored.entryId, grade: STAFF_GRADE, reason: '专家均未按期评审，经评估中心复核材料认定为良好' },
    });
    expect(staffGrade.status, JSON.stringify(staffGrade.body)).toBe(200);
    expect(staffGrade.body).toEqual({ remaining: 0 });

    await eventually(
      async () =>
        (await stack.client.workflow.getHandle(evaluationId).describe()).status.name === 'COMPLETED' ? true : undefined,
      { timeoutMs: 120_000, what: 'the evaluation to complete' },
    );
    // Closed means closed: after the results are published an expert cannot change a score, although in
    // compressed time the wall clock is still before the review's due time on the calendar.
    const scoredOne = assignments.find((a) => scoreOf(a.item_id) !== null)!;
    expect(scoredOne.due_at.getTime()).toBeGreaterThan(Date.now());
    const before = await db()('review_scores').where({ assignment_id: scoredOne.id }).first<{ total: string }>('total');
    const rescore = await stack.request<Problem>('PUT', `/api/assignments/${scoredOne.id}/review`, {
      token: await stack.token({ role: 'expert', id: scoredOne.expert_id }),
      body: { scores: uniformScores(rubric, 10) },
    });
    expect(rescore.status, JSON.stringify(rescore.body)).toBe(409);
    expect(rescore.body.code).toBe('REVIEW_CLOSED');
    expect(await db()('review_scores').where({ assignment_id: scoredOne.id }).first('total')).toEqual(before);
    // Nor is the answer a comparison with the due time: once that has passed on the wall clock too, the
    // review's state still says why (REVIEW_CLOSED, not REVIEW_DUE_PASSED).
    await db()('review_assignments')
      .where({ id: scoredOne.id })
      .update({ due_at: new Date(Date.now() - 60_000) });
    const afterDue = await stack.request<Problem>('PUT', `/api/assignments/${scoredOne.id}/review`, {
      token: await stack.token({ role: 'expert', id: scoredOne.expert_id }),
      body: { scores: uniformScores(rubric, 10) },
    });
    expect([afterDue.status, afterDue.body.code]).toEqual([409, 'REVIEW_CLOSED']);
    const result = await stack.request<{
      status: string;
      results: { entryId: string; grade: string; report: string; gradeReason: string | null }[];
    }>('GET', `/api/evaluations/${evaluationId}`, { token: staff });
    expect(result.body.status).toBe('published');
    expect(Object.fromEntries(result.body.results.map((r) => [r.entryId, r.grade]))).toEqual(
      Object.fromEntries(members.map((m) => [m.entryId, expectedGrade(m.score)])),
    );
    expect(result.body.results.filter((r) => r.report === 'missing').map((r) => r.gradeReason)).toEqual([
      '未按期提交自评报告',
      '未按期提交自评报告',
    ]);
    // An applicant sees only its own result.
    const own = await stack.request<{ results: { entryId: string }[] }>('GET', `/api/evaluations/${evaluationId}`, {
      token: members[0]!.token,
    });
    expect(own.body.results.map((r) => r.entryId)).toEqual([members[0]!.entryId]);

    // The three 不合格 members are warned and start rectifying.
    const failing = members.filter((m) => expectedGrade(m.score) === 'fail');
    await eventually(async () => {
      const rows = await db()('directory_entries')
        .whereIn(
          'id',
          failing.map((m) => m.entryId),
        )
        .where({ status: 'rectifying' });
      return rows.length === failing.length ? true : undefined;
    });

    // Every email exactly once: one message per (recipient, purpose, idempotency key), none twice.
    const mail = await eventually(async () => {
      const all = await stack.mailbox.list();
      return all.filter((m) => m.purpose === 'rectification_notice').length === failing.length ? all : undefined;
    });
    const keys = mail.map((m) => `${m.to} ${m.purpose} ${m.idempotencyKey}`);
    expect(new Set(keys).size).toBe(keys.length);
    const to = (purpose: string) =>
      mail
        .filter((m) => m.purpose === purpose)
        .map((m) => m.to)
        .sort();
    const everyone = members.map((m) => m.email).sort();
    const silent = members.filter((m) => m.score === undefined).map((m) => m.email);
    expect(to('evaluation_request')).toEqual(everyone);
    expect(to('evaluation_reminder')).toEqual([...silent, ...silent, ...silent].sort());
    expect(to('evaluation_result')).toEqual(everyone);
    expect(to('rectification_notice')).toEqual(failing.map((m) => m.email).sort());
    const everyAssignment = await db()('review_assignments')
      .where({ review_id: reviewId })
      .select<{ expert_id: string }[]>('expert_id');
    const invited = new Set(everyAssignment.map((a) => a.expert_id));
    expect(everyAssignment.length).toBeGreaterThan(assignments.length);
    expect(to('evaluation_ungraded')).toEqual([stack.config.staffEmail]);
    expect(mail.filter((m) => m.purpose === 'review_invitation').length).toBe(invited.size);
    const sent = await db()('email_outbox').where({ status: 'sent' }).count<{ n: string }[]>('* as n');
    expect(mail.length).toBe(Number(sent[0]!.n));

    // Every decision has its audit row.
    const audit = await db()('audit_events')
      .where({ workflow_id: evaluationId })
      .orWhereIn(
        'subject_id',
        members.map((m) => m.entryId),
      )
      .select<{ action: string; subject_id: string; actor: string }[]>('action', 'subject_id', 'actor');
    const count = (action: string) => audit.filter((a) => a.action === action).length;
    expect(count('evaluation.launch')).toBe(1);
    expect(count('evaluation.open')).toBe(1);
    expect(count('evaluation.report_submit')).toBe(8);
    expect(count('evaluation.report_refused')).toBe(1);
    expect(count('evaluation.report_missing')).toBe(2);
    expect(count('evaluation.grade')).toBe(8);
    expect(count('evaluation.staff_grade')).toBe(1);
    expect(count('directory.rectification_start')).toBe(3);
    // Each report and the staff grade was crashed once right after its commit (test/support/faults.ts): the
    // retry returned the recorded answer, so each is one record (no second, "resubmitted" one), and the grade
    // was not refused as ALREADY_GRADED. Neither sends an email.
    expect(stack.crashedDecisions).toMatchObject({ recordEvaluationReport: 8, recordStaffGrade: 1 });
    expect(count('evaluation.report_resubmit')).toBe(0);
    const recorded = await db()('decision_results')
      .where({ workflow_id: evaluationId })
      .whereIn('activity', ['recordEvaluationReport', 'recordStaffGrade'])
      .select<{ activity: string }[]>('activity');
    expect(recorded.filter((r) => r.activity === 'recordEvaluationReport')).toHaveLength(8);
    expect(recorded.filter((r) => r.activity === 'recordStaffGrade')).toHaveLength(1);
    const sparse = members.find((m) => m.score === null)!;
    const sparseReport = reports.find((r) => r.directory_entry_id === sparse.entryId)!.id;
    const scored = [
      ...assignments.filter((a) => scoreOf(a.item_id) !== null),
      assignments.find((a) => a.item_id === sparseReport)!,
    ];
    const reviewAudit = await db()('audit_events')
      .where({ action: 'review.submit' })
      .whereIn(
        'subject_id',
        scored.map((a) => a.id),
      )
      .count<{ n: string }[]>('* as n');
    expect(Number(reviewAudit[0]!.n)).toBe(scored.length);
    const timeouts = await db()('audit_events')
      .where({ action: 'review.timeout', workflow_id: `review-${evaluationId}` })
      .count<{ n: number }[]>('* as n');
    expect(Number(timeouts[0]!.n)).toBe(everyAssignment.length - scored.length);
    console.info(
      `evaluation of ten: ${scored.length} expert reviews (${everyAssignment.length - scored.length} timed out), ${mail.length} emails, grades ${JSON.stringify(
        result.body.results.reduce<Record<string, number>>(
          (acc, r) => ({ ...acc, [r.grade]: (acc[r.grade] ?? 0) + 1 }),
          {},
        ),
      )}`,
    );
    await recordHistories(stack.client, { [evaluationId]: evaluationId });
  });
});
