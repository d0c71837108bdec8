import { ApplicationFailure, Context } from '@temporalio/activity';
import { formatShanghai, shanghaiDayOf, shanghaiInstant, assertDay } from '../domain/calendar/index.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { findRound, insertRoundIfMissing, recordDeadline, updateRoundStatus } from '../db/repositories/rounds.js';
import { roundTitleZh } from '../domain/programmes.js';
import { callNotice } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';

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
  deadlineDay: string;
  /** 24:00 Asia/Shanghai on deadlineDay, ISO with +08:00. */
  deadlineAt: string;
  deadlineEstimated: boolean;
  calendarVersion: number;
  eligibleInstitutions: number;
}

export interface SendCallNoticesInput {
  roundId: string;
  /** Resume after this institution id (institutions are visited in id order). */
  after?: string | undefined;
  batchSize: number;
}

export interface SendCallNoticesResult {
  sent: number;
  alreadySent: number;
  last: string | undefined;
  done: boolean;
}

export interface RecordRoundStageInput {
  roundId: string;
  stage: string;
  /** Workflow time of the change; bookkeeping only. */
  at: string;
  closed?: boolean;
}

interface EligibleInstitution {
  id: string;
  name_zh: string;
  contact_email: string;
}

export function createRoundActivities({ db, outbox, calendar, logger }: ActivityDeps) {
  const eligibleInstitutions = (programme: string, kinds: string[], openDay: string) =>
    db('institutions as i')
      .whereIn('i.kind', kinds)
      .whereNotExists(
        db('bans as b')
          .where('b.programme', programme)
          .where('b.ends_on', '>', openDay)
          .where((q) => q.whereRaw('b.institution_id = i.id').orWhereRaw('b.institution_id = i.parent_id')),
      );

  return {
    /** Computes the round's deadline on the working-day calendar and records it with the calendar version. */
    async prepareRound(input: PrepareRoundInput): Promise<PreparedRound> {
      const programme = await findProgramme(db, input.programme);
      if (!programme)
        throw ApplicationFailure.nonRetryable(`unknown programme ${input.programme}`, 'PROGRAMME_NOT_FOUND');
      // The API writes the row in the transaction that starts the workflow; should that commit have failed
      // after the start, the workflow restores it rather than leave a round that can neither run nor relaunch.
      const titleZh = roundTitleZh(programme.nameZh, input.year);
      await insertRoundIfMissing(db, {
        id: input.roundId,
        programme: input.programme,
        year: input.year,
        titleZh,
        opensAt: new Date(input.opensAt),
        deadlineDay: input.deadlineDay,
        launchedBy: input.launchedBy,
      });

      const { version, calendar: cal } = await calendar.snapshot();
      const openDay = shanghaiDayOf(new Date(input.opensAt));
      let deadlineDay: string;
      let estimated: boolean;
      if (input.deadlineDay) {
        deadlineDay = assertDay(input.deadlineDay);
        // A chosen day is still "estimated" when its year's arrangement is not official yet.
        estimated = cal.arrangement(Number(deadlineDay.slice(0, 4))).estimated;
      } else {
        const period = cal.period(openDay, programme.rules.call.workingDays);
        deadlineDay = period.lastDay;
        estimated = period.estimated;
      }
      const deadlineAt = shanghaiInstant(deadlineDay, 24);
      await recordDeadline(db, input.roundId, {
        day: deadlineDay,
        at: deadlineAt,
        estimated,
        calendarVersion: version,
      });
      const [{ count }] = (await eligibleInstitutions(programme.key, programme.rules.applicantKinds, openDay).count(
        '* as count',
      )) as [{ count: number }];
      logger.info({ roundId: input.roundId, deadlineDay, estimated, version }, 'round deadline computed');
      return {
        titleZh,
        deadlineDay,
        deadlineAt: formatShanghai(deadlineAt),
        deadlineEstimated: estimated,
        calendarVersion: version,
        eligibleInstitutions: Number(count),
      };
    },

    /** Emails the call notice to the next batch of eligible institutions. Safe to retry: the outbox dedupes. */
    async sendCallNotices(input: SendCallNoticesInput): Promise<SendCallNoticesResult> {
      const round = await findRound(db, input.roundId);
      if (!round?.deadlineAt) {
        throw ApplicationFailure.nonRetryable(`round ${input.roundId} is not prepared`, 'ROUND_NOT_FOUND');
      }
      const programme = await findProgramme(db, round.programme);
      if (!programme)
        throw ApplicationFailure.nonRetryable(`unknown programme ${round.programme}`, 'PROGRAMME_NOT_FOUND');
      const openDay = shanghaiDayOf(round.opensAt);
      const batch = await eligibleInstitutions(programme.key, programme.rules.applicantKinds, openDay)
        .modify((q) => {
          if (input.after) void q.where('i.id', '>', input.after);
        })
        .orderBy('i.id')
        .limit(input.batchSize)
        .select<EligibleInstitution[]>('i.id', 'i.name_zh', 'i.contact_email');

      let sent = 0;
      let alreadySent = 0;
      for (const institution of batch) {
        const email = callNotice({
          institutionName: institution.name_zh,
          roundTitle: round.titleZh,
          programmeName: programme.nameZh,
          year: round.year,
          opensAt: round.opensAt,
          deadline: round.deadlineAt,
          deadlineEstimated: round.deadlineEstimated ?? false,
          quotaNote: programme.quotaNote,
        });
        const result = await outbox.deliver({
          idempotencyKey: `${round.id}/call_notice/${institution.id}`,
          workflowId: round.id,
          purpose: 'call_notice',
          recipient: institution.contact_email,
          ...email,
        });
        if (result === 'sent') sent += 1;
        else alreadySent += 1;
        Context.current().heartbeat({ last: institution.id });
      }
      return {
        sent,
        alreadySent,
        last: batch.at(-1)?.id ?? input.after,
        done: batch.length < input.batchSize,
      };
    },

    async recordRoundStage(input: RecordRoundStageInput): Promise<void> {
      await updateRoundStatus(db, input.roundId, input.stage, input.closed ? new Date(input.at) : undefined);
    },
  };
}
