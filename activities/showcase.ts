import { ApplicationFailure, log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { programmeOfLaunch } from '../db/repositories/programmes.js';
import {
  casesToTell,
  closeShowcaseNominations,
  copyCaseScores,
  eligibleInstitutions,
  eligibleSource,
  findShowcase,
  insertNomination,
  listedCaseIds,
  lockInstitutionNominations,
  markNominationsOpen,
  markShowcasePublished,
  nominatingInstitutionIds,
  nominationsOf,
  settleSelection,
} from '../db/repositories/showcase.js';
import { formatShanghai } from '../domain/calendar/index.js';
import { showcaseCall, showcaseReminder, showcaseResult } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import { signInUrlOf, type ActivityDeps } from './deps.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import { refuse } from './refusal.js';
import { NOMINATIONS_PER_INSTITUTION } from '../domain/showcase.js';

/** A nomination the showcase workflow accepted, keyed by the Update that carries it. */
export interface NominationInput extends DecisionKeyed {
  showcaseId: string;
  institutionId: string;
  sourceKind: 'directory_entry' | 'project';
  sourceId: string;
  title: string;
  summary: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

export interface ShowcaseOpened {
  titleZh: string;
  /** 24:00 Asia/Shanghai on the due day, ISO with +08:00. */
  dueAt: string;
  invited: number;
  /** Reminders k working days before the due day at 09:00, to institutions that have nominated nothing. */
  reminders: Reminder[];
}

/** The year's showcase (典型案例征集): the call, nominations, and the published selection. */
export function createShowcaseActivities(deps: ActivityDeps) {
  const { db, outbox, calendar } = deps;
  const decision = decisionRecorder(deps);
  return {
    /** Opens the call: nominations due in the programme's working days; every eligible institution told once. */
    async openShowcase(input: { showcaseId: string; workflowId: string; today: string }): Promise<ShowcaseOpened> {
      const showcase = await findShowcase(db, input.showcaseId);
      if (!showcase) refuse('SHOWCASE_NOT_FOUND', input.showcaseId);
      const programme = (await programmeOfLaunch(db, 'showcases', input.showcaseId))!;
      const { calendar: cal } = await calendar.snapshot();
      let due = showcase.nominationsDueAt;
      let dueDay = showcase.nominationsDueDay;
      let estimated = showcase.estimated ?? false;
      if (!due || !dueDay) {
        const period = cal.period(input.today, programme.rules.call.workingDays);
        due = period.endsAt;
        dueDay = period.lastDay;
        estimated = period.estimated;
        await markNominationsOpen(db, input.showcaseId, { dueDay: period.lastDay, dueAt: period.endsAt, estimated });
        log.info('showcase opened', { showcaseId: input.showcaseId, dueDay });
      }
      const institutions = await eligibleInstitutions(db);
      for (const i of institutions) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_call/${i.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_call',
          recipient: i.contactEmail,
          ...showcaseCall({
            signInUrl: signInUrlOf(deps),
            institutionName: i.name,
            showcaseTitle: showcase.titleZh,
            due,
            dueEstimated: estimated,
          }),
        });
      }
      const reminders = cal.remindersBefore(dueDay, programme.rules.call.reminderWorkingDaysBefore);
      return { titleZh: showcase.titleZh, dueAt: formatShanghai(due), invited: institutions.length, reminders };
    },

    /** A reminder k working days before the due day, to the eligible institutions that have nominated nothing. */
    async sendShowcaseReminder(input: { showcaseId: string; workflowId: string; reminder: Reminder }): Promise<number> {
      const showcase = (await findShowcase(db, input.showcaseId))!;
      const silent = await eligibleInstitutions(db);
      const nominated = await nominatingInstitutionIds(db, input.showcaseId);
      const owed = silent.filter((i) => !nominated.has(i.id));
      for (const i of owed) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_reminder/${input.reminder.k}/${i.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_reminder',
          recipient: i.contactEmail,
          dueAt: new Date(input.reminder.at),
          ...showcaseReminder({
            signInUrl: signInUrlOf(deps),
            institutionName: i.name,
            showcaseTitle: showcase.titleZh,
            due: showcase.nominationsDueAt!,
            dueEstimated: showcase.estimated ?? false,
            workingDaysLeft: input.reminder.k,
          }),
        });
      }
      return owed.length;
    },

    /**
     * A nomination the workflow accepted in time: the source must be the institution's own (an active
     * directory entry or a project not terminated), and an institution nominates at most two cases a year.
     * A decision keyed by its Update: a retry after the commit returns the first answer instead of refusing
     * the source as nominated already.
     *
     * @throws `ApplicationFailure` SOURCE_NOT_ELIGIBLE (not its own, not eligible, or nominated already),
     * NOMINATION_LIMIT (the institution's limit reached).
     */
    recordNomination: decision(
      async (input: NominationInput, { trx }): Promise<{ caseId: string; nominated: number }> => {
        try {
          // One institution's nominations are counted one at a time.
          await lockInstitutionNominations(trx, input.showcaseId, input.institutionId);
          const source = await eligibleSource(trx, {
            kind: input.sourceKind,
            id: input.sourceId,
            institutionId: input.institutionId,
          });
          if (!source) {
            refuse(
              'SOURCE_NOT_ELIGIBLE',
              input.sourceKind === 'directory_entry'
                ? '只能推荐本单位在录的名录成员'
                : '只能推荐本单位承担的、未撤项的研究项目',
            );
          }
          const existing = await nominationsOf(trx, input.showcaseId, input.institutionId);
          const same = existing.find((c) => c.sourceKind === input.sourceKind && c.sourceId === input.sourceId);
          if (same) refuse('ALREADY_NOMINATED', '该成果已被推荐，无须重复推荐');
          if (existing.length >= NOMINATIONS_PER_INSTITUTION) {
            refuse(
              'NOMINATION_LIMIT',
              `贵单位本年度已推荐 ${existing.length} 个案例，每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个`,
            );
          }
          const caseId = await insertNomination(trx, {
            showcaseId: input.showcaseId,
            institutionId: input.institutionId,
            sourceKind: input.sourceKind,
            sourceId: input.sourceId,
            programme: source.programme,
            industryKey: source.fieldKey,
            title: input.title,
            summary: input.summary,
            nominatedAt: input.receivedAt,
            nominatedBy: input.actor,
          });
          await recordAudit(trx, {
            actor: input.actor,
            role: 'applicant',
            action: 'showcase.nominate',
            subjectKind: 'showcase_case',
            subjectId: caseId,
            details: { showcaseId: input.showcaseId, sourceKind: input.sourceKind, sourceId: input.sourceId },
            requestId: input.requestId,
            workflowId: input.showcaseId,
          });
          const accepted = { caseId, nominated: existing.length + 1 };
          log.info('nomination accepted', { showcaseId: input.showcaseId, caseId: accepted.caseId });
          return accepted;
        } catch (err) {
          if (err instanceof ApplicationFailure) {
            log.info('nomination refused', { showcaseId: input.showcaseId, code: err.type });
          }
          throw err;
        }
      },
    ),

    /** Nominations are closed: the experts review what was nominated. */
    async closeNominations(input: { showcaseId: string }): Promise<{ nominated: number }> {
      const nominated = await closeShowcaseNominations(db, input.showcaseId);
      log.info('showcase nominations closed', { showcaseId: input.showcaseId, nominated });
      return { nominated };
    },

    /**
     * After the publicity period: the cases still listed are selected (with their experts' score and rank),
     * the others not; every nominating institution is told; the showcase is published.
     */
    async publishShowcase(input: {
      showcaseId: string;
      workflowId: string;
      at: string;
    }): Promise<{ selected: number }> {
      const showcase = (await findShowcase(db, input.showcaseId))!;
      const publishedNow = await db.transaction(async (trx) => {
        const listed = await listedCaseIds(trx, input.showcaseId);
        await copyCaseScores(trx, input.showcaseId);
        await settleSelection(trx, input.showcaseId, listed);
        if (!(await markShowcasePublished(trx, input.showcaseId, new Date(input.at)))) return false;
        await recordAudit(trx, {
          actor: 'system:showcase',
          role: 'system',
          action: 'showcase.publish',
          subjectKind: 'showcase',
          subjectId: input.showcaseId,
          details: { selected: listed.length },
          workflowId: input.workflowId,
        });
        return true;
      });
      const cases = await casesToTell(db, input.showcaseId);
      const selected = cases.filter((c) => c.status === 'selected').length;
      if (publishedNow) log.info('showcase published', { showcaseId: input.showcaseId, selected });
      for (const c of cases) {
        await outbox.deliver({
          idempotencyKey: `${input.workflowId}/showcase_result/${c.id}`,
          workflowId: input.workflowId,
          purpose: 'showcase_result',
          recipient: c.contactEmail,
          ...showcaseResult({
            institutionName: c.institutionName,
            showcaseTitle: showcase.titleZh,
            caseTitle: c.title,
            selected: c.status === 'selected',
          }),
        });
      }
      return { selected };
    },
  };
}
