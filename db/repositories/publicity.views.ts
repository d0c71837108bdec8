import type { Db } from '../knex.js';

/** The publicity period an objection is filed against: its workflow and title. */
export async function findPeriod(
  db: Db,
  publicityId: string,
): Promise<{ id: string; workflowId: string; titleZh: string } | undefined> {
  const period = await db('publicity_periods')
    .where({ id: publicityId })
    .first<{ id: string; workflow_id: string; title_zh: string } | undefined>('id', 'workflow_id', 'title_zh');
  return period ? { id: period.id, workflowId: period.workflow_id, titleZh: period.title_zh } : undefined;
}

/** An objection with the objector's real-name details (staff only). */
export interface ObjectionRow {
  id: string;
  entryId: string | null;
  name: string;
  unit: string;
  phone: string;
  email: string;
  onBehalfOfUnit: boolean;
  facts: string;
  receivedAt: Date;
  /** pending / upheld / dismissed */
  status: string;
  resolutionReason: string | null;
}

/** A period's objections in the order received. */
export async function objectionsOf(db: Db, publicityId: string): Promise<ObjectionRow[]> {
  const rows = await db('objections').where({ publicity_id: publicityId }).orderBy('received_at').select<
    {
      id: string;
      entry_id: string | null;
      objector_name: string;
      objector_unit: string;
      objector_phone: string;
      objector_email: string;
      on_behalf_of_unit: boolean;
      facts: string;
      received_at: Date;
      status: string;
      resolution_reason: string | null;
    }[]
  >();
  return rows.map((o) => ({
    id: o.id,
    entryId: o.entry_id,
    name: o.objector_name,
    unit: o.objector_unit,
    phone: o.objector_phone,
    email: o.objector_email,
    onBehalfOfUnit: o.on_behalf_of_unit,
    facts: o.facts,
    receivedAt: o.received_at,
    status: o.status,
    resolutionReason: o.resolution_reason,
  }));
}

/** An objection's status and the workflow of its publicity period, which resolves it. */
export async function findObjection(
  db: Db,
  objectionId: string,
): Promise<{ status: string; workflowId: string } | undefined> {
  const o = await db('objections as o')
    .join('publicity_periods as p', 'p.id', 'o.publicity_id')
    .where('o.id', objectionId)
    .first<{ status: string; workflow_id: string } | undefined>('o.status', 'p.workflow_id');
  return o ? { status: o.status, workflowId: o.workflow_id } : undefined;
}
