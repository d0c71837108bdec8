import { log } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { CalendarRepository } from '../db/repositories/calendar.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { roundContext, type RoundContext } from '../db/repositories/round.rules.js';
import {
  cancelRound,
  countInstitutions,
  eligibleInstitutions,
  findRound,
  insertRoundIfMissing,
  storeDeadline,
  updateRoundStatus,
  type RoundRow,
} from '../db/repositories/round.js';
import {
  assertDay,
  formatShanghai,
  shanghaiDayOf,
  shanghaiInstant,
  yearOf,
  type Reminder,
  type WorkingCalendar,
} from '../domain/calendar/index.js';
import { roundTitleZh } from '../domain/programmes.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
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

/** What the round's first activity needs to compute its deadline and reminders (a part of `RoundInput`). */
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

/** Staff's extension as the round workflow accepted it, keyed by the Update that carries it. */
export interface ExtensionInput extends DecisionKeyed {
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

/** Staff's cancellation as the round workflow accepted it, keyed by the Update that carries it. */
export interface CancellationInput extends DecisionKeyed {
  roundId: string;
  reason: string;
  actor: string;
  requestId?: string | undefined;
  at: string;
}

export interface RecordRoundStageInput {
  roundId: string;
  stage: string;
  /** Workflow time of the change; bookkeeping only. */
  at: string;
  closed?: boolean;
}

function calendarDeadline(cal: WorkingCalendar, version: number, day: string, source: Deadline['source']): Deadline {
  return {
    day,
    at: formatShanghai(shanghaiInstant(day, 24)),
    estimated: cal.arrangement(yearOf(day)).estimated,
    calendarVersion: version,
    source,
  };
}

function store(db: Db, roundId: string, d: Deadline): Promise<void> {
  return storeDeadline(db, roundId, { ...d, at: new Date(d.at) });
}

/** A prepared round (its deadline stored) with its programme and rules. */
export interface PreparedRoundContext {
  round: RoundRow & { deadlineAt: Date };
  ctx: RoundContext;
}

/**
 * The round with its deadline, programme and rules.
 *
 * @throws `ROUND_NOT_FOUND` when the round is unknown or not yet prepared (no deadline).
 */
export async function loadPreparedRound(db: Db, roundId: string): Promise<PreparedRoundContext> {
  const [round, ctx] = await Promise.all([findRound(db, roundId), roundContext(db, roundId)]);
  if (!round?.deadlineAt || !ctx) refuse('ROUND_NOT_FOUND', `round ${roundId} is not prepared`);
  return { round: round as RoundRow & { deadlineAt: Date }, ctx };
}

/** The institutions a round's call addresses: eligible on the day it opens. */
export function eligibleFor(db: Db, ctx: RoundContext, openDay: string) {
  return eligibleInstitutions(db, { programme: ctx.programme.key, applicantKinds: ctx.rules.applicantKinds, openDay });
}

/**
 * The round's call: its deadline and reminders on the working-day calendar, extensions, recomputation,
 * cancellation and stage. The call's emails are in `round.notices.ts`; submissions in `round.applications.ts`,
 * the formal check, shortlist and 认定 in `round.formal-check.ts`, `round.shortlist.ts`, `round.approval.ts`.
 */
export function createRoundActivities(deps: ActivityDeps) {
  const { db, calendar } = deps;
  const decision = decisionRecorder(deps);
  return {
    /** Computes the round's deadline and reminder times on the working-day calendar and records them. */
    async prepareRound(input: PrepareRoundInput): Promise<PreparedRound> {
      const programme = await findProgramme(db, input.programme);
      if (!programme) refuse('PROGRAMME_NOT_FOUND', `unknown programme ${input.programme}`);
      // The API writes the row in the transaction that starts the workflow; should that commit have failed
      // after the start, the workflow restores it rather than leave a round that can neither run nor relaunch.
      await insertRoundIfMissing(db, {
        id: input.roundId,
        programme: input.programme,
        year: input.year,
        titleZh: roundTitleZh(programme.nameZh, input.year),
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
      await store(db, input.roundId, deadline);
      const eligibleInstitutions = await countInstitutions(eligibleFor(db, ctx, openDay));
      log.info('round deadline computed', {
        roundId: input.roundId,
        deadlineDay: deadline.day,
        estimated: deadline.estimated,
        source: deadline.source,
        eligibleInstitutions,
      });
      return {
        titleZh: round.titleZh,
        deadline,
        reminders: cal.remindersBefore(deadline.day, ctx.rules.call.reminderWorkingDaysBefore),
        eligibleInstitutions,
        graceSeconds: round.graceSeconds,
      };
    },

    /**
     * Records a staff extension: the new deadline (checked later than the current by the workflow), on the
     * calendar as read in the decision's transaction. A decision keyed by its Update: a retry after the commit
     * returns the first answer. The notices go out afterwards from the workflow (its announcement job).
     *
     * @throws `ROUND_NOT_FOUND`.
     */
    applyExtension: decision(async (input: ExtensionInput, { trx }): Promise<ScheduleResult> => {
      const ctx = await roundContext(trx, input.roundId);
      if (!ctx) refuse('ROUND_NOT_FOUND', input.roundId);
      const { version, calendar: cal } = await new CalendarRepository(trx).snapshot();
      const deadline = calendarDeadline(cal, version, assertDay(input.deadlineDay), 'staff');
      await store(trx, input.roundId, deadline);
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
      log.info('deadline extended', { roundId: input.roundId, from: input.current.day, to: deadline.day });
      return { deadline, reminders: cal.remindersBefore(deadline.day, ctx.rules.call.reminderWorkingDaysBefore) };
    }),

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
      await store(db, input.roundId, deadline);
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
        log.info('deadline recomputed', { roundId: input.roundId, from: input.current.day, to: day });
      }
      return { deadline, moved, reminders: cal.remindersBefore(day, ctx.rules.call.reminderWorkingDaysBefore) };
    },

    /**
     * Staff's cancellation: the round and every application in it are cancelled, with the reason audited. A
     * decision keyed by its Update: a retry after the commit returns. The notices go out afterwards from the
     * workflow (its announcement job).
     */
    recordCancellation: decision(async (input: CancellationInput, { trx }): Promise<void> => {
      await cancelRound(trx, input.roundId, input.reason, new Date(input.at));
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
      log.info('round cancelled', { roundId: input.roundId });
    }),

    /** Records the workflow's stage on the round row (and when it closed), for the API's views. */
    async recordRoundStage(input: RecordRoundStageInput): Promise<void> {
      await updateRoundStatus(db, input.roundId, input.stage, input.closed ? new Date(input.at) : undefined);
    },
  };
}
