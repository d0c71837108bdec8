import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalendarRepository } from '../../db/repositories/calendar.js';
import { insertRound } from '../../db/repositories/round.js';
import { collegeEmail, collegeId } from '../../db/seeds/reference-data.js';
import { projectReportRubric } from '../../domain/programmes.js';
import type { ProjectWorkflow } from '../../workflows/project.messages.js';
import type { RoundWorkflow } from '../../workflows/round.messages.js';
import { recordHistories } from '../support/record-histories.js';
import { scoreAssignedReviews, uniformScores } from '../support/review.scores.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import type { Project, ProjectView } from '../support/project.js';
import { storySteps } from '../support/steps.js';
import { eventually } from '../support/wait.js';

/**
 * A two-year research project over simulated years (time-skipping server, the real API, PostgreSQL and
 * maildev): 立项 → 中期检查 passed → an extension granted (+1 year) and a second refused → 结项 不通过 →
 * resubmitted → 通过. Every notice and reminder is checked at its working day; a terminated project stops.
 */
const TASK_QUEUE = 'ronghe-project-ts';
const ROUND = 'round-research_project-2027';
const hour = 60 * 60 * 1000;

let stack: TimeSkippingStack;
let staff: string;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
  await insertRound(stack.database.db, {
    id: ROUND,
    programme: 'research_project',
    year: 2027,
    titleZh: '2027年度产教融合研究项目申报',
    opensAt: new Date('2027-03-01T09:00:00+08:00'),
    launchedBy: 'staff:officer-li',
  });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };
const db = () => stack.database.db;

/** A project as 认定 leaves it (an approved application, its project row), its workflow started as the round does. */
async function approve(university: string, college: string, title: string): Promise<Project> {
  const institutionId = collegeId(university, college);
  const today = (await stack.nowIso()).slice(0, 10);
  const [app] = await db()('applications')
    .insert({
      round_id: ROUND,
      institution_id: institutionId,
      status: 'approved',
      title_zh: title,
      field_key: 'next_gen_it',
    })
    .returning<{ id: string }[]>('id');
  const [row] = await db()('projects')
    .insert({
      application_id: app!.id,
      institution_id: institutionId,
      title_zh: title,
      status: 'active',
      starts_on: today,
      ends_on: `${Number(today.slice(0, 4)) + 2}${today.slice(4)}`,
      programme: 'research_project',
      field_key: 'next_gen_it',
    })
    .returning<{ id: string }[]>('id');
  await stack.env.client.workflow.start<ProjectWorkflow>('projectWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `project-${row!.id}`,
    args: [{ projectId: row!.id, programme: 'research_project', institutionId }],
  });
  return {
    projectId: row!.id,
    institutionId,
    email: collegeEmail(university, college),
    token: await stack.token({ role: 'applicant', id: institutionId }),
  };
}

/** Emails of one purpose from one project's workflow: "recipient dueAt" (due time for reminders). */
async function sent(p: Project, purpose: string): Promise<string[]> {
  const rows = await db()('email_outbox')
    .where({ workflow_id: `project-${p.projectId}`, purpose, status: 'sent' })
    .orderBy('id')
    .select<{ recipient: string; due_at: Date | null }[]>('recipient', 'due_at');
  return rows.map((r) => `${r.recipient}${r.due_at ? ` ${r.due_at.toISOString()}` : ''}`);
}

const view = async (p: Project) =>
  (await stack.request<ProjectView>('GET', `/api/projects/${p.projectId}`, { token: staff })).body;

/** Waits for the report of (kind, attempt) to be asked for; its due time and the reminder times, from the calendar. */
async function opened(p: Project, kind: string, attempt: number) {
  const report = await eventually(async () =>
    (await view(p)).reports.find((r) => r.kind === kind && r.attempt === attempt),
  );
  // dueAt is 24:00 of the due day, which reads as 00:00 of the next: the due day is in the row.
  const { due_day: dueDay } = await db()('project_reports')
    .where({ id: report.reportId })
    .first<{ due_day: string }>('due_day');
  const { calendar } = await new CalendarRepository(db()).snapshot();
  const reminders = [7, 3, 1].map((k) => calendar.workingDaysBefore(dueDay, k).atIso);
  return { ...report, reminders };
}

/** The experts assigned to one report submit the same score on every criterion. */
async function reviewAll(reportId: string, score: number): Promise<Date> {
  const rubric = projectReportRubric.map((c) => c.key);
  return (
    await scoreAssignedReviews(stack, { kind: 'project_report', id: reportId }, () => uniformScores(rubric, score))
  ).dueAt;
}

const submit = (p: Project, kind: string, summary: string) =>
  stack.request<Problem & { late: boolean }>('POST', `/api/projects/${p.projectId}/reports`, {
    token: p.token,
    body: { kind, summary },
  });

/** Waits until the server describes the workflow with `status` (RUNNING, COMPLETED, CANCELLED, …). */
const untilStatus = (workflowId: string, status: string, what = `${workflowId} ${status}`) =>
  eventually(
    async () =>
      (await stack.env.client.workflow.getHandle(workflowId).describe()).status.name === status ? true : undefined,
    { what },
  );

const after = (iso: string | Date, ms: number) => new Date(new Date(iso).getTime() + ms).toISOString();

describe.sequential('a two-year research project (time-skipping server)', () => {
  const step = storySteps();
  let p: Project;
  let t: Project;
  let l: Project;
  let mid: Awaited<ReturnType<typeof opened>>;

  step('when three projects are approved, then each is told once and nothing is owed yet', async () => {
    await stack.skipTo('2027-09-01T10:00:00+08:00');
    p = await approve('zzu', 'cs', '面向智能制造的产教融合人才培养模式研究');
    t = await approve('henu', 'cs', '数字经济背景下校企协同育人机制研究');
    // A third project will hand in its midterm report late.
    l = await approve('hpu', 'energy', '新能源装备产教融合实训体系研究');
    await eventually(async () => ((await sent(p, 'project_approved')).length === 1 ? true : undefined));
    expect(await sent(p, 'project_approved')).toEqual([p.email]);
    expect((await view(p)).endsOn).toBe('2029-09-01');
    // Nothing is owed yet.
    const early = await submit(p, 'midterm', '尚未到中期检查时间提交的报告，应当被拒绝。');
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('PROJECT_REPORT_NOT_OPEN');
  });

  step('when the midpoint comes, then 中期检查 is asked for at 09:00; another project is terminated', async () => {
    // ---- 中期检查 at the midpoint (2028-09-01, 09:00).
    await stack.skipTo('2028-09-01T08:59:00+08:00');
    expect(await sent(p, 'project_report_request')).toEqual([]);
    await stack.skipTo('2028-09-01T09:01:00+08:00');
    mid = await opened(p, 'midterm', 1);
    expect(await sent(p, 'project_report_request')).toEqual([p.email]);
    // The other project is terminated before any reminder: it is never reminded, never flagged.
    await opened(t, 'midterm', 1);
    const terminated = await stack.request('POST', `/api/projects/${t.projectId}/terminate`, {
      token: staff,
      body: { reason: '项目负责人调离，依托单位申请撤项' },
    });
    expect(terminated.status, JSON.stringify(terminated.body)).toBe(200);
  });

  step('when the 7-working-day reminder falls due, then it goes at 09:00; the report stops the rest', async () => {
    // The 7-working-day reminder at 09:00 of its day; then the report arrives and no more reminders go.
    await stack.skipTo(after(mid.reminders[0]!, -60_000));
    expect(await sent(p, 'project_report_reminder')).toEqual([]);
    await stack.skipTo(after(mid.reminders[0]!, 60_000));
    await eventually(async () => ((await sent(p, 'project_report_reminder')).length === 1 ? true : undefined));
    expect(await sent(p, 'project_report_reminder')).toEqual([
      `${p.email} ${new Date(mid.reminders[0]!).toISOString()}`,
    ]);
    const midReport = await submit(p, 'midterm', '中期进展：完成课程体系重构，建成校企联合实验室一个，发表论文两篇。');
    expect(midReport.status, JSON.stringify(midReport.body)).toBe(200);
    expect(midReport.body.late).toBe(false);
  });

  step(
    'when a report is overdue, then staff are flagged once; terminating the project cancels its review',
    async () => {
      await stack.skipTo(after(mid.dueAt, hour));
      // The late project: staff are flagged once; its report is still taken, marked late; terminated while
      // under review, its review is cancelled.
      const flagged = await eventually(async () => {
        const rows = await sent(l, 'project_report_overdue');
        return rows.length > 0 ? rows : undefined;
      });
      expect(flagged).toEqual([stack.config.staffEmail]);
      // It was reminded 7, 3 and 1 working days before its due day, at 09:00 (it started with P: same days).
      expect(await sent(l, 'project_report_reminder')).toEqual(
        mid.reminders.map((at) => `${l.email} ${new Date(at).toISOString()}`),
      );
      const lateReport = await submit(l, 'midterm', '逾期提交的中期检查报告：研究按计划推进，实训平台建设完成过半。');
      expect(lateReport.status, JSON.stringify(lateReport.body)).toBe(200);
      expect(lateReport.body.late).toBe(true);
      const lateReportId = (await view(l)).reports[0]!.reportId;
      await untilStatus(`review-project-report-${lateReportId}`, 'RUNNING', 'the late report under review');
      // Terminated once the experts are invited (the review is waiting on its timers, no activity in flight: the
      // time-skipping server keeps time still while an activity it has been told to cancel is running).
      const invitations = { workflow_id: `review-project-report-${lateReportId}`, purpose: 'review_invitation' };
      const invited = async () =>
        Number(
          (
            await db()('email_outbox')
              .where({ ...invitations, status: 'sent' })
              .count<{ n: number }[]>('* as n')
          )[0]!.n,
        );
      await eventually(async () => ((await invited()) > 0 ? true : undefined), {
        what: 'the experts invited to review the late report',
      });
      await stack.env.sleep(60_000);
      const reason = '中期检查报告严重逾期，依托单位申请撤项';
      const terminate = await stack.request('POST', `/api/projects/${l.projectId}/terminate`, {
        token: staff,
        body: { reason },
      });
      expect(terminate.status).toBe(200);
      await untilStatus(`review-project-report-${lateReportId}`, 'CANCELLED', 'the review cancelled');
      // Closed means closed: the cancelled review refuses a score, though its due time is still ahead.
      const open = await db()('review_assignments as ra')
        .join('reviews as r', 'r.id', 'ra.review_id')
        .where({ 'r.subject_kind': 'project_report', 'r.subject_id': lateReportId })
        .first<{ id: string; expert_id: string; due_at: Date }>('ra.id', 'ra.expert_id', 'ra.due_at');
      expect(open.due_at.getTime()).toBeGreaterThan(await stack.env.currentTimeMs());
      const lateScore = await stack.request<Problem>('PUT', `/api/assignments/${open.id}/review`, {
        token: await stack.token({ role: 'expert', id: open.expert_id }),
        body: {
          scores: uniformScores(
            projectReportRubric.map((c) => c.key),
            90,
          ),
        },
      });
      expect(lateScore.status, JSON.stringify(lateScore.body)).toBe(409);
      expect(lateScore.body.code).toBe('REVIEW_CLOSED');
      await untilStatus(`project-${l.projectId}`, 'COMPLETED', 'the terminated project to end');
      expect(await sent(l, 'project_report_overdue')).toEqual([stack.config.staffEmail]);
    },
  );

  step('when the experts pass the midterm report, then the project is told the result', async () => {
    const midReviewDue = await reviewAll(mid.reportId, 82);
    await stack.skipTo(after(midReviewDue, hour));
    await eventually(async () => ((await view(p)).reports[0]?.outcome === 'passed' ? true : undefined));
    expect(await sent(p, 'project_report_reminder')).toHaveLength(1);
    expect(await sent(p, 'project_report_result')).toEqual([p.email]);
  });

  step('when an extension is asked twice, then one year is granted and the second request refused', async () => {
    // ---- One extension of a year, approved; a second request is refused.
    const ext = await stack.request('POST', `/api/projects/${p.projectId}/extension`, {
      token: p.token,
      body: { months: 12, reason: '企业生产线改造推迟，实证研究需延长一年' },
    });
    expect(ext.status, JSON.stringify(ext.body)).toBe(200);
    const second = await stack.request<Problem>('POST', `/api/projects/${p.projectId}/extension`, {
      token: p.token,
      body: { months: 6, reason: '再申请延期半年' },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body.code).toBe('EXTENSION_USED');
    const decided = await stack.request<{ approved: boolean; endsOn: string }>(
      'POST',
      `/api/projects/${p.projectId}/extension/decision`,
      { token: staff, body: { approve: true, reason: '理由充分，同意延期一年' } },
    );
    expect(decided.body).toEqual({ approved: true, endsOn: '2030-09-01' });
    expect(await sent(p, 'project_extension_decided')).toEqual([p.email]);
  });

  step('when the extended end comes, then 结项 不通过 with its reason, resubmitted, 通过', async () => {
    // The original end passes quietly; the final report is asked for at the extended end.
    await stack.skipTo('2029-09-02T10:00:00+08:00');
    expect(await sent(p, 'project_report_request')).toEqual([p.email]);
    await stack.skipTo('2030-09-01T09:01:00+08:00');
    const fin = await opened(p, 'final', 1);
    expect(await sent(p, 'project_report_request')).toEqual([p.email, p.email]);
    expect((await submit(p, 'final', '结项报告：完成全部研究任务，形成研究报告一份、案例集一部。')).status).toBe(200);
    await stack.skipTo(after(fin.dueAt, hour));
    // Only one expert scores it (50); the others and their replacements never do. One valid score of three
    // fails nobody: staff are emailed and decide, with a reason.
    const rubric = projectReportRubric.map((c) => c.key);
    const finReview = await scoreAssignedReviews(stack, { kind: 'project_report', id: fin.reportId }, (_i, nth) =>
      nth === 0 ? uniformScores(rubric, 50) : null,
    );
    await stack.skipTo(after(finReview.dueAt, hour));
    const replacementsDue = await eventually(async () => {
      const rows = await db()('review_assignments')
        .where({ review_id: finReview.reviewId, wave: 1 })
        .select<{ due_at: Date }[]>('due_at');
      return rows.length > 0 ? new Date(Math.max(...rows.map((r) => r.due_at.getTime()))) : undefined;
    });
    await stack.skipTo(after(replacementsDue, hour));
    await eventually(async () => ((await sent(p, 'project_report_grade_needed')).length > 0 ? true : undefined));
    expect(await sent(p, 'project_report_grade_needed')).toEqual([stack.config.staffEmail]);
    expect((await view(p)).reports.find((r) => r.kind === 'final' && r.attempt === 1)!.outcome).toBeNull();
    const staffGrade = await stack.request<{ passed: boolean; mayResubmit: boolean }>(
      'POST',
      `/api/projects/${p.projectId}/report-grade`,
      { token: staff, body: { passed: false, reason: '研究成果的企业应用证明不足，须补充后重新提交' } },
    );
    expect(staffGrade.status, JSON.stringify(staffGrade.body)).toBe(200);
    expect(staffGrade.body).toMatchObject({ passed: false, mayResubmit: true });
    // 不通过, with the reason; one resubmission is asked for.
    const retry = await opened(p, 'final', 2);
    const first = (await view(p)).reports.find((r) => r.kind === 'final' && r.attempt === 1)!;
    expect(first.outcome).toBe('failed');
    expect(first.outcomeReason).toBe('工作人员认定：研究成果的企业应用证明不足，须补充后重新提交');
    expect(await sent(p, 'project_report_result')).toEqual([p.email, p.email]);
    expect((await submit(p, 'final', '修改后的结项报告：补充了企业应用证明与成果推广情况。')).status).toBe(200);
    await stack.skipTo(after(retry.dueAt, hour));
    await stack.skipTo(after(await reviewAll(retry.reportId, 75), hour));
    await eventually(async () => ((await view(p)).status === 'completed' ? true : undefined));
    await untilStatus(`project-${p.projectId}`, 'COMPLETED');
    expect(await sent(p, 'project_report_result')).toEqual([p.email, p.email, p.email]);
    // Three years in one run: its history stays small (no continue-as-new needed).
    const history = await stack.env.client.workflow.getHandle(`project-${p.projectId}`).fetchHistory();
    const events = history.events?.length ?? 0;
    expect(events).toBeLessThan(1_000);
    console.info(`project over three years: one run, ${events} events`);
    // No report was ever late, so staff were never flagged.
    expect(await sent(p, 'project_report_overdue')).toEqual([]);
  });

  step('then the terminated project heard nothing after its end; every decision is audited', async () => {
    // The terminated project: one 立项 notice, one request, the termination notice; nothing after.
    expect(await sent(t, 'project_report_reminder')).toEqual([]);
    expect(await sent(t, 'project_report_overdue')).toEqual([]);
    expect(await sent(t, 'project_terminated')).toEqual([t.email]);
    expect((await view(t)).status).toBe('terminated');
    const afterEnd = await submit(t, 'midterm', '撤项之后才提交的中期检查报告，应当被拒绝并说明项目已撤项。');
    expect(afterEnd.status).toBe(409);
    expect(afterEnd.body.code).toBe('PROJECT_CLOSED');

    const audit = await db()('audit_events')
      .where({ subject_kind: 'project', subject_id: p.projectId })
      .orderBy('id')
      .pluck('action');
    expect(audit).toEqual([
      'project.report_refused',
      'project.report_submit',
      'project.midterm_pass',
      'project.extension_request',
      'project.extension_refused',
      'project.extension_approve',
      'project.report_submit',
      'project.report_awaiting_grade',
      'project.report_staff_grade',
      'project.final_fail',
      'project.report_submit',
      'project.final_pass',
    ]);
    // Every decision above was crashed once right after its commit (test/support/faults.ts); each retry returned
    // the recorded answer — the extension request was not refused as EXTENSION_USED, no report was recorded
    // twice — so the lists above hold one record each, and each decision's email is one row, sent.
    expect(stack.crashedDecisions).toMatchObject({
      recordProjectReport: 4,
      decideProjectReport: 3,
      recordProjectReportGrade: 1,
      requestExtension: 1,
      decideExtension: 1,
      terminateProject: 2,
      flagOverdueReport: 1,
    });
    const actionsOf = async (q: Project) =>
      (await db()('audit_events').where({ subject_kind: 'project', subject_id: q.projectId }).pluck<string[]>('action'))
        .slice()
        .sort();
    // (The refusal is of the submission after the end, above.)
    expect(await actionsOf(t)).toEqual(['project.report_refused', 'project.terminate']);
    expect(await actionsOf(l)).toEqual(['project.report_overdue', 'project.report_submit', 'project.terminate']);
    expect(await sent(l, 'project_terminated')).toEqual([l.email]);
    const unsent = await db()('email_outbox')
      .whereIn('purpose', [
        'project_report_result',
        'project_report_overdue',
        'project_extension_decided',
        'project_terminated',
      ])
      .whereNot({ status: 'sent' })
      .count<{ n: string }[]>('* as n');
    expect(Number(unsent[0]!.n)).toBe(0);
    await recordHistories(stack.env.client, {
      'project-research_project-completed': `project-${p.projectId}`,
      'project-research_project-terminated-in-review': `project-${l.projectId}`,
    });
  });

  it('a research_project round at 认定 starts a project workflow per approved application (立项 notices once each)', async () => {
    const roundId = 'round-research_project-2030';
    await insertRound(db(), {
      id: roundId,
      programme: 'research_project',
      year: 2030,
      titleZh: '2030年度产教融合研究项目申报',
      opensAt: new Date('2030-03-01T09:00:00+08:00'),
      launchedBy: 'staff:officer-li',
    });
    // Three reviewed applications, the shortlist confirmed by staff.
    const apps = await db()('applications')
      .insert(
        ['zzu', 'henu', 'hpu'].map((institution, i) => ({
          round_id: roundId,
          institution_id: institution,
          status: 'shortlisted',
          title_zh: `研究项目 ${i + 1}`,
          field_key: 'next_gen_it',
          draft: '{}',
          received_at: new Date('2030-03-10T02:00:00Z'),
        })),
      )
      .returning<{ id: string; institution_id: string }[]>(['id', 'institution_id']);
    const [review] = await db()('reviews')
      .insert({
        subject_kind: 'round',
        subject_id: roundId,
        programme: 'research_project',
        rubric: '[]',
        experts_per_item: 3,
        status: 'completed',
      })
      .returning<{ id: string }[]>('id');
    await db()('review_results').insert(
      apps.map((a, i) => ({
        review_id: review!.id,
        item_kind: 'application',
        item_id: a.id,
        valid_scores: 3,
        score: 90 - i,
        rank: i + 1,
        recommended: true,
        confirmed: true,
      })),
    );
    // The round as it stands once staff have confirmed the shortlist: publicity, then 认定.
    await stack.skipTo('2030-11-18T10:00:00+08:00');
    await stack.env.client.workflow.start<RoundWorkflow>('roundWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: roundId,
      args: [
        {
          roundId,
          programme: 'research_project',
          year: 2030,
          opensAt: '2030-03-01T09:00:00+08:00',
          launchedBy: 'staff:officer-li',
          resume: {
            stage: 'shortlist_confirmed',
            deadline: undefined,
            reminders: [],
            remindersDone: [],
            jobs: [],
            graceSeconds: 600,
            eligibleInstitutions: 3,
            noticesSent: 3,
            remindersSent: 0,
            submissions: 3,
            withdrawals: 0,
            formalCheck: { passed: 3, failed: 0 },
            review: undefined,
            publicity: undefined,
            approved: undefined,
            cancellation: undefined,
            calendarChanged: false,
            runs: 1,
          },
        },
      ],
    });
    const period = await eventually(async () =>
      db()('publicity_periods')
        .where({ subject_kind: 'round', subject_id: roundId })
        .first<{ ends_at: Date } | undefined>('ends_at'),
    );
    await stack.skipTo(after(period.ends_at, hour));
    const projects = await eventually(async () => {
      const rows = await db()('projects as p')
        .join('applications as a', 'a.id', 'p.application_id')
        .where('a.round_id', roundId)
        .select<{ id: string; institution_id: string; status: string; ends_on: string }[]>(
          'p.id',
          'p.institution_id',
          'p.status',
          'p.ends_on',
        );
      return rows.length === 3 ? rows : undefined;
    });
    expect(projects.map((p) => p.institution_id).sort()).toEqual(['henu', 'hpu', 'zzu']);
    for (const p of projects) {
      expect(p.status).toBe('active');
      const running = await untilStatus(`project-${p.id}`, 'RUNNING');
      expect(running).toBe(true);
    }
    const notices = await eventually(async () => {
      const rows = await db()('email_outbox')
        .where({ purpose: 'project_approved', status: 'sent' })
        .whereIn(
          'workflow_id',
          projects.map((p) => `project-${p.id}`),
        )
        .pluck('recipient');
      return rows.length === 3 ? (rows as string[]) : undefined;
    });
    expect(notices.sort()).toEqual(['jwc@henu.edu.example', 'jwc@hpu.edu.example', 'jwc@zzu.edu.example']);
  });
});
