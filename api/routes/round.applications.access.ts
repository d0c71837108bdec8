import type { Knex } from 'knex';
import type { Db } from '../../db/knex.js';
import { listPendingReceipts } from '../../db/repositories/receipts.js';
import { findApplication, lockDraft, type ApplicationRow } from '../../db/repositories/round.applications.js';
import { findRound, roundCompression, type RoundRow } from '../../db/repositories/round.js';
import { formatInstantZh } from '../../domain/calendar/index.js';
import { calendarTimeFor } from '../../domain/compressed-time.js';
import { submitApplicationUpdate } from '../../workflows/round.messages.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';

/** Who may reach an application, and when its draft may change: shared by the application routes. */

/**
 * Drafts can be prepared until the call closes: refused once the round has moved past its call, and — once its
 * deadline is known — for a request received after that deadline (`receivedAt`, wall clock, compared in the
 * round's calendar time with the deadline instant, 24:00 Asia/Shanghai of the deadline day; SPEC, procedure 1), even while
 * the round's status has not caught up (the workflow engine stalled across the deadline).
 *
 * @throws AppError ROUND_CANCELLED, CALL_CLOSED.
 */
export function assertDraftsOpen(round: RoundRow, receivedAt: Date, doing = '修改申报书'): void {
  if (round.status === 'cancelled') throw new AppError('ROUND_CANCELLED', `${round.titleZh}已撤销`);
  if (!['launched', 'preparing', 'scheduled', 'call_open'].includes(round.status)) {
    throw new AppError('CALL_CLOSED', `${round.titleZh}已截止`);
  }
  if (pastDeadline(round, receivedAt)) {
    throw new AppError(
      'CALL_CLOSED',
      `${round.titleZh}已于 ${formatInstantZh(round.deadlineAt!)} 截止，不能再${doing}`,
    );
  }
}

/**
 * Whether a request received at `receivedAt` (wall clock) came after the round's recorded deadline, compared in the
 * round's calendar time; `undefined` when it did not or no deadline is recorded yet, else the receipt in calendar
 * time.
 */
function pastDeadline(round: RoundRow, receivedAt: Date): Date | undefined {
  if (!round.deadlineAt) return undefined;
  const received = calendarTimeFor(receivedAt.getTime(), roundCompression(round));
  return received > round.deadlineAt.getTime() ? new Date(received) : undefined;
}

/**
 * The refusal a submission or withdrawal received at `receivedAt` certainly gets, read from the round's recorded
 * deadline: `DEADLINE_PASSED` when it came after it, worded as the round workflow words it (`judgeReceipt`), else
 * `undefined`. The workflow decides; this answers at once when the workflow engine cannot be reached, instead of
 * keeping a request that can only be refused.
 */
export function lateByRecord(round: RoundRow, receivedAt: Date): AppError | undefined {
  const received = pastDeadline(round, receivedAt);
  if (!received) return undefined;
  return new AppError(
    'DEADLINE_PASSED',
    `申报已于 ${formatInstantZh(round.deadlineAt!)} 截止（本次接收时间 ${formatInstantZh(received)}），逾期不予受理`,
  );
}

/** An applicant reaches only its own institution's applications; staff read all. */
export async function loadOwned(
  db: Db,
  applicationId: string,
  principal: Principal,
  write: boolean,
): Promise<ApplicationRow> {
  const app = await findApplication(db, applicationId);
  if (!app) throw new AppError('APPLICATION_NOT_FOUND', applicationId);
  if (principal.role === 'applicant' ? app.institutionId !== principal.institutionId : write) {
    throw new AppError('FORBIDDEN', '只能操作本单位的申报');
  }
  return app;
}

/** The round, or ROUND_NOT_FOUND. */
export async function loadRound(db: Db, roundId: string): Promise<RoundRow> {
  const round = await findRound(db, roundId);
  if (!round) throw new AppError('ROUND_NOT_FOUND', roundId);
  return round;
}

/**
 * The applicant's own application, while its round still takes drafts (the draft or its attachments change) at
 * the request's receipt time `receivedAt` (see `assertDraftsOpen`).
 *
 * @throws AppError APPLICATION_NOT_FOUND, FORBIDDEN (another institution's), ROUND_CANCELLED, CALL_CLOSED.
 */
export async function loadDraftable(
  db: Db,
  applicationId: string,
  principal: Principal,
  receivedAt: Date,
): Promise<ApplicationRow> {
  const app = await loadOwned(db, applicationId, principal, true);
  assertDraftsOpen(await loadRound(db, app.roundId), receivedAt);
  return app;
}

/**
 * Runs `change` — a change of the application's working copy (draft or attachments) — in one transaction under the
 * draft's lock, refused while a submission of the application is received and not yet answered (its receipt is
 * pending in `update_receipts`): the submission is judged, and stored, as the revision it was received with, so
 * nothing edited after its receipt — after the deadline, say, while the workflow engine was out of reach — can
 * slip into it. Submission receipts are written under the same lock (`pinnedSubmission`).
 *
 * @throws AppError SUBMISSION_IN_PROGRESS; whatever `change` throws.
 */
export async function changeDraft<T>(db: Db, app: ApplicationRow, change: (trx: Knex.Transaction) => Promise<T>) {
  return db.transaction(async (trx) => {
    await lockDraft(trx, app.id);
    const [pending] = await listPendingReceipts(
      trx,
      { workflowId: app.roundId, updates: [submitApplicationUpdate.name], argContains: { applicationId: app.id } },
      1,
    );
    if (pending) {
      throw new AppError(
        'SUBMISSION_IN_PROGRESS',
        `本申报于 ${formatInstantZh(new Date(pending.receivedAt))} 提交的请求尚在处理，处理完成后方可修改申报书`,
      );
    }
    return change(trx);
  });
}

/**
 * The revision a submission of `applicationId` is received with, read under the draft's lock (see
 * `changeDraft`); the caller writes the submission's receipt in the same transaction.
 */
export async function pinnedSubmission(trx: Knex.Transaction, applicationId: string): Promise<number> {
  await lockDraft(trx, applicationId);
  const app = await findApplication(trx, applicationId);
  if (!app) throw new AppError('APPLICATION_NOT_FOUND', applicationId);
  return app.revision;
}
