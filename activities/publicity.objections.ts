import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import {
  countPendingObjections,
  entryInPeriod,
  findObjectionByKey,
  insertObjection,
  type NewObjection,
} from '../db/repositories/publicity.objections.js';
import { periodHeading } from '../db/repositories/publicity.periods.js';
import { addDays, formatShanghai, shanghaiDayOf, shanghaiInstant } from '../domain/calendar/index.js';
import { objectionsPending } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

/**
 * An objection (异议) as the workflow received it: the objector's real name, unit and contacts, the facts; keyed
 * by the Update that carries it.
 */
export interface ObjectionInput extends NewObjection, DecisionKeyed {}

export interface ObjectionRecorded {
  objectionId: string;
  receivedAt: string;
  /** True when this idempotency key had been filed already: not counted twice. */
  repeated: boolean;
}

/** Objections filed during a publicity period, and staff's reminders of those still pending. */
export function createObjectionActivities(deps: ActivityDeps) {
  const { db, outbox, calendar, staffEmail } = deps;
  const decision = decisionRecorder(deps);
  return {
    /**
     * Files an objection the workflow accepted on time, as a decision keyed by its Update (a retry after the
     * commit returns the first answer). A new request repeating an idempotency key already filed returns the
     * first objection, marked `repeated` (not counted twice).
     *
     * @throws `VALIDATION_FAILED` when the entry named is not in this period's list.
     */
    recordObjection: decision(async (input: ObjectionInput, { trx }): Promise<ObjectionRecorded> => {
      const recorded = await (async (): Promise<ObjectionRecorded> => {
        if (input.idempotencyKey) {
          const seen = await findObjectionByKey(trx, input.idempotencyKey);
          if (seen) return { objectionId: seen.id, receivedAt: seen.received_at.toISOString(), repeated: true };
        }
        if (input.entryId && !(await entryInPeriod(trx, input.publicityId, input.entryId))) {
          refuse('VALIDATION_FAILED', '异议所涉项目不在本次公示名单中');
        }
        const objectionId = await insertObjection(trx, input);
        if (!objectionId) {
          // A concurrent request with the same idempotency key committed first.
          const first = (await findObjectionByKey(trx, input.idempotencyKey!))!;
          return { objectionId: first.id, receivedAt: first.received_at.toISOString(), repeated: true };
        }
        await recordAudit(trx, {
          actor: `public:${input.name}`,
          role: 'public',
          action: 'objection.file',
          subjectKind: 'objection',
          subjectId: objectionId,
          details: {
            publicityId: input.publicityId,
            entryId: input.entryId ?? null,
            unit: input.unit,
            onBehalfOfUnit: input.onBehalfOfUnit,
            receivedAt: input.receivedAt,
          },
        });
        return { objectionId, receivedAt: input.receivedAt, repeated: false };
      })();
      log.info('objection recorded', {
        objectionId: recorded.objectionId,
        publicityId: input.publicityId,
        entryId: input.entryId ?? null,
        repeated: recorded.repeated,
      });
      return recorded;
    }),

    /** 09:00 on the next working day after `after` (when staff are reminded of pending objections). */
    async nextWorkingMorning(input: { after: string }): Promise<string> {
      const { calendar: cal } = await calendar.snapshot();
      let day = shanghaiDayOf(new Date(input.after));
      if (shanghaiInstant(day, 9).getTime() <= Date.parse(input.after) || !cal.isWorkingDay(day)) {
        do day = addDays(day, 1);
        while (!cal.isWorkingDay(day));
      }
      return formatShanghai(shanghaiInstant(day, 9));
    },

    /** Tells staff, once per day, how many objections of a closed period still await their resolution. */
    async remindStaffOfObjections(input: { workflowId: string; publicityId: string; day: string }): Promise<void> {
      const period = await periodHeading(db, input.publicityId);
      const pending = await countPendingObjections(db, input.publicityId);
      await outbox.deliver({
        idempotencyKey: `${input.workflowId}/objections_pending/${input.publicityId}/${input.day}`,
        workflowId: input.workflowId,
        purpose: 'objections_pending',
        recipient: staffEmail,
        ...objectionsPending({
          signInUrl: signInUrlOf(deps),
          publicityTitle: period.title_zh,
          pending,
          endedAt: period.ends_at,
        }),
      });
    },
  };
}
