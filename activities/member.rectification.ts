import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import {
  decidePendingRectification,
  evaluationRectificationMonths,
  findRectification,
  findRectificationOf,
  insertRectification,
  lockRectification,
  rectificationReviewResult,
  saveRectificationReport,
} from '../db/repositories/member.rectification.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import {
  rectificationNotice,
  rectificationPassed,
  rectificationReminder,
  staffGradeNeeded,
} from '../mail/templates.js';
import { tooFewScoresReason } from '../domain/review/scoring.js';
import { decisionRecorder, type DecisionTx } from './decision.js';
import { refuse } from './refusal.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import {
  changeMemberStatus,
  memberContext,
  memberMail,
  type RectificationDecision,
  type RectificationGradeInput,
  type RectificationReportInput,
  type RectificationReportRecorded,
  type RectificationStep,
  type RectificationStarted,
} from './member.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';

/** Rectification passes at the evaluation's pass mark (合格 ≥ 60). */
const PASS_MARK = 60;

const NO_REPORT_REASON = '逾期未提交整改报告';

/** Why a re-evaluation failed: no valid expert score, or the score below the pass mark. */
const failReason = (score: number | null) =>
  score === null ? '整改报告无有效专家评分' : `整改复评不合格（${score.toFixed(2)} 分）`;

/** 限期整改 of a member graded 不合格: the warning, the report, its re-evaluation. */
export function createMemberRectificationActivities(deps: ActivityDeps) {
  const { db, outbox, calendar, staffEmail } = deps;
  const decision = decisionRecorder(deps);

  /**
   * Records a pending rectification's outcome, by the experts or by staff: a pass restores the member (and
   * tells it), a fail is audited. Returns false when it was no longer pending (nothing written).
   */
  const settle = async (
    input: RectificationStep,
    { trx, enqueue }: DecisionTx,
    outcome: { passed: boolean; score: number | null; reason: string | null; byStaff?: boolean },
  ): Promise<boolean> => {
    const entry = await memberContext(trx, input.entryId);
    const { passed, score, reason } = outcome;
    const pending = await decidePendingRectification(trx, input.rectificationId, {
      outcome: passed ? 'passed' : 'failed',
      score,
      reason,
    });
    if (!pending) return false;
    if (passed) {
      await changeMemberStatus(
        trx,
        { ...input, status: 'active', reason: '整改复评合格', action: 'directory.rectification_pass' },
        { rectificationId: input.rectificationId, score },
      );
      await enqueue({
        idempotencyKey: `${input.workflowId}/rectification_passed/${input.rectificationId}`,
        workflowId: input.workflowId,
        purpose: 'rectification_passed',
        recipient: entry.contactEmail,
        ...rectificationPassed({ ...memberMail(entry), score: outcome.byStaff ? null : score }),
      });
    } else {
      await recordAudit(trx, {
        actor: 'system:directory',
        role: 'system',
        action: 'directory.rectification_fail',
        subjectKind: 'directory_entry',
        subjectId: input.entryId,
        reason: reason ?? undefined,
        details: { rectificationId: input.rectificationId, score },
        workflowId: input.workflowId,
      });
    }
    log.info('rectification decided', { rectificationId: input.rectificationId, passed, score });
    return true;
  };

  return {
    /**
     * 不合格 in the annual evaluation: a warning and rectification (限期整改) for the programme's period
     * (default 6 months, at most 2 years), the report due at 24:00 on the first working day on or after its
     * end. Idempotent per member and evaluation.
     */
    async startRectification(input: {
      entryId: string;
      workflowId: string;
      evaluationId: string;
      today: string;
    }): Promise<RectificationStarted> {
      const entry = await memberContext(db, input.entryId);
      const rules = entry.programme.rules.directory;
      const months = Math.min(
        (await evaluationRectificationMonths(db, input.evaluationId)) ?? rules?.rectificationMonths ?? 6,
        rules?.maxRectificationMonths ?? 24,
        24,
      );
      const { version, calendar: cal } = await calendar.snapshot();
      const due = cal.period(sameDayMonthsLater(input.today, months), 1);
      const reminders = cal.remindersBefore(due.lastDay, entry.programme.rules.call.reminderWorkingDaysBefore);
      const rectificationId = await db.transaction(async (trx) => {
        const existing = await findRectificationOf(trx, input.entryId, input.evaluationId);
        if (existing) return existing;
        const id = await insertRectification(trx, {
          entryId: input.entryId,
          evaluationId: input.evaluationId,
          startedOn: input.today,
          dueAt: due.endsAt,
          reportDueDay: due.lastDay,
          months,
          workflowId: input.workflowId,
        });
        const reason = '年度动态评价结果为不合格';
        await changeMemberStatus(
          trx,
          { ...input, status: 'rectifying', reason, action: 'directory.rectification_start' },
          {
            evaluationId: input.evaluationId,
            rectificationId: id,
            months,
            dueDay: due.lastDay,
            calendarVersion: version,
          },
        );
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/rectification_notice/${id}`,
            workflowId: input.workflowId,
            purpose: 'rectification_notice',
            recipient: entry.contactEmail,
            ...rectificationNotice({
              signInUrl: signInUrlOf(deps),
              ...memberMail(entry),
              reason,
              months,
              due: due.endsAt,
              dueEstimated: due.estimated,
            }),
          },
          trx,
        );
        return id;
      });
      log.info('rectification started', { entryId: input.entryId, rectificationId, months, dueDay: due.lastDay });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'rectification_notice' });
      return {
        rectificationId,
        months,
        dueDay: due.lastDay,
        dueAt: due.endsAtIso,
        estimated: due.estimated,
        reminders,
      };
    },

    /** A reminder of the rectification report, only while none has been received. */
    async sendRectificationReminder(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
      reminder: Reminder;
    }): Promise<'sent' | 'not_needed'> {
      const x = await findRectification(db, input.rectificationId);
      if (x.reportReceivedAt) return 'not_needed';
      const entry = await memberContext(db, input.entryId);
      const { calendar: cal } = await calendar.snapshot();
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/rectification_reminder/${input.rectificationId}/${input.reminder.k}`,
        workflowId: input.workflowId,
        purpose: 'rectification_reminder',
        recipient: entry.contactEmail,
        dueAt: new Date(input.reminder.at),
        ...rectificationReminder({
          signInUrl: signInUrlOf(deps),
          ...memberMail(entry),
          due: x.dueAt,
          dueEstimated: cal.arrangement(Number(x.reportDueDay.slice(0, 4))).estimated,
          workingDaysLeft: input.reminder.k,
        }),
      });
      return 'sent';
    },

    /**
     * The rectification report the workflow accepted on time (a resubmission before the due time replaces it).
     * Keyed by its Update: a retry after the commit returns the recorded answer (not a second, "resubmitted" one).
     */
    recordRectificationReport: decision(
      async (input: RectificationReportInput, { trx }): Promise<RectificationReportRecorded> => {
        const x = await lockRectification(trx, input.rectificationId);
        await saveRectificationReport(trx, input.rectificationId, input.payload, input.receivedAt);
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: x.reportReceivedAt ? 'directory.rectification_report_resubmit' : 'directory.rectification_report',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          details: { rectificationId: input.rectificationId, receivedAt: input.receivedAt },
          requestId: input.requestId,
        });
        const resubmitted = x.reportReceivedAt !== null;
        log.info('rectification report recorded', { rectificationId: input.rectificationId, resubmitted });
        return { rectificationId: input.rectificationId, receivedAt: input.receivedAt, resubmitted };
      },
    ),

    /** At the due time: with a report, experts re-evaluate; without one, the rectification has failed. */
    async closeRectification(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
    }): Promise<{ reported: boolean }> {
      const closed = await db.transaction(async (trx) => {
        const x = await lockRectification(trx, input.rectificationId);
        if (x.reportReceivedAt) return { reported: true, decidedNow: false };
        if (x.outcome !== 'pending') return { reported: false, decidedNow: false };
        await decidePendingRectification(trx, input.rectificationId, {
          outcome: 'no_report',
          reason: NO_REPORT_REASON,
        });
        await recordAudit(trx, {
          actor: 'system:directory',
          role: 'system',
          action: 'directory.rectification_no_report',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          reason: NO_REPORT_REASON,
          details: { rectificationId: input.rectificationId },
          workflowId: input.workflowId,
        });
        return { reported: false, decidedNow: true };
      });
      if (closed.decidedNow) {
        log.info('rectification decided', { rectificationId: input.rectificationId, passed: false, reported: false });
      }
      return { reported: closed.reported };
    },

    /**
     * The experts' re-evaluation decides: at or above the pass mark the member is active again (and told).
     * With fewer valid scores than the review's minimum (3) nothing is decided: nobody is failed for the
     * experts' absence; staff are emailed that a grade is needed and the answer says `awaitingGrade` (the
     * workflow then waits for `recordRectificationGrade`). Taken by the workflow on its own, so keyed by the
     * activity's identity: a retry after the commit returns the recorded decision. A rectification no longer
     * pending is not decided again.
     *
     * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND when there is no such entry.
     */
    decideRectification: decision(async (input: RectificationStep, tx): Promise<RectificationDecision> => {
      const entry = await memberContext(tx.trx, input.entryId);
      const { score, validScores, minValidScores } = await rectificationReviewResult(tx.trx, input.rectificationId);
      const x = await lockRectification(tx.trx, input.rectificationId);
      if (validScores < minValidScores && x.outcome === 'pending') {
        const reason = tooFewScoresReason(validScores, minValidScores);
        await recordAudit(tx.trx, {
          actor: 'system:directory',
          role: 'system',
          action: 'directory.rectification_awaiting_grade',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          reason,
          details: { rectificationId: input.rectificationId, score, validScores, minValidScores },
          workflowId: input.workflowId,
        });
        await tx.enqueue({
          idempotencyKey: `${input.workflowId}/rectification_grade_needed/${input.rectificationId}`,
          workflowId: input.workflowId,
          purpose: 'rectification_grade_needed',
          recipient: staffEmail,
          ...staffGradeNeeded({
            signInUrl: signInUrlOf(deps),
            what: `“${entry.title}”（${entry.institutionName}）的整改报告`,
            valid: validScores,
            min: minValidScores,
          }),
        });
        log.info('rectification awaits a staff grade', { rectificationId: input.rectificationId, validScores });
        return { passed: false, score, awaitingGrade: true };
      }
      const passed = score !== null && score >= PASS_MARK;
      await settle(input, tx, { passed, score, reason: passed ? null : failReason(score) });
      return { passed, score };
    }),

    /**
     * Staff decide a rectification report the experts left with too few valid scores: pass (the member is
     * active again, and told) or fail (removal follows), with a reason. Keyed by its Update: a retry after the
     * commit returns the recorded answer.
     *
     * @throws `ApplicationFailure` GRADE_NOT_PENDING when the rectification is no longer pending.
     */
    recordRectificationGrade: decision(async (input: RectificationGradeInput, tx): Promise<RectificationDecision> => {
      const { score } = await rectificationReviewResult(tx.trx, input.rectificationId);
      const reason = `工作人员认定：${input.reason}`;
      const step = { entryId: input.entryId, workflowId: input.workflowId, rectificationId: input.rectificationId };
      if (!(await settle(step, tx, { passed: input.passed, score, reason, byStaff: true }))) {
        refuse('GRADE_NOT_PENDING', '该整改报告已有复评结果');
      }
      await recordAudit(tx.trx, {
        actor: input.actor,
        role: 'staff',
        action: 'directory.rectification_staff_grade',
        subjectKind: 'directory_entry',
        subjectId: input.entryId,
        reason: input.reason,
        details: { rectificationId: input.rectificationId, passed: input.passed },
        requestId: input.requestId,
        workflowId: input.workflowId,
      });
      return { passed: input.passed, score };
    }),
  };
}
