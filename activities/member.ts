import { log } from '@temporalio/activity';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { findMemberEntry, mirrorMemberStatus, setMemberStatus } from '../db/repositories/member.js';
import { insertBan, lockMemberForRevocation, markMemberRevoked } from '../db/repositories/member.revocation.js';
import { findProgramme, type ProgrammeRow } from '../db/repositories/programmes.js';
import { formatDayZh } from '../domain/calendar/index.js';
import { sameDayYearsLater } from '../domain/calendar/months.js';
import { revocationNotice } from '../mail/templates.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import { refuse } from './refusal.js';

export type MemberStatus = 'active' | 'rectifying' | 'removal_pending' | 'removed' | 'revoked';

export interface RevokeInput extends DecisionKeyed {
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

export interface RectificationReportInput extends DecisionKeyed {
  rectificationId: string;
  entryId: string;
  payload: { summary: string; measures?: string[] | undefined };
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

/**
 * A step of a member's rectification or removal that the workflow takes on its own (no Update): keyed by the
 * activity's identity (see `DecisionKeyed`).
 */
export interface RectificationStep extends DecisionKeyed {
  entryId: string;
  workflowId: string;
  rectificationId: string;
}

/**
 * How a rectification report was decided: passed or not, on the experts' score (null without one);
 * `awaitingGrade` when too few experts scored validly and staff must decide (nothing decided yet).
 */
export interface RectificationDecision {
  passed: boolean;
  score: number | null;
  awaitingGrade?: boolean;
}

/** Staff's decision on a rectification report left with too few valid expert scores (reason required). */
export interface RectificationGradeInput extends RectificationStep {
  passed: boolean;
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export interface RectificationReportRecorded {
  rectificationId: string;
  receivedAt: string;
  resubmitted: boolean;
}

/** A member with its programme and where to write to its institution. */
export interface MemberContext {
  id: string;
  status: string;
  programme: ProgrammeRow;
  institutionId: string;
  title: string;
  institutionName: string;
  contactEmail: string;
}

/**
 * The member the workflow acts on, with its programme.
 *
 * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND (non-retryable) when there is no such entry.
 */
export async function memberContext(db: Db, entryId: string): Promise<MemberContext> {
  const entry = await findMemberEntry(db, entryId);
  if (!entry) refuse('DIRECTORY_ENTRY_NOT_FOUND', '未找到该名录条目');
  return { ...entry, programme: (await findProgramme(db, entry.programme))! };
}

/** The part of every member email that names the member. */
export const memberMail = (e: MemberContext) => ({
  institutionName: e.institutionName,
  programmeName: e.programme.nameZh,
  entryTitle: e.title,
});

/**
 * A status change decided by the member workflow, with its audit row (actor `system:directory`). Call inside the
 * decision's transaction.
 */
export async function changeMemberStatus(
  trx: Db,
  input: { entryId: string; workflowId: string; status: MemberStatus; reason: string; action: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  await setMemberStatus(trx, input.entryId, input.status, input.reason);
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
}

/** The member's status and its revocation. Rectification and removal are in `member.rectification.ts`/`member.removal.ts`. */
export function createMemberActivities(deps: ActivityDeps) {
  const { db } = deps;
  const decision = decisionRecorder(deps);
  return {
    /**
     * Keeps the directory table in step with the member workflow. Not a decision of its own: it copies the
     * workflow's state (an overwrite with the same values on a retry), sends nothing and refuses nothing.
     */
    async recordMemberStatus(input: {
      entryId: string;
      status: MemberStatus;
      reason?: string | undefined;
      at: string;
      workflowId: string;
    }): Promise<void> {
      await mirrorMemberStatus(db, input);
    },

    /**
     * Revocation for misconduct: at once, out of the directory, and the institution barred from the programme
     * for the programme's ban period (5 years) — refused at submission and at the formal check of later rounds.
     * Keyed by its Update; a member already revoked is not revoked (nor told) again.
     *
     * @throws `ApplicationFailure` DIRECTORY_ENTRY_NOT_FOUND when there is no such entry.
     */
    revokeMember: decision(async (input: RevokeInput, { trx, enqueue }): Promise<RevokeResult> => {
      const entry = await lockMemberForRevocation(trx, input.entryId);
      if (!entry) refuse('DIRECTORY_ENTRY_NOT_FOUND', '未找到该名录条目');
      const banYears = entry.banYears ?? 5;
      const barEndsOn = sameDayYearsLater(input.today, banYears);
      if (entry.status === 'revoked') return { status: 'revoked', barEndsOn };
      await markMemberRevoked(trx, input.entryId, input.reason, input.today);
      await insertBan(trx, {
        institutionId: entry.institutionId,
        programme: entry.programme,
        entryId: input.entryId,
        reason: input.reason,
        startsOn: input.today,
        endsOn: barEndsOn,
        decidedBy: input.actor,
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
      await enqueue({
        idempotencyKey: `${input.workflowId}/revocation_notice`,
        workflowId: input.workflowId,
        purpose: 'revocation_notice',
        recipient: entry.contactEmail,
        ...revocationNotice({
          institutionName: entry.institutionName,
          programmeName: entry.programmeName,
          entryTitle: entry.title,
          reason: input.reason,
          barEndsOn: formatDayZh(barEndsOn),
        }),
      });
      log.info('member revoked', { entryId: input.entryId, banYears, barEndsOn });
      return { status: 'revoked', barEndsOn };
    }),
  };
}
