import { recordAudit } from '../db/repositories/audit.js';
import { findEvaluation, type EvaluationRow } from '../db/repositories/evaluation.js';
import { findProgramme, type ProgrammeRow } from '../db/repositories/programmes.js';
import { formatShanghai } from '../domain/calendar/index.js';
import { gradeOf, gradeZh, type EvaluationGrade } from '../domain/programmes.js';
import { evaluationReminder, evaluationRequest, evaluationResult, evaluationUngraded } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { mailPage, page, type BatchCursor, type BatchResult } from './mailing.js';
import type { Reminder } from './round.js';
import { refuse } from './refusal.js';

/** When the self-evaluation reports are due, and when members without one are reminded. */
export interface ReportDue {
  day: string;
  /** 24:00 Asia/Shanghai on `day`, ISO with +08:00. */
  at: string;
  estimated: boolean;
  calendarVersion: number;
  reminders: Reminder[];
}

export interface OpenEvaluationResult {
  titleZh: string;
  due: ReportDue;
  members: number;
}

export interface EvaluationReportInput {
  evaluationId: string;
  entryId: string;
  payload: { summary: string; indicators?: Record<string, string | number> | undefined };
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface EvaluationReportRecorded {
  reportId: string;
  receivedAt: string;
  /** True when this replaced an earlier report (allowed until the due time). */
  resubmitted: boolean;
}

export interface GradeCounts {
  excellent: number;
  good: number;
  pass: number;
  fail: number;
  /** Reports no expert could score: staff decide; never graded 不合格 for the experts' failure. */
  ungraded: number;
}

export interface StaffGradeInput {
  evaluationId: string;
  entryId: string;
  grade: EvaluationGrade;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface MemberGrade {
  entryId: string;
  grade: EvaluationGrade | null;
}

const DEFAULT_REPORT_WORKING_DAYS = 20;

export function createEvaluationActivities({ db, outbox, calendar, staffEmail }: ActivityDeps) {
  const load = async (evaluationId: string): Promise<{ evaluation: EvaluationRow; programme: ProgrammeRow }> => {
    const evaluation = await findEvaluation(db, evaluationId);
    if (!evaluation) refuse('EVALUATION_NOT_FOUND', evaluationId);
    const programme = (await findProgramme(db, evaluation.programme))!;
    return { evaluation, programme };
  };

  /** Members asked to report in this evaluation, with where to write to them. */
  const members = (evaluationId: string) =>
    db('evaluation_reports as r')
      .join('directory_entries as d', 'd.id', 'r.directory_entry_id')
      .join('institutions as i', 'i.id', 'd.institution_id')
      .where('r.evaluation_id', evaluationId);

  type MemberRow = { id: string; title_zh: string; name_zh: string; contact_email: string };
  const memberColumns = ['r.id', 'd.title_zh', 'i.name_zh', 'i.contact_email'] as const;

  const dueOf = (evaluation: EvaluationRow) => ({
    at: evaluation.reportDueAt!,
    estimated: evaluation.estimated ?? false,
  });

  return {
    /**
     * Opens the year's evaluation: every member active today is asked for a report, due in N working days
     * (the SPEC's counting rule, calendar version recorded). Idempotent: a retry finds what it did.
     */
    async openEvaluation(input: {
      evaluationId: string;
      workflowId: string;
      today: string;
    }): Promise<OpenEvaluationResult> {
      const { evaluation, programme } = await load(input.evaluationId);
      const workingDays = programme.rules.directory?.evaluationReportWorkingDays ?? DEFAULT_REPORT_WORKING_DAYS;
      const reminderKs = programme.rules.call.reminderWorkingDaysBefore;
      const { version, calendar: cal } = await calendar.snapshot();
      return db.transaction(async (trx) => {
        let day = evaluation.reportDueDay;
        let at = evaluation.reportDueAt ? formatShanghai(evaluation.reportDueAt) : undefined;
        let estimated = evaluation.estimated ?? false;
        let calendarVersion = evaluation.calendarVersion ?? version;
        if (!day || !at) {
          const period = cal.period(input.today, workingDays);
          day = period.lastDay;
          at = period.endsAtIso;
          estimated = period.estimated;
          calendarVersion = version;
          const active = await trx('directory_entries')
            .where({ programme: evaluation.programme, status: 'active' })
            .orderBy('id')
            .select<{ id: string }[]>('id');
          if (active.length > 0) {
            await trx('evaluation_reports')
              .insert(active.map((e) => ({ evaluation_id: evaluation.id, directory_entry_id: e.id })))
              .onConflict(['evaluation_id', 'directory_entry_id'])
              .ignore();
          }
          await trx('evaluations')
            .where({ id: evaluation.id })
            .update({
              status: 'reports_open',
              report_due_day: day,
              report_due_at: new Date(at),
              estimated,
              calendar_version: version,
            });
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.open',
            subjectKind: 'evaluation',
            subjectId: evaluation.id,
            details: { members: active.length, dueDay: day, estimated, calendarVersion: version },
            workflowId: input.workflowId,
          });
        }
        const n = await trx('evaluation_reports')
          .where({ evaluation_id: evaluation.id })
          .count<{ n: number }[]>('* as n');
        return {
          titleZh: evaluation.titleZh,
          due: {
            day,
            at,
            estimated,
            calendarVersion,
            reminders: reminderKs.map((k) => {
              const r = cal.workingDaysBefore(day, k);
              return { k, day: r.day, at: r.atIso };
            }),
          },
          members: Number(n[0]!.n),
        };
      });
    },

    /** The request for a report, to every member of the evaluation (a batch at a time). */
    async sendEvaluationRequests(
      input: { evaluationId: string; workflowId: string } & BatchCursor,
    ): Promise<BatchResult> {
      const { evaluation, programme } = await load(input.evaluationId);
      const rows = await page(members(evaluation.id), 'r.id', input).select<MemberRow[]>(...memberColumns);
      const due = dueOf(evaluation);
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'evaluation_request' }, input, rows, (r) => ({
        key: `${input.workflowId}/evaluation_request/${r.id}`,
        recipient: r.contact_email,
        email: evaluationRequest({
          institutionName: r.name_zh,
          programmeName: programme.nameZh,
          entryTitle: r.title_zh,
          evaluationTitle: evaluation.titleZh,
          due: due.at,
          dueEstimated: due.estimated,
        }),
      }));
    },

    /** A reminder k working days before the due day, only to members that have not reported. */
    async sendEvaluationReminders(
      input: { evaluationId: string; workflowId: string; reminder: Reminder } & BatchCursor,
    ): Promise<BatchResult> {
      const { evaluation, programme } = await load(input.evaluationId);
      const rows = await page(members(evaluation.id).where('r.status', 'requested'), 'r.id', input).select<MemberRow[]>(
        ...memberColumns,
      );
      const due = dueOf(evaluation);
      return mailPage(outbox, { workflowId: input.workflowId, purpose: 'evaluation_reminder' }, input, rows, (r) => ({
        key: `${input.workflowId}/evaluation_reminder/${input.reminder.k}/${r.id}`,
        recipient: r.contact_email,
        dueAt: new Date(input.reminder.at),
        email: evaluationReminder({
          institutionName: r.name_zh,
          programmeName: programme.nameZh,
          entryTitle: r.title_zh,
          evaluationTitle: evaluation.titleZh,
          due: due.at,
          dueEstimated: due.estimated,
          workingDaysLeft: input.reminder.k,
        }),
      }));
    },

    /** A report the workflow accepted on time (a resubmission before the due time replaces the earlier one). */
    async recordEvaluationReport(input: EvaluationReportInput): Promise<EvaluationReportRecorded> {
      return db.transaction(async (trx) => {
        const report = await trx('evaluation_reports')
          .where({ evaluation_id: input.evaluationId, directory_entry_id: input.entryId })
          .forUpdate()
          .first<{ id: string; status: string } | undefined>('id', 'status');
        if (!report) refuse('NOT_EVALUATED', '该名录成员不在本次动态评价范围内');
        await trx('evaluation_reports')
          .where({ id: report.id })
          .update({ payload: JSON.stringify(input.payload), received_at: input.receivedAt, status: 'submitted' });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: report.status === 'submitted' ? 'evaluation.report_resubmit' : 'evaluation.report_submit',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          details: { evaluationId: input.evaluationId, reportId: report.id, receivedAt: input.receivedAt },
          requestId: input.requestId,
          workflowId: input.evaluationId,
        });
        return { reportId: report.id, receivedAt: input.receivedAt, resubmitted: report.status === 'submitted' };
      });
    },

    /** At the due time: a member without a report is graded 不合格 (recorded, with the reason). */
    async closeEvaluationReports(input: {
      evaluationId: string;
      workflowId: string;
    }): Promise<{ submitted: number; missing: number }> {
      return db.transaction(async (trx) => {
        const missing = await trx('evaluation_reports')
          .where({ evaluation_id: input.evaluationId, status: 'requested' })
          .update({
            status: 'missing',
            score: 0,
            grade: 'fail',
            grade_reason: '未按期提交自评报告',
            graded_at: trx.fn.now(),
          })
          .returning<{ id: string; directory_entry_id: string }[]>(['id', 'directory_entry_id']);
        for (const m of missing) {
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.report_missing',
            subjectKind: 'directory_entry',
            subjectId: m.directory_entry_id,
            reason: '未按期提交自评报告，评价结果为不合格',
            details: { evaluationId: input.evaluationId, reportId: m.id },
            workflowId: input.workflowId,
          });
        }
        await trx('evaluations').where({ id: input.evaluationId }).update({ status: 'reports_closed' });
        const counts = await trx('evaluation_reports')
          .where({ evaluation_id: input.evaluationId })
          .select<{ status: string; n: number }[]>('status', trx.raw('count(*)::int as n'))
          .groupBy('status');
        const of = (s: string) => counts.find((c) => c.status === s)?.n ?? 0;
        return { submitted: of('submitted'), missing: of('missing') };
      });
    },

    /** Grades each reviewed report from its aggregated score: 优秀 ≥ 90, 良好 ≥ 75, 合格 ≥ 60, else 不合格. */
    async gradeEvaluation(input: { evaluationId: string; workflowId: string }): Promise<GradeCounts> {
      await db.transaction(async (trx) => {
        const review = await trx('reviews')
          .where({ subject_kind: 'evaluation', subject_id: input.evaluationId })
          .first<{ id: string } | undefined>('id');
        const results = review
          ? await trx('review_results')
              .where({ review_id: review.id, item_kind: 'evaluation_report' })
              .select<{ item_id: string; score: string | null; valid_scores: number }[]>(
                'item_id',
                'score',
                'valid_scores',
              )
          : [];
        for (const r of results) {
          const report = await trx('evaluation_reports')
            .where({ id: r.item_id })
            .first<{ id: string; directory_entry_id: string; grade: string | null }>(
              'id',
              'directory_entry_id',
              'grade',
            );
          if (report.grade) continue;
          const score = r.score === null || r.valid_scores === 0 ? null : Number(r.score);
          const grade = score === null ? null : gradeOf(score);
          await trx('evaluation_reports')
            .where({ id: r.item_id })
            .update({
              score,
              valid_scores: r.valid_scores,
              grade,
              grade_reason: grade ? null : '无有效专家评分，待工作人员认定',
              graded_at: trx.fn.now(),
            });
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.grade',
            subjectKind: 'directory_entry',
            subjectId: report.directory_entry_id,
            details: {
              evaluationId: input.evaluationId,
              reportId: r.item_id,
              score,
              validScores: r.valid_scores,
              grade,
            },
            workflowId: input.workflowId,
          });
        }
        await trx('evaluations').where({ id: input.evaluationId }).update({ status: 'graded' });
      });
      const counts = await db('evaluation_reports')
        .where({ evaluation_id: input.evaluationId })
        .select<{ grade: EvaluationGrade | null; n: number }[]>('grade', db.raw('count(*)::int as n'))
        .groupBy('grade');
      const of = (g: EvaluationGrade | null) => counts.find((c) => c.grade === g)?.n ?? 0;
      return { excellent: of('excellent'), good: of('good'), pass: of('pass'), fail: of('fail'), ungraded: of(null) };
    },

    /** Staff are asked to grade the reports no expert could score (once per evaluation). */
    async notifyUngraded(input: { evaluationId: string; workflowId: string; ungraded: number }): Promise<void> {
      const { evaluation } = await load(input.evaluationId);
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/evaluation_ungraded`,
        workflowId: input.workflowId,
        purpose: 'evaluation_ungraded',
        recipient: staffEmail,
        ...evaluationUngraded({
          evaluationTitle: evaluation.titleZh,
          evaluationId: evaluation.id,
          ungraded: input.ungraded,
        }),
      });
    },

    /**
     * Staff grade a report that no expert could score, with a reason. Returns how many reports still await a
     * grade. Only ungraded reports may be graded this way: an expert-based grade is changed by appeal only.
     */
    async recordStaffGrade(input: StaffGradeInput): Promise<{ remaining: number }> {
      return db.transaction(async (trx) => {
        const report = await trx('evaluation_reports')
          .where({ evaluation_id: input.evaluationId, directory_entry_id: input.entryId })
          .forUpdate()
          .first<{ id: string; grade: string | null } | undefined>('id', 'grade');
        if (!report) refuse('NOT_EVALUATED', '该名录成员不在本次动态评价范围内');
        if (report.grade) refuse('ALREADY_GRADED', '该自评报告已有评价结果；对结果有异议的，在公示期内申诉');
        await trx('evaluation_reports')
          .where({ id: report.id })
          .update({ grade: input.grade, grade_reason: `工作人员认定：${input.reason}`, graded_at: trx.fn.now() });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'evaluation.staff_grade',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          reason: input.reason,
          details: { evaluationId: input.evaluationId, reportId: report.id, grade: input.grade },
          requestId: input.requestId,
          workflowId: input.evaluationId,
        });
        const left = await trx('evaluation_reports')
          .where({ evaluation_id: input.evaluationId })
          .whereNull('grade')
          .count<{ n: number }[]>('* as n');
        return { remaining: Number(left[0]!.n) };
      });
    },

    /**
     * After the publicity period: the results are final. Each member is told its grade (a batch at a time);
     * on the last batch the evaluation is marked published.
     */
    async publishEvaluationResults(
      input: { evaluationId: string; workflowId: string; at: string } & BatchCursor,
    ): Promise<BatchResult & { grades: MemberGrade[] }> {
      const { evaluation, programme } = await load(input.evaluationId);
      const rows = await page(members(evaluation.id), 'r.id', input).select<
        (MemberRow & {
          directory_entry_id: string;
          grade: EvaluationGrade | null;
          score: string | null;
          grade_reason: string | null;
        })[]
      >(...memberColumns, 'r.directory_entry_id', 'r.grade', 'r.score', 'r.grade_reason');
      const result = await mailPage(
        outbox,
        { workflowId: input.workflowId, purpose: 'evaluation_result' },
        input,
        rows.filter((r) => r.grade),
        (r) => ({
          key: `${input.workflowId}/evaluation_result/${r.id}`,
          recipient: r.contact_email,
          email: evaluationResult({
            institutionName: r.name_zh,
            programmeName: programme.nameZh,
            entryTitle: r.title_zh,
            evaluationTitle: evaluation.titleZh,
            gradeZh: gradeZh[r.grade!],
            score: r.score === null ? null : Number(r.score),
            reason: r.grade_reason,
          }),
        }),
      );
      const done = rows.length < input.batchSize;
      if (done) {
        await db.transaction(async (trx) => {
          const n = await trx('evaluations')
            .where({ id: evaluation.id })
            .whereNot({ status: 'published' })
            .update({ status: 'published', published_at: new Date(input.at) });
          if (n > 0) {
            await recordAudit(trx, {
              actor: 'system:evaluation',
              role: 'system',
              action: 'evaluation.publish',
              subjectKind: 'evaluation',
              subjectId: evaluation.id,
              workflowId: input.workflowId,
            });
          }
        });
      }
      return {
        ...result,
        last: rows.at(-1)?.id ?? input.after,
        done,
        grades: rows.map((r) => ({ entryId: r.directory_entry_id, grade: r.grade })),
      };
    },
  };
}
