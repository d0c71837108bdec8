import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import type { CalendarRepository } from '../db/repositories/calendar.js';
import type { Outbox } from '../mail/outbox.js';
import type { AttachmentStore } from '../storage/attachments.js';

/** Where a test may simulate a crash in a decision activity (`activities/decision.ts`); never set in production. */
export interface DecisionFaults {
  /** After the decision and its result committed, before its emails are sent and the activity returns. */
  afterCommit?: (ref: { activity: string; workflowId: string; decisionKey: string }) => void;
}

/**
 * What every activity factory is given. Business time (deadlines, receipts, "today") comes from the workflow,
 * never from a clock here; activities log through Temporal's activity logger (`log` from
 * `@temporalio/activity`), which attaches workflow id, run id and activity type.
 */
export interface ActivityDeps {
  db: Db;
  outbox: Outbox;
  calendar: CalendarRepository;
  attachments: AttachmentStore;
  /** Where notices to staff go (STAFF_EMAIL). */
  staffEmail: string;
  /**
   * The address people open (PUBLIC_BASE_URL, no trailing slash; `publicBaseUrlOf(config)`): emails that ask
   * someone to act link to pages under it. A function, read when an email is written: a test learns the API's
   * port after the worker started.
   */
  publicBaseUrl: () => string;
  /** Crash simulation for tests of the decision activities; never set in production. */
  decisionFaults?: DecisionFaults | undefined;
  /** A Temporal client, for redelivering receipts (`activities/receipts.ts`); absent on test workers without one. */
  temporal?: Client | undefined;
}

/** The sign-in page under the public address: where an email asks its reader to act (`WhereToAct`). */
export function signInUrlOf(deps: Pick<ActivityDeps, 'publicBaseUrl'>): string {
  return `${deps.publicBaseUrl()}/account/sign-in`;
}
