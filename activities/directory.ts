import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { formatDayZh } from '../domain/calendar/index.js';
import { revocationNotice } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';

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

/** The same day `years` later (29 February falls back to 28 February). */
export function sameDayYearsLater(day: string, years: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y + years, m - 1, d));
  if (date.getUTCMonth() !== m - 1) date.setUTCDate(0);
  return date.toISOString().slice(0, 10);
}

export function createDirectoryActivities({ db, outbox }: ActivityDeps) {
  return {
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
