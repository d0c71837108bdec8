import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { recordAudit } from '../db/repositories/audit.js';
import type { Db } from '../db/knex.js';
import {
  claimDueReceipts,
  findReceiptContact,
  findReceiptSubject,
  listPendingReceipts,
  recordReceiptOutcome,
  type PendingReceipt,
  type DueReceipt,
  type ReceiptOutcome,
} from '../db/repositories/receipts.js';
import { BUSY_CODE, isErrorCode } from '../domain/errors.js';
import { receiptAddressee, receiptRequestZh } from '../domain/receipts.js';
import type { Outbox } from '../mail/outbox.js';
import { receiptNotAccepted } from '../mail/templates.js';
import type { ActivityDeps } from './deps.js';

/** Which receipts a workflow asks about before a close (see `pendingReceipts`). */
export interface PendingReceiptsInput {
  workflowId: string;
  /** Update names, e.g. `submitApplication`. */
  updates: string[];
  /** Only receipts whose Update argument contains these fields (e.g. `{ publicityId }`). */
  argContains?: Record<string, string> | undefined;
}

/** One redelivery sweep: how many receipts to take at most. */
export interface RedeliverReceiptsInput {
  batchSize: number;
}

/** What one sweep did, by the workflow's answer; `pending` stayed pending (Temporal out of reach, or busy). */
export interface RedeliverReceiptsResult {
  claimed: number;
  accepted: number;
  refused: number;
  failed: number;
  pending: number;
  /** The batch was full: more may be due. */
  more: boolean;
}

/** How long a sweep holds a receipt it redelivers (wall-clock milliseconds): more than one Update's wait. */
const REDELIVERY_LEASE_MS = 60_000;

/** How long one redelivered Update is waited for (wall-clock milliseconds), as the API waits. */
const REDELIVERY_WAIT_MS = 30_000;

/**
 * Sends a receipt's Update again, under its own Update id — Temporal runs an Update id once, so one the workflow
 * already took is answered from its first run — and tells how the workflow answered; `undefined` when the
 * answer must wait (Temporal out of reach or slow, the workflow busy continuing as new).
 */
async function redeliver(temporal: Client, receipt: DueReceipt): Promise<ReceiptOutcome | undefined> {
  try {
    await temporal.withDeadline(Date.now() + REDELIVERY_WAIT_MS, () =>
      temporal.workflow
        .getHandle(receipt.workflowId)
        .executeUpdate(receipt.updateName, { args: [receipt.updateArg], updateId: receipt.updateId }),
    );
    return { status: 'accepted' };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      return { status: 'refused', code: 'WORKFLOW_NOT_FOUND', message: '流程已结束，未能送达' };
    }
    if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type === BUSY_CODE) return undefined;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return { status: 'refused', code: cause.type, message: cause.message };
    }
    return { status: 'failed', message: cause?.message ?? err.message };
  }
}

/**
 * Records a redelivered receipt's answer, its audit rows and — when the workflow did not accept it — the email
 * that tells the person, in one transaction, so that a crash leaves either nothing (the receipt is still
 * pending, redelivered again: Temporal answers the same Update id from its first run) or everything. Audits
 * `receipt.redelivered`, and for a refusal or a failure `receipt.refused` / `receipt.failed` (code, message,
 * Update name, receipt time), and `receipt.not_notified` when nobody can be written to (see
 * `receiptAddressee`). The email's key is `<Update id>/receipt_<outcome>`: a retried activity never sends it
 * twice. Returns the email's key to send after the commit, if any; nothing when the receipt was answered
 * meanwhile (by the API that sent it first): that answer stands and the person had it.
 */
async function recordRedelivery(
  db: Db,
  outbox: Pick<Outbox, 'enqueue'>,
  receipt: DueReceipt,
  outcome: ReceiptOutcome,
): Promise<string | undefined> {
  return db.transaction(async (trx) => {
    if (!(await recordReceiptOutcome(trx, receipt.updateId, outcome))) return undefined;
    const receivedAt = receipt.receivedAt.toISOString();
    const audit = {
      actor: receipt.caller,
      role: 'system' as const,
      subjectKind: 'workflow',
      subjectId: receipt.workflowId,
      workflowId: receipt.workflowId,
    };
    await recordAudit(trx, {
      ...audit,
      action: 'receipt.redelivered',
      ...(outcome.status === 'accepted' ? {} : { reason: outcome.message }),
      details: {
        updateId: receipt.updateId,
        update: receipt.updateName,
        receivedAt,
        outcome: outcome.status,
        ...(outcome.status === 'refused' ? { code: outcome.code } : {}),
        redeliveries: receipt.redeliveries,
      },
    });
    if (outcome.status === 'accepted') return undefined;
    const details = {
      updateId: receipt.updateId,
      update: receipt.updateName,
      receivedAt,
      code: outcome.status === 'refused' ? outcome.code : null,
      message: outcome.message,
    };
    await recordAudit(trx, { ...audit, action: `receipt.${outcome.status}`, reason: outcome.message, details });
    const addressee = receiptAddressee(receipt.caller, receipt.updateArg);
    const contact = addressee ? await findReceiptContact(trx, addressee) : undefined;
    if (!contact) {
      await recordAudit(trx, {
        ...audit,
        action: 'receipt.not_notified',
        reason: addressee ? '收件人无联系邮箱' : '请求人无法通过邮件联系',
        details: { updateId: receipt.updateId, update: receipt.updateName, outcome: outcome.status },
      });
      return undefined;
    }
    const purpose = `receipt_${outcome.status}`;
    const idempotencyKey = `${receipt.updateId}/${purpose}`;
    await outbox.enqueue(
      {
        idempotencyKey,
        workflowId: receipt.workflowId,
        purpose,
        recipient: contact.email,
        ...receiptNotAccepted({
          addressee: contact.name,
          requestZh: receiptRequestZh(receipt.updateName),
          about: await findReceiptSubject(trx, receipt.updateArg),
          receivedAt: receipt.receivedAt,
          receiptId: receipt.updateId,
          outcome: outcome.status,
          reason: outcome.message,
        }),
      },
      trx,
    );
    return idempotencyKey;
  });
}

/** The redelivery of pending receipts (issue 13, point 3), run by the outbox sweeper (`outboxSweeperWorkflow`). */
export function createReceiptActivities({ db, temporal, outbox }: ActivityDeps) {
  return {
    /**
     * The receipts of a workflow not yet answered (`update_receipts`, pending): what a workflow reads before it
     * closes a stage, so that one received in time and not yet delivered — its sender died, or Temporal was out
     * of reach — is waited for instead of refused as late (at most 1,000, oldest first).
     */
    async pendingReceipts(input: PendingReceiptsInput): Promise<PendingReceipt[]> {
      return listPendingReceipts(db, input);
    },

    /**
     * Takes the pending receipts nobody holds — the API process died between writing one and sending its
     * Update, or could not reach Temporal — and sends each Update again under its Update id, so the workflow
     * judges it by its first receipt time; records the answer on the row and in the audit log
     * (`receipt.redelivered`), heartbeating after each. A receipt whose answer must wait stays pending for a
     * later sweep, and so do the rest of the batch (one wait, not one per row). Several sweeps at once take
     * disjoint rows. A receipt refused or failed is audited as such and its person emailed through the outbox
     * (`receipt_refused` / `receipt_failed`, see `recordRedelivery`): they were told not to resubmit.
     *
     * @throws a non-retryable ApplicationFailure when the worker has no Temporal client (a test worker).
     */
    async redeliverReceipts(input: RedeliverReceiptsInput): Promise<RedeliverReceiptsResult> {
      if (!temporal) throw ApplicationFailure.nonRetryable('this worker has no Temporal client to redeliver with');
      const due = await claimDueReceipts(db, { limit: input.batchSize, leaseMs: REDELIVERY_LEASE_MS });
      const result: RedeliverReceiptsResult = {
        claimed: due.length,
        accepted: 0,
        refused: 0,
        failed: 0,
        pending: 0,
        more: due.length >= input.batchSize,
      };
      const emails: string[] = [];
      for (const [index, receipt] of due.entries()) {
        const outcome = await redeliver(temporal, receipt);
        Context.current().heartbeat();
        if (!outcome) {
          // Temporal is out of reach or the workflow busy: the rest wait for a later sweep (their lease runs out).
          result.pending = due.length - index;
          result.more = false;
          break;
        }
        result[outcome.status] += 1;
        const email = await recordRedelivery(db, outbox, receipt, outcome);
        if (email) emails.push(email);
      }
      // After the commits, within one budget; what fails stays owed to the outbox sweeper (sendSoon never throws).
      if (emails.length > 0) {
        await outbox.sendSoon(emails);
        Context.current().heartbeat();
      }
      if (result.claimed > 0) log.info('receipts redelivered', { ...result });
      return result;
    },
  };
}
