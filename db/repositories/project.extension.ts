import type { Db } from '../knex.js';

/**
 * Records the project's one extension request (pending, `months` long, with the reason). Returns false when the
 * project already has an extension request, pending or decided.
 */
export async function requestExtensionOnce(
  db: Db,
  projectId: string,
  request: { months: number; reason: string },
): Promise<boolean> {
  const n = await db('projects')
    .where({ id: projectId })
    .whereNull('extension_status')
    .update({ extension_status: 'pending', extension_months: request.months, extension_reason: request.reason });
  return n > 0;
}

/**
 * Decides the pending extension with the staff's reason; approved, the project ends on `extendedTo` (a day).
 * Returns false when no extension was pending (already decided), so a retry decides nothing twice.
 */
export async function decidePendingExtension(
  db: Db,
  projectId: string,
  decision: { approve: boolean; reason: string; extendedTo: string },
): Promise<boolean> {
  const n = await db('projects')
    .where({ id: projectId, extension_status: 'pending' })
    .update({
      extension_status: decision.approve ? 'approved' : 'refused',
      extension_decision_reason: decision.reason,
      ...(decision.approve ? { extended_to: decision.extendedTo, extension_used: true } : {}),
    });
  return n > 0;
}
