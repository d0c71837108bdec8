import type { Db } from '../db/knex.js';
import { recordAudit, type AuditEvent } from '../db/repositories/audit.js';
import { AppError, fromTemporalError } from './errors.js';

/**
 * A refusal is a decision too: it gets its audit row (beside the receipt stamp), with the reason the person
 * was given. Failures of ours (5xx) are logged, not audited.
 */
export async function auditRefusal<T>(
  db: Db,
  entry: Omit<AuditEvent, 'reason' | 'details'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const refusal = err instanceof AppError ? err : fromTemporalError(err);
    if (refusal && refusal.status < 500) {
      await recordAudit(db, { ...entry, reason: refusal.detail ?? refusal.title, details: { code: refusal.code } });
    }
    throw err;
  }
}
