import type { Db } from '../knex.js';

/** Emails of one workflow by purpose: sent, and still owed. */
export async function emailCountsByPurpose(
  db: Db,
  workflowId: string,
): Promise<Record<string, { sent: number; pending: number }>> {
  const rows = await db('email_outbox')
    .where({ workflow_id: workflowId })
    .groupBy('purpose', 'status')
    .select<{ purpose: string; status: string; n: number }[]>('purpose', 'status', db.raw('count(*)::int as n'));
  const counts: Record<string, { sent: number; pending: number }> = {};
  for (const r of rows) {
    counts[r.purpose] ??= { sent: 0, pending: 0 };
    counts[r.purpose]![r.status === 'sent' ? 'sent' : 'pending'] += r.n;
  }
  return counts;
}
