import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import {
  closePeriod,
  countEntries,
  findOpenedPeriod,
  insertEntries,
  insertPeriod,
} from '../db/repositories/publicity.periods.js';
import { publicitySubject, type PublicitySubjectKind } from '../db/repositories/publicity.subjects.js';
import { setApplicationsStatus } from '../db/repositories/round.applications.js';
import type { Db } from '../db/knex.js';
import { publicityItemIds } from '../db/repositories/notices.js';
import { formatShanghai } from '../domain/calendar/index.js';
import type { ErrorCode } from '../domain/errors.js';
import { publicityOpenedEmails, publicityOpenedKey } from './applicant-notices.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

export type { PublicitySubjectKind };
export type { ObjectionInput, ObjectionRecorded } from './publicity.objections.js';
export type { ResolutionInput, ResolutionResult } from './publicity.resolutions.js';

export interface OpenPublicityInput {
  workflowId: string;
  subjectKind: PublicitySubjectKind;
  /** The round id, the evaluation id, or the rectification id whose failure leads to the removal. */
  subjectId: string;
  /** The period this one re-publicises the changes of (递补, a corrected grade); none for the first. */
  parentId?: string | undefined;
  /** For a re-publicity: the items changed (applications substituted in, reports regraded). */
  itemIds?: string[] | undefined;
  /** Today on the workflow's clock: the list is published today. */
  today: string;
}

export interface PublicityPeriod {
  publicityId: string;
  firstDay: string;
  lastDay: string;
  /** 24:00 Asia/Shanghai on lastDay, ISO with +08:00. */
  endsAt: string;
  estimated: boolean;
  calendarVersion: number;
  entries: number;
}

const subjectNotFound: Record<PublicitySubjectKind, ErrorCode> = {
  round: 'ROUND_NOT_FOUND',
  showcase: 'SHOWCASE_NOT_FOUND',
  evaluation: 'EVALUATION_NOT_FOUND',
  removal: 'REVIEW_NOT_FOUND',
};

/** What a period publishes; refuses (non-retryable, `*_NOT_FOUND`) an unknown subject. */
async function subjectOf(trx: Db, input: OpenPublicityInput) {
  const subject = await publicitySubject(trx, input.subjectKind, input.subjectId, input.parentId);
  if (!subject) refuse(subjectNotFound[input.subjectKind], input.subjectId);
  return subject;
}

/** Opening and closing a publicity period (公示); objections and resolutions are in `publicity.objections.ts`. */
export function createPublicityActivities({ db, calendar, outbox }: ActivityDeps) {
  return {
    /**
     * Publishes a list for N working days by the SPEC's counting rule, and records the notice to each
     * institution listed (`publicity_opened`) with the period; `sendPublicityNotices` hands them to SMTP once
     * the workflow has the period (objections are taken meanwhile). Idempotent per workflow and parent.
     */
    async openPublicity(input: OpenPublicityInput): Promise<PublicityPeriod> {
      const subject = await subjectOf(db, input);
      const { version, calendar: cal } = await calendar.snapshot();
      const period = cal.period(input.today, subject.workingDays);
      const opened = await db.transaction(async (trx): Promise<PublicityPeriod & { now: boolean }> => {
        const existing = await findOpenedPeriod(trx, input.workflowId, input.parentId);
        if (existing) {
          return {
            publicityId: existing.id,
            firstDay: existing.first_day,
            lastDay: existing.last_day,
            endsAt: formatShanghai(existing.ends_at),
            estimated: existing.estimated,
            calendarVersion: existing.calendar_version,
            entries: await countEntries(trx, existing.id),
            now: false,
          };
        }
        const publicityId = await insertPeriod(trx, {
          subjectKind: input.subjectKind,
          subjectId: input.subjectId,
          parentId: input.parentId,
          titleZh: subject.titleZh,
          workingDays: subject.workingDays,
          opensOn: input.today,
          firstDay: period.firstDay,
          lastDay: period.lastDay,
          endsAt: period.endsAt,
          estimated: period.estimated,
          calendarVersion: version,
          workflowId: input.workflowId,
        });
        const rows = await (await subjectOf(trx, input)).entries(input.itemIds);
        await insertEntries(trx, publicityId, rows);
        const notices = await publicityOpenedEmails(
          trx,
          input.workflowId,
          {
            publicityId,
            titleZh: subject.titleZh,
            firstDay: period.firstDay,
            endsAt: period.endsAt,
            estimated: period.estimated,
          },
          rows,
        );
        for (const email of notices) await outbox.enqueue(email, trx);
        if (input.subjectKind === 'round') {
          await setApplicationsStatus(
            trx,
            rows.map((a) => a.item_id),
            'in_publicity',
          );
        }
        await recordAudit(trx, {
          actor: 'system:publicity',
          role: 'system',
          action: 'publicity.open',
          subjectKind: 'publicity',
          subjectId: publicityId,
          details: {
            subjectKind: input.subjectKind,
            subjectId: input.subjectId,
            entries: rows.length,
            lastDay: period.lastDay,
            calendarVersion: version,
            parentId: input.parentId ?? null,
          },
          workflowId: input.workflowId,
        });
        return {
          publicityId,
          firstDay: period.firstDay,
          lastDay: period.lastDay,
          endsAt: period.endsAtIso,
          estimated: period.estimated,
          calendarVersion: version,
          entries: rows.length,
          now: true,
        };
      });
      const { now, ...result } = opened;
      if (now) {
        log.info('publicity opened', {
          publicityId: result.publicityId,
          subjectKind: input.subjectKind,
          subjectId: input.subjectId,
          entries: result.entries,
          lastDay: result.lastDay,
        });
      }
      return result;
    },

    /**
     * Hands the period's `publicity_opened` notices to SMTP for a bounded time (what is left is the outbox
     * sweeper's); never throws for a notice that cannot be sent now.
     */
    async sendPublicityNotices(input: { workflowId: string; publicityId: string }): Promise<void> {
      const listed = await publicityItemIds(db, input.publicityId);
      await outbox.sendSoon(listed.map((itemId) => publicityOpenedKey(input.workflowId, input.publicityId, itemId)));
    },

    /** Closes the period at its end (idempotent: a closed period stays as it was). */
    async closePublicity(input: { workflowId: string; publicityId: string; at: string }): Promise<void> {
      const closed = await db.transaction(async (trx) => {
        const now = await closePeriod(trx, input.publicityId, new Date(input.at));
        if (now) {
          await recordAudit(trx, {
            actor: 'system:publicity',
            role: 'system',
            action: 'publicity.close',
            subjectKind: 'publicity',
            subjectId: input.publicityId,
            workflowId: input.workflowId,
          });
        }
        return now;
      });
      if (closed) log.info('publicity closed', { publicityId: input.publicityId });
    },
  };
}
