import { Context, log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import { knownFields } from '../db/repositories/institutions.js';
import { activeBan, countCommitted, personalCommitments } from '../db/repositories/round.limits.js';
import {
  applicationMembers,
  attachmentStorageKey,
  awaitingFormalCheck,
  recordFormalResult,
  submittedPayload,
  type SubmittedApplication,
} from '../db/repositories/round.formal-check.js';
import type { RoundContext } from '../db/repositories/round.rules.js';
import { formalProblems, limitViolation, personalLimitViolation } from '../domain/applications.js';
import { shanghaiDayOf } from '../domain/calendar/index.js';
import { formalCheckFailed } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';
import { loadPreparedRound } from './round.js';

export interface FormalCheckBatchResult {
  passed: number;
  failed: number;
  done: boolean;
}

/** The round's 形式审查 of submitted applications, a batch at a time. */
export function createFormalCheckActivities({ db, outbox, attachments }: ActivityDeps) {
  /** Every reason the application fails the formal check (none: it passes). */
  const problemsOf = async (
    roundId: string,
    ctx: RoundContext,
    fields: Set<string>,
    app: SubmittedApplication,
    payload: Awaited<ReturnType<typeof submittedPayload>>,
  ): Promise<string[]> => {
    const files = await Promise.all(
      payload.attachments.map(async (a) => {
        const storageKey = await attachmentStorageKey(db, a.id);
        return { kind: a.kind, intact: storageKey ? await attachments.verify(storageKey, a.sha256) : false };
      }),
    );
    const universityId = app.parent_id ?? app.institution_id;
    const reasons = formalProblems(ctx.programme.key, ctx.rules, payload.draft, files, fields);
    if (!ctx.rules.applicantKinds.includes(app.kind as never)) reasons.push('申报单位类型不符合本项目类别要求');
    const ban = await activeBan(db, {
      programme: ctx.programme.key,
      institutionIds: [app.institution_id, universityId],
      day: shanghaiDayOf(app.received_at),
    });
    if (ban) reasons.push(`本单位因“${ban.reason}”在 ${ban.endsOn} 之前不得申报`);
    // Earlier receipts were checked first: only those that passed count against the limits.
    const counted = await countCommitted(db, {
      roundId,
      institutionId: app.institution_id,
      universityId,
      statuses: ['formal_passed'],
    });
    const limit = limitViolation(ctx.rules, counted);
    if (limit) reasons.push(limit);
    const members = await applicationMembers(db, app.id);
    const commitments = await personalCommitments(
      db,
      members.map((m) => m.person_id),
      app.id,
      { uncheckedRound: roundId },
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
    return reasons;
  };

  return {
    /**
     * 形式审查 of the next batch of submitted applications, oldest receipt first (so that, were a limit
     * exceeded, the later submissions are the ones that fail). Each result, its audit row and the email
     * that tells a failing applicant commit together; owed emails are sent after each batch.
     *
     * @throws `ROUND_NOT_FOUND` when the round is not prepared.
     */
    async formalCheckBatch(input: { roundId: string; batchSize: number }): Promise<FormalCheckBatchResult> {
      const { round, ctx } = await loadPreparedRound(db, input.roundId);
      const fields = await knownFields(db);
      const batch = await awaitingFormalCheck(db, round.id, input.batchSize);
      let passed = 0;
      let failed = 0;
      for (const app of batch) {
        const payload = await submittedPayload(db, app.id, app.current_version);
        const reasons = await problemsOf(round.id, ctx, fields, app, payload);
        const ok = reasons.length === 0;
        await db.transaction(async (trx) => {
          await recordFormalResult(trx, app.id, reasons);
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
                  applicationTitle: payload.draft.title ?? '（未命名）',
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
      const done = batch.length < input.batchSize;
      log.info('formal check batch', { roundId: round.id, passed, failed, done });
      await outbox.deliverOwed({ workflowId: round.id, purpose: 'formal_check_failed' });
      return { passed, failed, done };
    },
  };
}
