import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { recordAudit } from '../db/repositories/audit.js';
import { currentAttachments, findApplication } from '../db/repositories/round.applications.js';
import { activeBan, countCommitted, personalCommitments, upsertPerson } from '../db/repositories/round.limits.js';
import { lockUniversity, markWithdrawn, storeSubmission } from '../db/repositories/round.submissions.js';
import { findInstitution, knownFields, universityOf } from '../db/repositories/institutions.js';
import { roundContext } from '../db/repositories/round.rules.js';
import {
  certainAtSubmission,
  formalFindings,
  formalRefusalZh,
  laterJudgedWarnings,
  limitViolation,
  personalLimitViolation,
  type ApplicationDraft,
} from '../domain/applications.js';
import { formatDayZh, shanghaiDayOf } from '../domain/calendar/index.js';
import { submissionReceiptEmail } from './applicant-notices.js';
import { decisionRecorder, type DecisionKeyed } from './decision.js';
import type { ActivityDeps } from './deps.js';
import { refuse } from './refusal.js';

/** A submission the round workflow accepted, keyed by the Update that carries it. */
export interface SubmissionInput extends DecisionKeyed {
  roundId: string;
  applicationId: string;
  /** The institution of the applicant's token: an application can only be handed in by its own institution. */
  institutionId: string;
  /** Receipt time stamped by the API (ISO). The workflow has already judged it against the deadline. */
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
  /** The application's revision when the submission was received; absent in requests from before it was pinned. */
  revision?: number | undefined;
}

export interface SubmissionResult {
  applicationId: string;
  version: number;
  revision: number;
  receivedAt: string;
  /**
   * zh-CN: the rules the formal check judges only after the deadline, on the records of that day
   * (`laterJudgedWarnings`); for a revision submitted before submissions were refused for them, also what the
   * formal check will find missing.
   */
  warnings: string[];
  /** True when this revision had been submitted already (a retried request). */
  repeated: boolean;
}

/** A withdrawal the round workflow accepted, keyed by the Update that carries it. */
export interface WithdrawalInput extends DecisionKeyed {
  roundId: string;
  applicationId: string;
  institutionId: string;
  receivedAt: string;
  reason?: string | undefined;
  actor: string;
  requestId?: string | undefined;
}

export interface WithdrawalResult {
  applicationId: string;
  status: 'withdrawn';
  withdrawnAt: string;
}

export function createApplicationActivities(deps: ActivityDeps) {
  const decision = decisionRecorder(deps);
  /** Records a submission in `trx`, refusing it when a limit or a bar forbids it (see `recordSubmission`). */
  const submit = async (trx: Knex.Transaction, input: SubmissionInput): Promise<SubmissionResult> => {
    const context = await roundContext(trx, input.roundId);
    if (!context) refuse('ROUND_NOT_FOUND', `未找到申报批次 ${input.roundId}`);
    const { programme, rules } = context;
    const institution = await findInstitution(trx, input.institutionId);
    if (!institution) refuse('INSTITUTION_NOT_ELIGIBLE', `未知单位 ${input.institutionId}`);
    const universityId = universityOf(institution);
    const fields = await knownFields(trx);

    await lockUniversity(trx, input.roundId, universityId);
    const app = await findApplication(trx, input.applicationId, { forUpdate: true });
    if (!app || app.roundId !== input.roundId || app.institutionId !== input.institutionId) {
      refuse('APPLICATION_NOT_FOUND', '未找到该申报');
    }
    if (app.status === 'withdrawn' || app.status === 'cancelled') {
      refuse('APPLICATION_NOT_EDITABLE', app.status === 'withdrawn' ? '该申报已撤回' : '该申报批次已撤销');
    }
    if (input.revision !== undefined && app.revision !== input.revision) {
      // Edits wait for a pending submission (api changeDraft), so the working copy is the one received; should it
      // not be, storing it would store what was not submitted.
      refuse(
        'DRAFT_CHANGED',
        `提交时的申报书（第 ${input.revision} 稿）此后又有修改（现为第 ${app.revision} 稿），请重新提交`,
      );
    }
    const attachments = await currentAttachments(trx, app.id);
    const findings = formalFindings(
      programme.key,
      rules,
      app.draft,
      attachments.map((a) => ({ kind: a.kind, intact: true })),
      fields,
    );
    const warnings = laterJudgedWarnings(programme.key, rules);
    if (app.submittedRevision === app.revision) {
      return {
        applicationId: app.id,
        version: app.currentVersion,
        revision: app.revision,
        receivedAt: app.receivedAt!.toISOString(),
        warnings: [...findings.map((f) => f.message), ...warnings],
        repeated: true,
      };
    }

    if (!rules.applicantKinds.includes(institution.kind)) {
      refuse(
        'INSTITUTION_NOT_ELIGIBLE',
        `${programme.nameZh}不接受${institution.kind === 'college' ? '学院' : '学校'}申报`,
      );
    }
    const receiptDay = shanghaiDayOf(new Date(input.receivedAt));
    const ban = await activeBan(trx, {
      programme: programme.key,
      institutionIds: [institution.id, universityId],
      day: receiptDay,
    });
    if (ban) {
      refuse('BARRED', `因“${ban.reason}”，本单位在 ${formatDayZh(ban.endsOn)} 之前不得申报${programme.nameZh}`, {
        endsOn: ban.endsOn,
      });
    }
    if (app.status !== 'submitted') {
      const counts = await countCommitted(trx, {
        roundId: input.roundId,
        institutionId: institution.id,
        universityId,
        excludeApplicationId: app.id,
      });
      const violation = limitViolation(rules, counts);
      if (violation) refuse('LIMIT_EXCEEDED', violation, counts);
    }
    const people = await resolvePeople(trx, app.draft, institution.id);
    const commitments = await personalCommitments(trx, [...people.keys()], app.id);
    const principal = [...people].find(([, p]) => p.role === 'principal');
    const personal = personalLimitViolation(
      rules,
      principal ? { name: principal[1].name, led: commitments.get(principal[0])!.led } : undefined,
      [...people]
        .filter(([, p]) => p.role === 'member')
        .map(([id, p]) => ({ name: p.name, joined: commitments.get(id)!.joined })),
    );
    if (personal) refuse('PERSONAL_LIMIT_EXCEEDED', personal);
    // Last, so that what editing cannot fix (eligibility, a bar, a limit) is said first.
    const problems = certainAtSubmission(programme.key, rules, findings);
    if (problems.length > 0) {
      const kept = app.status === 'submitted' ? app.currentVersion : undefined;
      refuse('FORMAL_CHECK_FAILED', formalRefusalZh(problems, kept), { problems });
    }

    const version = app.currentVersion + 1;
    const payload = {
      draft: app.draft,
      attachments: attachments.map((a) => ({
        id: a.id,
        kind: a.kind,
        fileName: a.fileName,
        contentType: a.contentType,
        sizeBytes: a.sizeBytes,
        sha256: a.sha256,
      })),
    };
    await storeSubmission(trx, {
      applicationId: app.id,
      version,
      revision: app.revision,
      payload,
      receivedAt: input.receivedAt,
      submittedBy: input.actor,
      people,
      principalPersonId: principal?.[0] ?? null,
      partnerEnterpriseIds: [...new Set(app.draft.partnerEnterpriseIds ?? [])],
    });
    await recordAudit(trx, {
      actor: input.actor,
      role: 'applicant',
      action: version === 1 ? 'application.submit' : 'application.resubmit',
      subjectKind: 'application',
      subjectId: app.id,
      details: { roundId: input.roundId, version, revision: app.revision, receivedAt: input.receivedAt },
      requestId: input.requestId,
      workflowId: input.roundId,
    });
    return {
      applicationId: app.id,
      version,
      revision: app.revision,
      receivedAt: input.receivedAt,
      warnings,
      repeated: false,
    };
  };

  return {
    /**
     * Records a submission the workflow accepted on time: refuses it when a limit or a bar forbids it,
     * otherwise snapshots the working copy as a new version and sends the applicant its receipt (受理回执). A
     * decision keyed by its Update (a retry after the commit returns the first answer); a new request for a
     * revision submitted already reports it `repeated` (no second receipt).
     *
     * @throws `ROUND_NOT_FOUND`, `INSTITUTION_NOT_ELIGIBLE`, `APPLICATION_NOT_FOUND`, `APPLICATION_NOT_EDITABLE`,
     *   `DRAFT_CHANGED` (the working copy is not the revision received), `BARRED`, `FORMAL_CHECK_FAILED` (a rule
     *   judged at submission is broken; details `{ problems: FormalProblem[] }`), `LIMIT_EXCEEDED`,
     *   `PERSONAL_LIMIT_EXCEEDED`.
     */
    recordSubmission: decision(async (input: SubmissionInput, { trx, enqueue }): Promise<SubmissionResult> => {
      try {
        const result = await submit(trx, input);
        if (!result.repeated) await enqueue(await submissionReceiptEmail(trx, { roundId: input.roundId, ...result }));
        log.info('submission accepted', {
          roundId: input.roundId,
          applicationId: result.applicationId,
          version: result.version,
          repeated: result.repeated,
        });
        return result;
      } catch (error) {
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          log.info('submission refused', {
            roundId: input.roundId,
            applicationId: input.applicationId,
            code: error.type,
          });
        }
        throw error;
      }
    }),

    /**
     * Records a withdrawal the workflow accepted on time (a draft or a submitted application), as a decision
     * keyed by its Update (a retry after the commit returns the first answer); a new request for an application
     * withdrawn already reports the first withdrawal.
     *
     * @throws `APPLICATION_NOT_FOUND`, `APPLICATION_NOT_EDITABLE`.
     */
    recordWithdrawal: decision(async (input: WithdrawalInput, { trx }): Promise<WithdrawalResult> => {
      let withdrawnNow = false;
      const result = await (async (): Promise<WithdrawalResult> => {
        const app = await findApplication(trx, input.applicationId, { forUpdate: true });
        if (!app || app.roundId !== input.roundId || app.institutionId !== input.institutionId) {
          refuse('APPLICATION_NOT_FOUND', '未找到该申报');
        }
        if (app.status === 'withdrawn') {
          return { applicationId: app.id, status: 'withdrawn', withdrawnAt: app.withdrawnAt!.toISOString() };
        }
        if (app.status !== 'draft' && app.status !== 'submitted') {
          refuse('APPLICATION_NOT_EDITABLE', '该申报当前不能撤回');
        }
        await markWithdrawn(trx, app.id, input.receivedAt);
        await recordAudit(trx, {
          actor: input.actor,
          role: 'applicant',
          action: 'application.withdraw',
          subjectKind: 'application',
          subjectId: app.id,
          reason: input.reason,
          details: { roundId: input.roundId, receivedAt: input.receivedAt },
          requestId: input.requestId,
          workflowId: input.roundId,
        });
        withdrawnNow = true;
        return { applicationId: app.id, status: 'withdrawn', withdrawnAt: input.receivedAt };
      })();
      if (withdrawnNow)
        log.info('withdrawal recorded', { roundId: input.roundId, applicationId: result.applicationId });
      return result;
    }),
  };
}

/** The people an application names, as `people` ids with their role. */
async function resolvePeople(
  trx: Knex.Transaction,
  draft: ApplicationDraft,
  institutionId: string,
): Promise<Map<string, { role: 'principal' | 'member'; name: string }>> {
  const people = new Map<string, { role: 'principal' | 'member'; name: string }>();
  if (draft.principal) {
    const id = await upsertPerson(trx, { institutionId, staffNo: draft.principal.staffNo, name: draft.principal.name });
    people.set(id, { role: 'principal', name: draft.principal.name });
  }
  for (const m of draft.members ?? []) {
    const id = await upsertPerson(trx, {
      institutionId: m.institutionId ?? institutionId,
      staffNo: m.staffNo,
      name: m.name,
    });
    if (!people.has(id)) people.set(id, { role: 'member', name: m.name });
  }
  return people;
}
