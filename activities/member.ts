import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { findProgramme, type ProgrammeRow } from '../db/repositories/programmes.js';
import { formatDayZh } from '../domain/calendar/index.js';
import {
  rectificationNotice,
  rectificationPassed,
  rectificationReminder,
  removalNotice,
  removalWithdrawn,
  revocationNotice,
} from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import type { Reminder } from './round.js';

export type MemberStatus = 'active' | 'rectifying' | 'removal_pending' | 'removed' | 'revoked';

export interface RevokeInput {
  entryId: string;
  workflowId: string;
  reason: string;
  actor: string;
  requestId?: string | undefined;
  /** Today on the workflow's clock. */
  today: string;
}

export interface RevokeResult {
  status: 'revoked';
  barEndsOn: string;
}

export interface RectificationStarted {
  rectificationId: string;
  months: number;
  dueDay: string;
  /** 24:00 Asia/Shanghai on dueDay, ISO with +08:00. */
  dueAt: string;
  estimated: boolean;
  reminders: Reminder[];
}

export interface RectificationReportInput {
  rectificationId: string;
  entryId: string;
  payload: { summary: string; measures?: string[] | undefined };
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface RectificationReportRecorded {
  rectificationId: string;
  receivedAt: string;
  resubmitted: boolean;
}

/** The same day `months` later; a day the month lacks falls back to its last day (31 → 30, 29 Feb → 28 Feb). */
export function sameDayMonthsLater(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, lastDay));
  return target.toISOString().slice(0, 10);
}

/** The same day `years` later (29 February falls back to 28 February). */
export function sameDayYearsLater(day: string, years: number): string {
  return sameDayMonthsLater(day, years * 12);
}

/** Rectification passes at the evaluation's pass mark (合格 ≥ 60). */
const PASS_MARK = 60;

interface EntryContext {
  id: string;
  status: string;
  programme: ProgrammeRow;
  institutionId: string;
  title: string;
  institutionName: string;
  contactEmail: string;
}

async function entryContext(db: Db, entryId: string): Promise<EntryContext> {
  const row = await db('directory_entries as d')
    .join('institutions as i', 'i.id', 'd.institution_id')
    .where('d.id', entryId)
    .first<
      | {
          id: string;
          status: string;
          programme: string;
          institution_id: string;
          title_zh: string;
          name_zh: string;
          contact_email: string;
        }
      | undefined
    >('d.id', 'd.status', 'd.programme', 'd.institution_id', 'd.title_zh', 'i.name_zh', 'i.contact_email');
  if (!row) throw ApplicationFailure.nonRetryable('未找到该名录条目', 'DIRECTORY_ENTRY_NOT_FOUND');
  return {
    id: row.id,
    status: row.status,
    programme: (await findProgramme(db, row.programme))!,
    institutionId: row.institution_id,
    title: row.title_zh,
    institutionName: row.name_zh,
    contactEmail: row.contact_email,
  };
}

const mailOf = (e: EntryContext) => ({
  institutionName: e.institutionName,
  programmeName: e.programme.nameZh,
  entryTitle: e.title,
});

export function createDirectoryActivities({ db, outbox, calendar }: ActivityDeps) {
  /** A status change with its audit row, in one transaction. */
  const changeStatus = async (
    trx: Db,
    input: { entryId: string; workflowId: string; status: string; reason: string; action: string },
    details: Record<string, unknown> = {},
  ) => {
    await trx('directory_entries').where({ id: input.entryId }).update({
      status: input.status,
      status_reason: input.reason,
      status_changed_at: trx.fn.now(),
    });
    await recordAudit(trx, {
      actor: 'system:directory',
      role: 'system',
      action: input.action,
      subjectKind: 'directory_entry',
      subjectId: input.entryId,
      reason: input.reason,
      details,
      workflowId: input.workflowId,
    });
  };

  const rectification = async (rectificationId: string) =>
    db('rectifications').where({ id: rectificationId }).first<{
      id: string;
      evaluation_id: string | null;
      due_at: Date;
      report_due_day: string;
      report_received_at: Date | null;
      outcome: string;
      outcome_reason: string | null;
    }>();

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
      const entry = await entryContext(db, input.entryId);
      const rules = entry.programme.rules.directory;
      const evaluation = await db('evaluations')
        .where({ id: input.evaluationId })
        .first<{ rectification_months: number | null } | undefined>('rectification_months');
      const months = Math.min(
        evaluation?.rectification_months ?? rules?.rectificationMonths ?? 6,
        rules?.maxRectificationMonths ?? 24,
        24,
      );
      const { version, calendar: cal } = await calendar.snapshot();
      const due = cal.period(sameDayMonthsLater(input.today, months), 1);
      const reminders = entry.programme.rules.call.reminderWorkingDaysBefore.map((k) => {
        const r = cal.workingDaysBefore(due.lastDay, k);
        return { k, day: r.day, at: r.atIso };
      });
      const rectificationId = await db.transaction(async (trx) => {
        const existing = await trx('rectifications')
          .where({ directory_entry_id: input.entryId, evaluation_id: input.evaluationId })
          .first<{ id: string } | undefined>('id');
        if (existing) return existing.id;
        const [row] = await trx('rectifications')
          .insert({
            directory_entry_id: input.entryId,
            evaluation_id: input.evaluationId,
            started_on: input.today,
            due_at: due.endsAt,
            report_due_day: due.lastDay,
            months,
            outcome: 'pending',
            workflow_id: input.workflowId,
          })
          .returning<{ id: string }[]>('id');
        const reason = '年度动态评价结果为不合格';
        await changeStatus(
          trx,
          { ...input, status: 'rectifying', reason, action: 'directory.rectification_start' },
          {
            evaluationId: input.evaluationId,
            rectificationId: row!.id,
            months,
            dueDay: due.lastDay,
            calendarVersion: version,
          },
        );
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/rectification_notice/${row!.id}`,
            workflowId: input.workflowId,
            purpose: 'rectification_notice',
            recipient: entry.contactEmail,
            ...rectificationNotice({
              ...mailOf(entry),
              reason,
              months,
              due: due.endsAt,
              dueEstimated: due.estimated,
            }),
          },
          trx,
        );
        return row!.id;
      });
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
      const x = await rectification(input.rectificationId);
      if (x.report_received_at) return 'not_needed';
      const entry = await entryContext(db, input.entryId);
      const { calendar: cal } = await calendar.snapshot();
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/rectification_reminder/${input.rectificationId}/${input.reminder.k}`,
        workflowId: input.workflowId,
        purpose: 'rectification_reminder',
        recipient: entry.contactEmail,
        dueAt: new Date(input.reminder.at),
        ...rectificationReminder({
          ...mailOf(entry),
          due: x.due_at,
          dueEstimated: cal.arrangement(Number(x.report_due_day.slice(0, 4))).estimated,
          workingDaysLeft: input.reminder.k,
        }),
      });
      return 'sent';
    },

    /** The rectification report the workflow accepted on time (a resubmission before the due time replaces it). */
    async recordRectificationReport(input: RectificationReportInput): Promise<RectificationReportRecorded> {
      return db.transaction(async (trx) => {
        const x = await trx('rectifications')
          .where({ id: input.rectificationId })
          .forUpdate()
          .first<{ report_received_at: Date | null }>('report_received_at');
        await trx('rectifications')
          .where({ id: input.rectificationId })
          .update({ report_payload: JSON.stringify(input.payload), report_received_at: input.receivedAt });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: x.report_received_at ? 'directory.rectification_report_resubmit' : 'directory.rectification_report',
          subjectKind: 'directory_entry',
          subjectId: input.entryId,
          details: { rectificationId: input.rectificationId, receivedAt: input.receivedAt },
          requestId: input.requestId,
        });
        return {
          rectificationId: input.rectificationId,
          receivedAt: input.receivedAt,
          resubmitted: x.report_received_at !== null,
        };
      });
    },

    /** At the due time: with a report, experts re-evaluate; without one, the rectification has failed. */
    async closeRectification(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
    }): Promise<{ reported: boolean }> {
      return db.transaction(async (trx) => {
        const x = await trx('rectifications')
          .where({ id: input.rectificationId })
          .forUpdate()
          .first<{ report_received_at: Date | null; outcome: string }>('report_received_at', 'outcome');
        if (x.report_received_at) return { reported: true };
        if (x.outcome === 'pending') {
          await trx('rectifications').where({ id: input.rectificationId }).update({
            outcome: 'no_report',
            outcome_reason: '逾期未提交整改报告',
            decided_at: trx.fn.now(),
          });
          await recordAudit(trx, {
            actor: 'system:directory',
            role: 'system',
            action: 'directory.rectification_no_report',
            subjectKind: 'directory_entry',
            subjectId: input.entryId,
            reason: '逾期未提交整改报告',
            details: { rectificationId: input.rectificationId },
            workflowId: input.workflowId,
          });
        }
        return { reported: false };
      });
    },

    /** The experts' re-evaluation decides: at or above the pass mark the member is active again. */
    async decideRectification(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
    }): Promise<{ passed: boolean; score: number | null }> {
      const entry = await entryContext(db, input.entryId);
      const result = await db('review_results as rr')
        .join('reviews as r', 'r.id', 'rr.review_id')
        .where({ 'r.subject_kind': 'rectification', 'r.subject_id': input.rectificationId })
        .first<{ score: string | null; valid_scores: number } | undefined>('rr.score', 'rr.valid_scores');
      const score = result?.score === null || result?.score === undefined ? null : Number(result.score);
      const passed = score !== null && score >= PASS_MARK;
      await db.transaction(async (trx) => {
        const n = await trx('rectifications')
          .where({ id: input.rectificationId, outcome: 'pending' })
          .update({
            outcome: passed ? 'passed' : 'failed',
            score,
            outcome_reason: passed
              ? null
              : score === null
                ? '整改报告无有效专家评分'
                : `整改复评不合格（${score.toFixed(2)} 分）`,
            decided_at: trx.fn.now(),
          });
        if (n === 0) return;
        if (passed) {
          await changeStatus(
            trx,
            { ...input, status: 'active', reason: '整改复评合格', action: 'directory.rectification_pass' },
            { rectificationId: input.rectificationId, score },
          );
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/rectification_passed/${input.rectificationId}`,
              workflowId: input.workflowId,
              purpose: 'rectification_passed',
              recipient: entry.contactEmail,
              ...rectificationPassed({ ...mailOf(entry), score: score }),
            },
            trx,
          );
        } else {
          await recordAudit(trx, {
            actor: 'system:directory',
            role: 'system',
            action: 'directory.rectification_fail',
            subjectKind: 'directory_entry',
            subjectId: input.entryId,
            reason: score === null ? '整改报告无有效专家评分' : `整改复评不合格（${score.toFixed(2)} 分）`,
            details: { rectificationId: input.rectificationId, score },
            workflowId: input.workflowId,
          });
        }
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'rectification_passed' });
      return { passed, score };
    },

    /** Removal is to be publicised: the member is 拟移出名录 until the period ends. */
    async markRemovalPending(input: { entryId: string; workflowId: string; rectificationId: string }): Promise<void> {
      const x = await rectification(input.rectificationId);
      await db.transaction(async (trx) => {
        const current = await trx('directory_entries').where({ id: input.entryId }).first<{ status: string }>('status');
        if (current.status === 'removal_pending') return;
        await changeStatus(
          trx,
          {
            ...input,
            status: 'removal_pending',
            reason: x.outcome_reason ?? '整改未通过',
            action: 'directory.removal_publicise',
          },
          { rectificationId: input.rectificationId },
        );
      });
    },

    /** A procedural appeal against the removal stood: the member stays, and is told. */
    async withdrawRemoval(input: { entryId: string; workflowId: string; rectificationId: string }): Promise<void> {
      const entry = await entryContext(db, input.entryId);
      const appeal = await db('objections as o')
        .join('publicity_periods as p', 'p.id', 'o.publicity_id')
        .where({ 'p.subject_kind': 'removal', 'p.subject_id': input.rectificationId, 'o.status': 'upheld' })
        .orderBy('o.resolved_at')
        .first<{ resolution_reason: string } | undefined>('o.resolution_reason');
      const reason = appeal?.resolution_reason ?? '程序申诉成立';
      await db.transaction(async (trx) => {
        if (entry.status === 'active') return;
        await changeStatus(
          trx,
          { ...input, status: 'active', reason: `移出名录决定撤回：${reason}`, action: 'directory.removal_withdrawn' },
          { rectificationId: input.rectificationId },
        );
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/removal_withdrawn/${input.rectificationId}`,
            workflowId: input.workflowId,
            purpose: 'removal_withdrawn',
            recipient: entry.contactEmail,
            ...removalWithdrawn({ ...mailOf(entry), reason }),
          },
          trx,
        );
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'removal_withdrawn' });
    },

    /** 出名录: the removal is final after its publicity period; the member is told and the directory shows it. */
    async removeMember(input: {
      entryId: string;
      workflowId: string;
      rectificationId: string;
      today: string;
    }): Promise<void> {
      const entry = await entryContext(db, input.entryId);
      const x = await rectification(input.rectificationId);
      const reason = x.outcome_reason ?? '整改未通过';
      await db.transaction(async (trx) => {
        if (entry.status === 'removed') return;
        await changeStatus(
          trx,
          { ...input, status: 'removed', reason, action: 'directory.remove' },
          { rectificationId: input.rectificationId, removedOn: input.today },
        );
        await trx('directory_entries').where({ id: input.entryId }).update({ removed_on: input.today });
        await outbox.enqueue(
          {
            idempotencyKey: `${input.workflowId}/removal_notice/${input.rectificationId}`,
            workflowId: input.workflowId,
            purpose: 'removal_notice',
            recipient: entry.contactEmail,
            ...removalNotice({ ...mailOf(entry), reason, removedOn: formatDayZh(input.today) }),
          },
          trx,
        );
      });
      await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'removal_notice' });
    },

    /** Keeps the directory table in step with the member workflow. */
    async recordMemberStatus(input: {
      entryId: string;
      status: MemberStatus;
      reason?: string | undefined;
      at: string;
      workflowId: string;
    }): Promise<void> {
      await db('directory_entries')
        .where({ id: input.entryId })
        .update({
          status: input.status,
          status_reason: input.reason ?? null,
          status_changed_at: new Date(input.at),
          workflow_id: input.workflowId,
          ...(input.status === 'removed' || input.status === 'revoked' ? { removed_on: input.at.slice(0, 10) } : {}),
        });
    },

    /**
     * Revocation for misconduct: at once, out of the directory, and the institution barred from the programme
     * for the programme's ban period (5 years) — refused at submission and at the formal check of later rounds.
     */
    async revokeMember(input: RevokeInput): Promise<RevokeResult> {
      return db
        .transaction(async (trx) => {
          const entry = await trx('directory_entries as d')
            .join('programmes as p', 'p.key', 'd.programme')
            .join('institutions as i', 'i.id', 'd.institution_id')
            .where('d.id', input.entryId)
            .forUpdate('d')
            .first<
              | {
                  status: string;
                  programme: string;
                  institution_id: string;
                  title_zh: string;
                  name_zh: string;
                  contact_email: string;
                  programme_name: string;
                  rules: { directory?: { banYears: number } };
                }
              | undefined
            >(
              'd.status',
              'd.programme',
              'd.institution_id',
              'd.title_zh',
              'i.name_zh',
              'i.contact_email',
              'p.name_zh as programme_name',
              'p.rules',
            );
          if (!entry) throw ApplicationFailure.nonRetryable('未找到该名录条目', 'DIRECTORY_ENTRY_NOT_FOUND');
          const banYears = entry.rules.directory?.banYears ?? 5;
          const barEndsOn = sameDayYearsLater(input.today, banYears);
          if (entry.status === 'revoked') return { status: 'revoked' as const, barEndsOn };
          await trx('directory_entries').where({ id: input.entryId }).update({
            status: 'revoked',
            status_reason: input.reason,
            status_changed_at: trx.fn.now(),
            removed_on: input.today,
          });
          await trx('bans').insert({
            institution_id: entry.institution_id,
            programme: entry.programme,
            directory_entry_id: input.entryId,
            reason: input.reason,
            starts_on: input.today,
            ends_on: barEndsOn,
            decided_by: input.actor,
          });
          await recordAudit(trx, {
            actor: input.actor,
            role: 'staff',
            action: 'directory.revoke',
            subjectKind: 'directory_entry',
            subjectId: input.entryId,
            reason: input.reason,
            details: { barEndsOn, banYears },
            requestId: input.requestId,
            workflowId: input.workflowId,
          });
          await outbox.enqueue(
            {
              idempotencyKey: `${input.workflowId}/revocation_notice`,
              workflowId: input.workflowId,
              purpose: 'revocation_notice',
              recipient: entry.contact_email,
              ...revocationNotice({
                institutionName: entry.name_zh,
                programmeName: entry.programme_name,
                entryTitle: entry.title_zh,
                reason: input.reason,
                barEndsOn: formatDayZh(barEndsOn),
              }),
            },
            trx,
          );
          return { status: 'revoked' as const, barEndsOn };
        })
        .then(async (result) => {
          await outbox.deliverOwed({ workflowId: input.workflowId, purpose: 'revocation_notice' });
          return result;
        });
    },
  };
}
