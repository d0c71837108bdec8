import type { Db } from '../db/knex.js';
import { recordAudit, type AuditEvent } from '../db/repositories/audit.js';
import { LaunchRefused } from '../services/launch.js';
import type { Principal } from './auth.js';
import { AppError, fromTemporalError } from './errors.js';

/**
 * A refusal is a decision too: the principal's refused request gets its audit row (beside the receipt
 * stamp), with the reason they were given and its code; actor and role come from the principal's token.
 * Failures of ours (5xx) are logged, not audited. Rethrows whatever `call` threw.
 */
export async function auditRefusal<T>(
  db: Db,
  principal: Principal,
  entry: Omit<AuditEvent, 'actor' | 'role' | 'reason' | 'details'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const refusal = err instanceof AppError ? err : fromTemporalError(err);
    if (refusal && refusal.status < 500) {
      await recordAudit(db, {
        actor: principal.actor,
        role: principal.role,
        ...entry,
        reason: refusal.detail ?? refusal.title,
        details: { code: refusal.code },
      });
    }
    throw err;
  }
}

/**
 * A refused launch (`services/launch.ts`), as the API tells it: the same code and message, with the workflow
 * id of an existing launch. Meant for `.catch(asAppError)`.
 *
 * @throws AppError for a `LaunchRefused`; anything else as it came.
 */
export function asAppError(err: unknown): never {
  if (err instanceof LaunchRefused) {
    throw new AppError(err.code, err.message, err.workflowId ? { workflowId: err.workflowId } : {});
  }
  throw err;
}
