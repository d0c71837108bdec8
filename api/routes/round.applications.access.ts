import type { Db } from '../../db/knex.js';
import { findApplication, type ApplicationRow } from '../../db/repositories/round.applications.js';
import { findRound, type RoundRow } from '../../db/repositories/round.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';

/** Who may reach an application, and when its draft may change: shared by the application routes. */

/** Drafts can be prepared until the call closes. */
export function assertDraftsOpen(round: RoundRow): void {
  if (round.status === 'cancelled') throw new AppError('ROUND_CANCELLED', `${round.titleZh}已撤销`);
  if (!['launched', 'preparing', 'scheduled', 'call_open'].includes(round.status)) {
    throw new AppError('CALL_CLOSED', `${round.titleZh}已截止`);
  }
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
 * The applicant's own application, while its round still takes drafts (the draft or its attachments change).
 *
 * @throws AppError APPLICATION_NOT_FOUND, FORBIDDEN (another institution's), ROUND_CANCELLED, CALL_CLOSED.
 */
export async function loadDraftable(db: Db, applicationId: string, principal: Principal): Promise<ApplicationRow> {
  const app = await loadOwned(db, applicationId, principal, true);
  assertDraftsOpen(await loadRound(db, app.roundId));
  return app;
}
