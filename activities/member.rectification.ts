import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import {
  decidePendingRectification,
  evaluationRectificationMonths,
  findRectification,
  findRectificationOf,
  insertRectification,
  lockRectification,
  rectificationScore,
  saveRectificationReport,
} from '../db/repositories/member.rectification.js';
import { sameDayMonthsLater } from '../domain/calendar/months.js';
import { rectificationNotice, rectificationPassed, rectificationReminder } from '../mail/templates.js';
import { decisionRecorder } from './decision.js';
import type { ActivityDeps } from './deps.js';
import {
  changeMemberStatus,
  memberContext,
  memberMail,
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
  const { db, outbox, calendar } = deps;
  const decision = decisionRecorder(deps);
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
     * Taken by the workflow on its own, so keyed by the activity's identity: a retry after the commit returns
     * the recorded decision. A rectification no longer pending is not decided again.
     *
     * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND when there is no such entry.
     */
    decideRectification: decision(
      async (input: RectificationStep, { trx, enqueue }): Promise<{ passed: boolean; score: number | null }> => {
        const entry = await memberContext(trx, input.entryId);
        const score = await rectificationScore(trx, input.rectificationId);
        const passed = score !== null && score >= PASS_MARK;
        const pending = await decidePendingRectification(trx, input.rectificationId, {
          outcome: passed ? 'passed' : 'failed',
          score,
          reason: passed ? null : failReason(score),
        });
        if (!pending) return { passed, score };
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
            ...rectificationPassed({ ...memberMail(entry), score: score }),
          });
        } else {
          await recordAudit(trx, {
            actor: 'system:directory',
            role: 'system',
            action: 'directory.rectification_fail',
            subjectKind: 'directory_entry',
            subjectId: input.entryId,
            reason: failReason(score),
            details: { rectificationId: input.rectificationId, score },
            workflowId: input.workflowId,
          });
        }
        log.info('rectification decided', { rectificationId: input.rectificationId, passed, score });
        return { passed, score };
      },
    ),
  };
}
