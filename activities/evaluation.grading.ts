import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { setEvaluationStatus } from '../db/repositories/evaluation.js';
import {
  countUngraded,
  evaluationReviewResults,
  findReportGrade,
  gradeCounts,
  lockReportOf,
  saveGrade,
} from '../db/repositories/evaluation.reports.js';
import { gradeOf, type EvaluationGrade } from '../domain/programmes.js';
import { tooFewScoresReason } from '../domain/review/scoring.js';
import { evaluationUngraded } from '../mail/templates.js';
import { decisionRecorder } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { evaluationContext, type GradeCounts, type StaffGradeInput } from './evaluation.js';
import { refuse } from './refusal.js';

/** Grading the reports: from the experts' scores, and by staff where too few experts scored. */
export function createEvaluationGradingActivities(deps: ActivityDeps) {
  const { db, outbox, staffEmail } = deps;
  const decision = decisionRecorder(deps);
  return {
    /**
     * Grades each reviewed report from its aggregated score: 优秀 ≥ 90, 良好 ≥ 75, 合格 ≥ 60, else 不合格. A
     * report with fewer valid scores than the review's minimum (3) gets no grade from the experts: it waits
     * for a staff grade with a reason, so nobody is failed for the experts' absence (issue 13, point 7).
     */
    async gradeEvaluation(input: { evaluationId: string; workflowId: string }): Promise<GradeCounts> {
      await db.transaction(async (trx) => {
        for (const r of await evaluationReviewResults(trx, input.evaluationId)) {
          const report = await findReportGrade(trx, r.reportId);
          if (report.grade) continue;
          const enough = r.score !== null && r.validScores >= r.minValidScores;
          const score = r.score === null || r.validScores === 0 ? null : Number(r.score);
          const grade = enough && score !== null ? gradeOf(score) : null;
          await saveGrade(trx, r.reportId, {
            score,
            validScores: r.validScores,
            grade,
            reason: grade ? null : tooFewScoresReason(r.validScores, r.minValidScores),
          });
          await recordAudit(trx, {
            actor: 'system:evaluation',
            role: 'system',
            action: 'evaluation.grade',
            subjectKind: 'directory_entry',
            subjectId: report.entryId,
            details: {
              evaluationId: input.evaluationId,
              reportId: r.reportId,
              score,
              validScores: r.validScores,
              grade,
            },
            workflowId: input.workflowId,
          });
        }
        await setEvaluationStatus(trx, input.evaluationId, 'graded');
      });
      const counts = await gradeCounts(db, input.evaluationId);
      const of = (g: EvaluationGrade | null) => counts.get(g) ?? 0;
      const graded = {
        excellent: of('excellent'),
        good: of('good'),
        pass: of('pass'),
        fail: of('fail'),
        ungraded: of(null),
      };
      log.info('evaluation graded', { evaluationId: input.evaluationId, ...graded });
      return graded;
    },

    /** Staff are asked to grade the reports with too few valid expert scores (once per evaluation). */
    async notifyUngraded(input: { evaluationId: string; workflowId: string; ungraded: number }): Promise<void> {
      const { evaluation } = await evaluationContext(db, input.evaluationId);
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/evaluation_ungraded`,
        workflowId: input.workflowId,
        purpose: 'evaluation_ungraded',
        recipient: staffEmail,
        ...evaluationUngraded({
          signInUrl: signInUrlOf(deps),
          evaluationTitle: evaluation.titleZh,
          evaluationId: evaluation.id,
          ungraded: input.ungraded,
        }),
      });
    },

    /**
     * Staff grade a report with too few valid expert scores, with a reason. Returns how many reports still await a
     * grade. Only ungraded reports may be graded this way: an expert-based grade is changed by appeal only.
     * Keyed by its Update: a retry after the commit returns the recorded answer, not ALREADY_GRADED.
     *
     * @throws `ApplicationFailure` NOT_EVALUATED (member not asked to report), ALREADY_GRADED.
     */
    recordStaffGrade: decision(async (input: StaffGradeInput, { trx }): Promise<{ remaining: number }> => {
      const report = await lockReportOf(trx, input.evaluationId, input.entryId);
      if (!report) refuse('NOT_EVALUATED', '该名录成员不在本次动态评价范围内');
      if (report.grade) refuse('ALREADY_GRADED', '该自评报告已有评价结果；对结果有异议的，在公示期内申诉');
      await saveGrade(trx, report.id, { grade: input.grade, reason: `工作人员认定：${input.reason}` });
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
      const remaining = await countUngraded(trx, input.evaluationId);
      log.info('grade given', { evaluationId: input.evaluationId, grade: input.grade, by: 'staff', remaining });
      return { remaining };
    }),
  };
}
