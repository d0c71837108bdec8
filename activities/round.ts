import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { personalCommitments } from '../db/repositories/round.applications.js';
import { knownFields } from '../db/repositories/institutions.js';
import { roundContext, type RoundContext } from '../db/repositories/round.rules.js';
import { findRound, insertRoundIfMissing, updateRoundStatus, type RoundRow } from '../db/repositories/round.js';
import {
  COUNTED_STATUSES,
  formalProblems,
  limitViolation,
  personalLimitViolation,
  type ApplicationDraft,
} from '../domain/applications.js';
import {
  assertDay,
  formatShanghai,
  shanghaiDayOf,
  shanghaiInstant,
  yearOf,
  type WorkingCalendar,
} from '../domain/calendar/index.js';
import { roundTitleZh } from '../domain/programmes.js';
import {
  callNotice,
  callReminder,
  deadlineChanged,
  deadlineExtended,
  formalCheckFailed,
  roundCancelled,
  type RenderedEmail,
  type RoundMailContext,
} from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { mailPage, page, type BatchCursor, type BatchResult } from './mailing.js';
import { refuse } from './refusal.js';

/** A round's deadline as announced: 24:00 Asia/Shanghai on `day`, with the calendar version behind it. */
export interface Deadline {
  day: string;
  /** ISO instant with +08:00. */
  at: string;
  estimated: boolean;
  calendarVersion: number;
  /** 'calendar': N working days from the opening; 'staff': a day chosen at launch or by an extension. */
  source: 'calendar' | 'staff';
}

/** A reminder k working days before the deadline, due at 09:00 on `day`. */
export interface Reminder {
  k: number;
  day: string;
  at: string;
}

export interface PrepareRoundInput {
  roundId: string;
  programme: string;
  year: number;
  opensAt: string;
  /** A deadline day chosen by staff; otherwise the programme's call length on the working-day calendar. */
  deadlineDay?: string | undefined;
  launchedBy: string;
}

export interface PreparedRound {
  titleZh: string;
  deadline: Deadline;
  reminders: Reminder[];
  eligibleInstitutions: number;
  graceSeconds: number;
}

/** A page of a round's recipients: institutions in id order, after `after`. */
export interface RoundBatchCursor extends BatchCursor {
  roundId: string;
}

export type { BatchResult };

export interface ReminderBatchInput extends RoundBatchCursor {
  reminder: Reminder;
  deadline: Deadline;
}

export type AnnouncementKind = 'deadline_extended' | 'deadline_changed' | 'round_cancelled';

export interface Announcement {
  kind: AnnouncementKind;
  /** Makes the occasion unique (e.g. the new deadline day). */
  occasion: string;
  previousAt?: string | undefined;
  reason?: string | undefined;
}

export interface AnnouncementBatchInput extends RoundBatchCursor {
  announcement: Announcement;
}

export interface ExtensionInput {
  roundId: string;
  deadlineDay: string;
  reason: string;
  actor: string;
  requestId?: string | undefined;
  current: Deadline;
}

export interface ScheduleResult {
  deadline: Deadline;
  reminders: Reminder[];
}

export interface RecomputeInput {
  roundId: string;
  opensAt: string;
  current: Deadline;
}

export interface RecomputeResult extends ScheduleResult {
  /** True when the deadline's day moved (always later: an announced deadline is never brought forward). */
  moved: boolean;
}

export interface CancellationInput {
  roundId: string;
  reason: string;
  actor: string;
  requestId?: string | undefined;
  at: string;
}

export interface FormalCheckBatchResult {
  passed: number;
  failed: number;
  done: boolean;
}

export interface RecordRoundStageInput {
  roundId: string;
  stage: string;
  /** Workflow time of the change; bookkeeping only. */
  at: string;
  closed?: boolean;
}

interface InstitutionContact {
  id: string;
  name_zh: string;
  contact_email: string;
}

function reminderSchedule(calendar: WorkingCalendar, deadlineDay: string, ks: number[]): Reminder[] {
  return ks.map((k) => {
    const r = calendar.workingDaysBefore(deadlineDay, k);
    return { k, day: r.day, at: r.atIso };
  });
}

export function createRoundActivities({ db, outbox, calendar, attachments, logger }: ActivityDeps) {
  /** Institutions a round's programme accepts and no bar keeps out, on the day the call opens. */
  const eligible = (ctx: RoundContext, openDay: string) =>
    db('institutions as i')
      .whereIn('i.kind', ctx.rules.applicantKinds)
      .whereNotExists(
        db('bans as b')
          .where('b.programme', ctx.programme.key)
          .where('b.starts_on', '<=', openDay)
          .where('b.ends_on', '>', openDay)
          .where((q) => q.whereRaw('b.institution_id = i.id').orWhereRaw('b.institution_id = i.parent_id')),
      );

  const load = async (roundId: string): Promise<{ round: RoundRow & { deadlineAt: Date }; ctx: RoundContext }> => {
    const [round, ctx] = await Promise.all([findRound(db, roundId), roundContext(db, roundId)]);
    if (!round?.deadlineAt || !ctx) refuse('ROUND_NOT_FOUND', `round ${roundId} is not prepared`);
    return { round: round as RoundRow & { deadlineAt: Date }, ctx };
  };

  const mailContext = (
    round: RoundRow & { deadlineAt: Date },
    ctx: RoundContext,
    institution: InstitutionContact,
  ): RoundMailContext => ({
    institutionName: institution.name_zh,
    roundTitle: round.titleZh,
    programmeName: ctx.programme.nameZh,
    year: round.year,
    deadline: round.deadlineAt,
    deadlineEstimated: round.deadlineEstimated ?? false,
  });

  /** Emails the next batch of a recipient list; safe to retry, the outbox never sends a key twice. */
  /** Emails the next page of a recipient list; safe to retry, the outbox never sends a key twice. */
  const sendBatch = async (
    input: RoundBatchCursor,
    recipients: Knex.QueryBuilder,
    purpose: string,
    render: (institution: InstitutionContact) => { key: string; email: RenderedEmail; dueAt?: Date },
  ): Promise<BatchResult> => {
    const rows = await page(recipients, 'i.id', input).select<InstitutionContact[]>(
      'i.id',
      'i.name_zh',
      'i.contact_email',
    );
    return mailPage(outbox, { workflowId: input.roundId, purpose }, input, rows, (i) => ({
      ...render(i),
      recipient: i.contact_email,
    }));
  };

  const calendarDeadline = (
    cal: WorkingCalendar,
    version: number,
    day: string,
    source: Deadline['source'],
  ): Deadline => ({
    day,
    at: formatShanghai(shanghaiInstant(day, 24)),
    estimated: cal.arrangement(yearOf(day)).estimated,
    calendarVersion: version,
    source,
  });

  const storeDeadline = async (trx: Db, roundId: string, d: Deadline) => {
    await trx('rounds')
      .where({ id: roundId })
      .update({
        deadline_day: d.day,
        deadline_at: new Date(d.at),
        deadline_estimated: d.estimated,
        calendar_version: d.calendarVersion,
        deadline_source: d.source,
      });
  };

  return {
    /** Computes the round's deadline and reminder times on the working-day calendar and records them. */
    async prepareRound(input: PrepareRoundInput): Promise<PreparedRound> {
      const titleZhOf = async () => {
        const p = await db('programmes')
          .where({ key: input.programme })
          .first<{ name_zh: string } | undefined>('name_zh');
        if (!p) refuse('PROGRAMME_NOT_FOUND', `unknown programme ${input.programme}`);
        return roundTitleZh(p.name_zh, input.year);
      };
      // The API writes the row in the transaction that starts the workflow; should that commit have failed
      // after the start, the workflow restores it rather than leave a round that can neither run nor relaunch.
      await insertRoundIfMissing(db, {
        id: input.roundId,
        programme: input.programme,
        year: input.year,
        titleZh: await titleZhOf(),
        opensAt: new Date(input.opensAt),
        deadlineDay: input.deadlineDay,
        launchedBy: input.launchedBy,
      });
      const ctx = (await roundContext(db, input.roundId))!;
      const round = (await findRound(db, input.roundId))!;
      const { version, calendar: cal } = await calendar.snapshot();
      const openDay = shanghaiDayOf(new Date(input.opensAt));
      let deadline: Deadline;
      if (input.deadlineDay) {
        deadline = calendarDeadline(cal, version, assertDay(input.deadlineDay), 'staff');
      } else {
        const period = cal.period(openDay, ctx.rules.call.workingDays);
        deadline = { ...calendarDeadline(cal, version, period.lastDay, 'calendar'), estimated: period.estimated };
      }
      await storeDeadline(db, input.roundId, deadline);
      const [{ count }] = (await eligible(ctx, openDay).count('* as count')) as [{ count: number }];
      logger.info({ roundId: input.roundId, deadline }, 'round deadline computed');
      return {
        titleZh: round.titleZh,
        deadline,
        reminders: reminderSchedule(cal, deadline.day, ctx.rules.call.reminderWorkingDaysBefore),
        eligibleInstitutions: Number(count),
        graceSeconds: round.graceSeconds,
      };
    },

    /** The call notice, to every eligible institution. */
    async sendCallNotices(input: RoundBatchCursor): Promise<BatchResult> {
      const { round, ctx } = await load(input.roundId);
      return sendBatch(input, eligible(ctx, shanghaiDayOf(round.opensAt)), 'call_notice', (i) => ({
        key: `${round.id}/call_notice/${i.id}`,
        email: callNotice({
          ...mailContext(round, ctx, i),
          opensAt: round.opensAt,
          quotaNote: ctx.programme.quotaNote,
        }),
      }));
    },

    /** A reminder k working days before the deadline, only to eligible institutions with nothing submitted. */
    async sendCallReminders(input: ReminderBatchInput): Promise<BatchResult> {
      const { round, ctx } = await load(input.roundId);
      const withoutSubmission = eligible(ctx, shanghaiDayOf(round.opensAt)).whereNotExists(
        db('applications as a')
          .whereRaw('a.institution_id = i.id')
          .where('a.round_id', round.id)
          .whereIn('a.status', COUNTED_STATUSES),
      );
      return sendBatch(input, withoutSubmission, 'call_reminder', (i) => ({
        key: `${round.id}/call_reminder/${input.deadline.day}/${input.reminder.k}/${i.id}`,
        email: callReminder({ ...mailContext(round, ctx, i), workingDaysLeft: input.reminder.k }),
        dueAt: new Date(input.reminder.at),
      }));
    },

    /** Tells every eligible institution of a change to the round. */
    async sendRoundAnnouncement(input: AnnouncementBatchInput): Promise<BatchResult> {
      const { round, ctx } = await load(input.roundId);
      const a = input.announcement;
      return sendBatch(input, eligible(ctx, shanghaiDayOf(round.opensAt)), a.kind, (i) => {
        const base = mailContext(round, ctx, i);
        const email =
          a.kind === 'round_cancelled'
            ? roundCancelled({ ...base, reason: a.reason ?? round.cancelledReason ?? '' })
            : a.kind === 'deadline_extended'
              ? deadlineExtended({ ...base, previous: new Date(a.previousAt!), reason: a.reason ?? '' })
              : deadlineChanged({ ...base, previous: new Date(a.previousAt!) });
        return { key: `${round.id}/${a.kind}/${a.occasion}/${i.id}`, email };
      });
    },

    /** Records a staff extension: the new deadline (checked later than the current by the workflow). */
    async applyExtension(input: ExtensionInput): Promise<ScheduleResult> {
      const ctx = await roundContext(db, input.roundId);
      if (!ctx) refuse('ROUND_NOT_FOUND', input.roundId);
      const { version, calendar: cal } = await calendar.snapshot();
      const deadline = calendarDeadline(cal, version, assertDay(input.deadlineDay), 'staff');
      await db.transaction(async (trx) => {
        await storeDeadline(trx, input.roundId, deadline);
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'round.extend_deadline',
          subjectKind: 'round',
          subjectId: input.roundId,
          reason: input.reason,
          details: { from: input.current.at, to: deadline.at, calendarVersion: version },
          requestId: input.requestId,
          workflowId: input.roundId,
        });
      });
      return { deadline, reminders: reminderSchedule(cal, deadline.day, ctx.rules.call.reminderWorkingDaysBefore) };
    },

    /**
     * After staff entered a year's official arrangement: computes the deadline again. A deadline is never
     * brought forward — an earlier result keeps the announced day (now no longer estimated).
     */
    async recomputeDeadline(input: RecomputeInput): Promise<RecomputeResult> {
      const ctx = await roundContext(db, input.roundId);
      if (!ctx) refuse('ROUND_NOT_FOUND', input.roundId);
      const { version, calendar: cal } = await calendar.snapshot();
      let deadline = calendarDeadline(cal, version, input.current.day, input.current.source);
      if (input.current.source === 'calendar') {
        const period = cal.period(shanghaiDayOf(new Date(input.opensAt)), ctx.rules.call.workingDays);
        if (period.lastDay >= input.current.day) {
          deadline = { ...calendarDeadline(cal, version, period.lastDay, 'calendar'), estimated: period.estimated };
        }
      }
      const day = deadline.day;
      await storeDeadline(db, input.roundId, deadline);
      const moved = day !== input.current.day;
      if (moved) {
        await recordAudit(db, {
          actor: 'system:calendar',
          role: 'system',
          action: 'round.deadline_recomputed',
          subjectKind: 'round',
          subjectId: input.roundId,
          reason: '录入官方节假日安排后重新计算截止时间',
          details: { from: input.current.at, to: deadline.at, calendarVersion: version },
          workflowId: input.roundId,
        });
      }
      return { deadline, moved, reminders: reminderSchedule(cal, day, ctx.rules.call.reminderWorkingDaysBefore) };
    },

    async recordCancellation(input: CancellationInput): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('rounds')
          .where({ id: input.roundId })
          .update({ status: 'cancelled', cancelled_reason: input.reason, closed_at: new Date(input.at) });
        await trx('applications')
          .where({ round_id: input.roundId })
          .update({ status: 'cancelled', updated_at: trx.fn.now() });
        await recordAudit(trx, {
          actor: input.actor,
          role: 'staff',
          action: 'round.cancel',
          subjectKind: 'round',
          subjectId: input.roundId,
          reason: input.reason,
          requestId: input.requestId,
          workflowId: input.roundId,
        });
      });
    },

    /**
     * 形式审查 of the next batch of submitted applications, oldest receipt first (so that, were a limit
     * exceeded, the later submissions are the ones that fail). Each result, its audit row and the email
     * that tells a failing applicant commit together; owed emails are sent after each batch.
     */
    async formalCheckBatch(input: { roundId: string; batchSize: number }): Promise<FormalCheckBatchResult> {
      const { round, ctx } = await load(input.roundId);
      const fields = await knownFields(db);
      const batch = await db('applications as a')
        .join('institutions as i', 'i.id', 'a.institution_id')
        .where({ 'a.round_id': round.id, 'a.status': 'submitted' })
        .orderBy([{ column: 'a.received_at' }, { column: 'a.id' }])
        .limit(input.batchSize)
        .select<
          {
            id: string;
            institution_id: string;
            current_version: number;
            received_at: Date;
            kind: string;
            parent_id: string | null;
            name_zh: string;
            contact_email: string;
          }[]
        >(
          'a.id',
          'a.institution_id',
          'a.current_version',
          'a.received_at',
          'i.kind',
          'i.parent_id',
          'i.name_zh',
          'i.contact_email',
        );
      let passed = 0;
      let failed = 0;
      for (const app of batch) {
        const version = await db('application_versions')
          .where({ application_id: app.id, version: app.current_version })
          .first<{
            payload: {
              draft: ApplicationDraft;
              attachments: { kind: string; storageKey?: string; sha256: string; id: string }[];
            };
          }>('payload');
        const files = await Promise.all(
          version.payload.attachments.map(async (a) => {
            const stored = await db('attachments')
              .where({ id: a.id })
              .first<{ storage_key: string } | undefined>('storage_key');
            return { kind: a.kind, intact: stored ? await attachments.verify(stored.storage_key, a.sha256) : false };
          }),
        );
        const universityId = app.parent_id ?? app.institution_id;
        const reasons = formalProblems(ctx.programme.key, ctx.rules, version.payload.draft, files, fields);
        if (!ctx.rules.applicantKinds.includes(app.kind as never)) reasons.push('申报单位类型不符合本项目类别要求');
        const ban = await db('bans')
          .where('programme', ctx.programme.key)
          .whereIn('institution_id', [app.institution_id, universityId])
          .where('starts_on', '<=', shanghaiDayOf(app.received_at))
          .where('ends_on', '>', shanghaiDayOf(app.received_at))
          .first<{ reason: string; ends_on: string } | undefined>('reason', 'ends_on');
        if (ban) reasons.push(`本单位因“${ban.reason}”在 ${ban.ends_on} 之前不得申报`);
        // Earlier receipts were checked first: only those that passed count against the limits.
        const counted = await db('applications as a')
          .join('institutions as i', 'i.id', 'a.institution_id')
          .where({ 'a.round_id': round.id, 'a.status': 'formal_passed' })
          .where((w) => void w.where('i.id', universityId).orWhere('i.parent_id', universityId))
          .select(
            db.raw('count(*) filter (where a.institution_id = ?)::int as by_applicant', [app.institution_id]),
            db.raw('count(*)::int as by_university'),
          )
          .first<{ by_applicant: number; by_university: number }>();
        const limit = limitViolation(ctx.rules, {
          byApplicant: counted.by_applicant,
          byUniversity: counted.by_university,
        });
        if (limit) reasons.push(limit);
        const members = await db('application_members as m')
          .join('people as p', 'p.id', 'm.person_id')
          .where('m.application_id', app.id)
          .select<{ person_id: string; role: string; name_zh: string }[]>('m.person_id', 'm.role', 'p.name_zh');
        const commitments = await personalCommitments(
          db,
          members.map((m) => m.person_id),
          app.id,
          { uncheckedRound: round.id },
        );
        const principal = members.find((m) => m.role === 'principal');
        const personal = personalLimitViolation(
          ctx.rules,
          principal ? { name: principal.name_zh, led: commitments.get(principal.person_id)!.led } : undefined,
          members
            .filter((m) => m.role === 'member')
            .map((m) => ({ name: m.name_zh, joined: commitments.get(m.person_id)!.joined })),
        );
        if (personal) reasons.push(personal);

        const ok = reasons.length === 0;
        await db.transaction(async (trx) => {
          await trx('applications')
            .where({ id: app.id, status: 'submitted' })
            .update({
              status: ok ? 'formal_passed' : 'formal_failed',
              formal_check_reason: ok ? null : reasons.join('；'),
              formal_checked_at: trx.fn.now(),
              updated_at: trx.fn.now(),
            });
          await recordAudit(trx, {
            actor: 'system:formal-check',
            role: 'system',
            action: ok ? 'application.formal_check_passed' : 'application.formal_check_failed',
            subjectKind: 'application',
            subjectId: app.id,
            reason: ok ? undefined : reasons.join('；'),
            details: { roundId: round.id, version: app.current_version },
            workflowId: round.id,
          });
          if (!ok) {
            const title = version.payload.draft.title ?? '（未命名）';
            await outbox.enqueue(
              {
                idempotencyKey: `${round.id}/formal_check_failed/${app.id}`,
                workflowId: round.id,
                purpose: 'formal_check_failed',
                recipient: app.contact_email,
                ...formalCheckFailed({
                  institutionName: app.name_zh,
                  roundTitle: round.titleZh,
                  programmeName: ctx.programme.nameZh,
                  year: round.year,
                  applicationTitle: title,
                  reasons,
                }),
              },
              trx,
            );
          }
        });
        if (ok) passed += 1;
        else failed += 1;
        Context.current().heartbeat({ checked: passed + failed });
      }
      await outbox.deliverOwed({ workflowId: round.id, purpose: 'formal_check_failed' });
      return { passed, failed, done: batch.length < input.batchSize };
    },

    async recordRoundStage(input: RecordRoundStageInput): Promise<void> {
      await updateRoundStatus(db, input.roundId, input.stage, input.closed ? new Date(input.at) : undefined);
    },
  };
}
