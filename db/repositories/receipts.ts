import type { ReceiptAddressee } from '../../domain/receipts.js';
import type { Db } from '../knex.js';
import { noticeAddressees } from './notices.js';

/** A person's request as it is kept before its Update is sent (table `update_receipts`, migration 013). */
export interface UpdateReceipt {
  /** The Update id it is sent under, every time. */
  updateId: string;
  workflowId: string;
  /** The Update's name (`UpdateDefinition.name`). */
  updateName: string;
  /** The Update's one argument; it carries `receivedAt` (ISO instant), which the workflow judges. */
  updateArg: unknown;
  /** The principal's actor, or `public`. */
  caller: string;
  receivedAt: Date;
}

/** How the workflow answered a receipt: accepted, refused with a catalogue code, or failed (not ours to retry). */
export type ReceiptOutcome =
  { status: 'accepted' } | { status: 'refused'; code: string; message: string } | { status: 'failed'; message: string };

/** A pending receipt the sweeper took to redeliver (see `claimDueReceipts`). */
export interface DueReceipt extends UpdateReceipt {
  /** How many times it has been taken to redeliver, this time included. */
  redeliveries: number;
}

/** The receipt kept under an Update id: its argument and receipt time as first written. */
export interface KeptReceipt {
  updateArg: unknown;
  receivedAt: Date;
}

/**
 * Writes the receipt before its Update is sent, held for `leaseMs` (wall-clock milliseconds) by the sender; a
 * retry under the same Update id keeps the first row — its argument and its receipt time — and gets it back, so
 * the Update is always sent as first received.
 */
export async function recordReceipt(db: Db, receipt: UpdateReceipt, leaseMs: number): Promise<KeptReceipt> {
  const [inserted] = await db('update_receipts')
    .insert({
      update_id: receipt.updateId,
      workflow_id: receipt.workflowId,
      update_name: receipt.updateName,
      update_arg: JSON.stringify(receipt.updateArg),
      caller: receipt.caller,
      received_at: receipt.receivedAt,
      status: 'pending',
      locked_until: db.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]),
    })
    .onConflict('update_id')
    .ignore()
    .returning<{ update_id: string }[]>('update_id');
  if (inserted) return { updateArg: receipt.updateArg, receivedAt: receipt.receivedAt };
  const kept = await db('update_receipts')
    .where({ update_id: receipt.updateId })
    .first<{ update_arg: unknown; received_at: Date }>('update_arg', 'received_at');
  return { updateArg: kept.update_arg, receivedAt: kept.received_at };
}

/**
 * Records the workflow's answer to a pending receipt (the first answer stays); `true` when this call recorded
 * it, `false` when the receipt was answered already (or is unknown).
 */
export async function recordReceiptOutcome(db: Db, updateId: string, outcome: ReceiptOutcome): Promise<boolean> {
  const updated = await db('update_receipts')
    .where({ update_id: updateId, status: 'pending' })
    .update({
      status: outcome.status,
      outcome_code: outcome.status === 'refused' ? outcome.code : null,
      outcome_message: outcome.status === 'accepted' ? null : outcome.message,
      answered_at: db.fn.now(),
    });
  return updated > 0;
}

interface ReceiptRow {
  update_id: string;
  workflow_id: string;
  update_name: string;
  update_arg: unknown;
  caller: string;
  received_at: Date;
  redeliveries: number;
}

/** The columns `ReceiptRow` reads. */
const RECEIPT_COLUMNS = [
  'update_id',
  'workflow_id',
  'update_name',
  'update_arg',
  'caller',
  'received_at',
  'redeliveries',
];

function toDueReceipt(r: ReceiptRow): DueReceipt {
  return {
    updateId: r.update_id,
    workflowId: r.workflow_id,
    updateName: r.update_name,
    updateArg: r.update_arg,
    caller: r.caller,
    receivedAt: r.received_at,
    redeliveries: r.redeliveries,
  };
}

/**
 * Takes up to `limit` pending receipts nobody holds (their sender died, or could not reach Temporal, and the
 * lease ran out), oldest first, and holds them for `leaseMs`. Concurrent sweeps take disjoint rows
 * (`FOR UPDATE SKIP LOCKED`).
 */
export async function claimDueReceipts(db: Db, options: { limit: number; leaseMs: number }): Promise<DueReceipt[]> {
  const { rows } = await db.raw<{ rows: ReceiptRow[] }>(
    `update update_receipts r
        set locked_until = now() + make_interval(secs => ?), redeliveries = r.redeliveries + 1
      where r.update_id in (
        select update_id from update_receipts
         where status = 'pending' and locked_until < now()
         order by locked_until
         limit ?
         for update skip locked)
      returning r.update_id, r.workflow_id, r.update_name, r.update_arg, r.caller, r.received_at, r.redeliveries`,
    [options.leaseMs / 1000, options.limit],
  );
  return rows.map(toDueReceipt);
}

/** A receipt not yet answered by its workflow, as the workflow sees it before a close (see `pendingReceipts`). */
export interface PendingReceipt {
  updateName: string;
  /** The receipt time the API stamped (ISO instant, wall clock). */
  receivedAt: string;
}

/**
 * The receipts of `workflowId` still pending, for the given Update names, whose argument contains `argContains`
 * (jsonb containment, e.g. `{ publicityId }`); at most `limit`, oldest first.
 */
export async function listPendingReceipts(
  db: Db,
  filter: { workflowId: string; updates: readonly string[]; argContains?: Record<string, string> | undefined },
  limit = 1000,
): Promise<PendingReceipt[]> {
  const q = db('update_receipts')
    .where({ workflow_id: filter.workflowId, status: 'pending' })
    .whereIn('update_name', filter.updates)
    .orderBy('received_at')
    .limit(limit);
  if (filter.argContains) void q.whereRaw('update_arg @> ?::jsonb', [JSON.stringify(filter.argContains)]);
  const rows = await q.select<{ update_name: string; received_at: Date }[]>('update_name', 'received_at');
  return rows.map((r) => ({ updateName: r.update_name, receivedAt: r.received_at.toISOString() }));
}

/** A receipt as it stands (see `findReceipt`). */
export interface StoredReceipt extends DueReceipt {
  status: 'pending' | 'accepted' | 'refused' | 'failed';
  /** The refusal's catalogue code (`refused` only). */
  code: string | null;
  /** The refusal's or the failure's message. */
  message: string | null;
  answeredAt: Date | null;
}

/** The receipt kept under `updateId` (its Update id), or `undefined`. */
export async function findReceipt(db: Db, updateId: string): Promise<StoredReceipt | undefined> {
  const row = await db('update_receipts')
    .where({ update_id: updateId })
    .first<
      | (ReceiptRow & {
          status: StoredReceipt['status'];
          outcome_code: string | null;
          outcome_message: string | null;
          answered_at: Date | null;
        })
      | undefined
    >(...RECEIPT_COLUMNS, 'status', 'outcome_code', 'outcome_message', 'answered_at');
  if (!row) return undefined;
  return {
    ...toDueReceipt(row),
    status: row.status,
    code: row.outcome_code,
    message: row.outcome_message,
    answeredAt: row.answered_at,
  };
}

/** Whom a receipt's answer is written to: the name that opens the letter, and the address. */
export interface ReceiptContact {
  name: string;
  email: string;
}

/**
 * What a receipt's request was about, in zh-CN, for the letter that tells its fate: the application's title
 * (`applicationId` in the Update argument) or the publicity period's (`publicityId`); `undefined` otherwise.
 */
export async function findReceiptSubject(db: Db, updateArg: unknown): Promise<string | undefined> {
  const arg = (updateArg ?? {}) as { applicationId?: unknown; publicityId?: unknown };
  if (typeof arg.applicationId === 'string') {
    const app = await db('applications')
      .where({ id: arg.applicationId })
      .first<{ title_zh: string } | undefined>('title_zh');
    return app?.title_zh ? `申报项目《${app.title_zh}》` : undefined;
  }
  if (typeof arg.publicityId === 'string') {
    const period = await db('publicity_periods')
      .where({ id: arg.publicityId })
      .first<{ title_zh: string } | undefined>('title_zh');
    return period?.title_zh ? `“${period.title_zh}”` : undefined;
  }
  return undefined;
}

/**
 * The name and address on record for a receipt's addressee (`receiptAddressee`): an institution's
 * `contact_email`, an expert's `email`, or the address a member of the public gave; `undefined` when the
 * institution or expert is unknown.
 */
export async function findReceiptContact(db: Db, addressee: ReceiptAddressee): Promise<ReceiptContact | undefined> {
  if (addressee.kind === 'public') return { name: addressee.name, email: addressee.email };
  if (addressee.kind === 'institution') {
    const to = (await noticeAddressees(db, [addressee.institutionId])).get(addressee.institutionId);
    return to?.contact_email ? { name: to.name_zh, email: to.contact_email } : undefined;
  }
  const expert = await db('experts')
    .where({ id: addressee.expertId })
    .first<{ name_zh: string; email: string } | undefined>('name_zh', 'email');
  return expert?.email ? { name: `${expert.name_zh}专家`, email: expert.email } : undefined;
}
