import { Context, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { OutgoingEmail } from '../mail/outbox.js';
import type { ActivityDeps } from './deps.js';

export type { DecisionFaults } from './deps.js';

/**
 * What makes one decision unique, sent by the workflow: the id of the Update that carries it. A decision the
 * workflow takes on its own (no Update) is keyed by its activity's identity, `activity:<run id>/<activity id>`,
 * which every retry of that activity shares.
 */
export interface DecisionKeyed {
  updateId?: string | undefined;
}

/** What a decision's body is handed: the one transaction it commits in, and the outbox bound to it. */
export interface DecisionTx {
  trx: Knex.Transaction;
  /** Puts an email in the outbox inside the decision's transaction; it is handed to SMTP after the commit. */
  enqueue: (email: OutgoingEmail) => Promise<void>;
}

/** Every activity made by `decision()`, so tests and docs can list them. */
const decisionActivities = new WeakSet<object>();

/** Whether an activity function was made by `decision()` (keyed, crash-proof). */
export function isDecisionActivity(fn: unknown): boolean {
  return typeof fn === 'function' && decisionActivities.has(fn);
}

/**
 * Makes a decision activity idempotent. The body runs in one transaction, which also stores its result in
 * `decision_results` under (workflow id, decision key); an attempt retried after that commit — the worker was
 * killed, SMTP was down, the attempt timed out — finds the result and returns it instead of running the body
 * again (whose own checks would refuse the decision as already made, and stall the workflow that never saw
 * the first answer). Attempts of one key are serialised by a transaction-scoped advisory lock.
 *
 * Emails the body enqueues commit with the decision; they are then tried once (`Outbox.sendSoon`); one that
 * fails stays pending for the outbox sweeper, so SMTP being down never fails or repeats a decision.
 *
 * A business refusal from the body (`refuse()`) rolls everything back and records nothing.
 */
export function decisionRecorder({ db, outbox, decisionFaults }: ActivityDeps) {
  return function decision<I extends DecisionKeyed, R>(
    body: (input: I, tx: DecisionTx) => Promise<R>,
  ): (input: I) => Promise<R> {
    const activity = async (input: I): Promise<R> => {
      const { info } = Context.current();
      const workflowId = info.workflowExecution?.workflowId ?? 'none';
      const decisionKey = input.updateId ?? `activity:${info.workflowExecution?.runId}/${info.activityId}`;
      const ref = { activity: info.activityType, workflowId, decisionKey };
      const outcome = await db.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`${workflowId}/${decisionKey}`]);
        const prior = await trx('decision_results')
          .where({ workflow_id: workflowId, decision_key: decisionKey })
          .first<{ result: R; email_keys: string[] } | undefined>('result', 'email_keys');
        if (prior) return { result: prior.result, emailKeys: prior.email_keys, repeated: true };
        const emailKeys: string[] = [];
        const tx: DecisionTx = {
          trx,
          enqueue: async (email) => {
            await outbox.enqueue(email, trx);
            emailKeys.push(email.idempotencyKey);
          },
        };
        const result = await body(input, tx);
        await trx('decision_results').insert({
          workflow_id: workflowId,
          decision_key: decisionKey,
          activity: info.activityType,
          result: JSON.stringify(result ?? null),
          email_keys: emailKeys,
        });
        return { result, emailKeys, repeated: false };
      });
      if (outcome.repeated) log.info('decision already recorded: the recorded result is returned', ref);
      else decisionFaults?.afterCommit?.(ref);
      await outbox.sendSoon(outcome.emailKeys);
      return (outcome.result ?? undefined) as R;
    };
    decisionActivities.add(activity);
    return activity;
  };
}
