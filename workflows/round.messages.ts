import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SubmissionResult, WithdrawalResult } from '../activities/round.applications.js';
import type { AggregateResult } from '../activities/review.results.js';
import type { Announcement } from '../activities/round.notices.js';
import type { ConfirmShortlistResult, ShortlistAdjustment } from '../activities/round.shortlist.js';
import type { Deadline } from '../activities/round.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import type { PublicityResult } from './publicity.messages.js';

/**
 * The round's contract (procedure 1, call for applications, workflow `roundWorkflow`, id
 * `round-<programme>-<year>`): its input, its stages, and the Updates, Signal and Query the API sends it.
 * Imported by the API and the workflow alike; it holds no workflow code.
 */

/** What starts a round: one per programme and year. */
export interface RoundInput {
  roundId: string;
  programme: string;
  year: number;
  /** ISO instant the call opens. */
  opensAt: string;
  deadlineDay?: string | undefined;
  launchedBy: string;
  /** Compressed time for demos and end-to-end tests; the API refuses it in production. */
  compression?: TimeCompression | undefined;
  /** Present when this run continues an earlier one. */
  resume?: RoundMemory | undefined;
}

/** Where the round stands, in order; the `Stage` search attribute carries it as is. */
export type RoundStage =
  | 'preparing'
  | 'scheduled'
  | 'call_open'
  | 'call_closing'
  | 'formal_check'
  | 'review'
  | 'shortlist_pending'
  | 'shortlist_confirmed'
  | 'publicity'
  /** 认定: the result is final. */
  | 'approved'
  /** Nothing passed the formal check, so nothing is reviewed: the round ends here. */
  | 'closed'
  | 'cancelled';

/** Emails owed to a list of institutions, sent a batch at a time from a cursor. */
export type MailJob =
  | { kind: 'notices'; after?: string | undefined }
  | { kind: 'reminder'; reminder: Reminder; deadline: Deadline; after?: string | undefined }
  | { kind: 'announcement'; announcement: Announcement; after?: string | undefined };

/** Everything a run hands to the next when it continues as new. Small: ids, counts, cursors. */
export interface RoundMemory {
  stage: RoundStage;
  deadline: Deadline | undefined;
  /** Reminders of the current deadline still to come. */
  reminders: Reminder[];
  /** Reminder occasions done or skipped, as `<deadline day>#<k>`; a reminder is never sent twice. */
  remindersDone: string[];
  jobs: MailJob[];
  graceSeconds: number;
  eligibleInstitutions: number;
  noticesSent: number;
  remindersSent: number;
  submissions: number;
  withdrawals: number;
  formalCheck: { passed: number; failed: number };
  review: AggregateResult | undefined;
  publicity: PublicityResult | undefined;
  approved: number | undefined;
  cancellation: { reason: string; by: string } | undefined;
  calendarChanged: boolean;
  runs: number;
}

/** What the `getRound` query answers: the memory ops need, without the internal cursors. */
export type RoundState = Omit<
  RoundMemory,
  'reminders' | 'remindersDone' | 'jobs' | 'graceSeconds' | 'calendarChanged'
> & {
  roundId: string;
  programme: string;
  year: number;
  opensAt: string;
  upcomingReminders: Reminder[];
  compressed: boolean;
};

/** What the round returns when it ends (approved, closed or cancelled). */
export interface RoundResult {
  roundId: string;
  stage: RoundStage;
  noticesSent: number;
  formalCheck: { passed: number; failed: number };
  review: AggregateResult | undefined;
  publicity: PublicityResult | undefined;
  approved: number | undefined;
}

/** A submission as the API sends it: judged by `receivedAt` against the deadline the workflow holds. */
export interface SubmitRequest {
  applicationId: string;
  institutionId: string;
  /** Stamped by the API when the request arrived (ISO). */
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
  /**
   * A submission: the application's revision when it was received (pinned by the API under the draft's lock);
   * absent in requests received before revisions were pinned, and in withdrawals.
   */
  revision?: number | undefined;
}

/** A withdrawal, judged like a submission. */
export interface WithdrawRequest extends SubmitRequest {
  reason?: string | undefined;
}

/** Staff's extension: the new deadline day (Asia/Shanghai, the deadline is 24:00 that day) must be later. */
export interface ExtendRequest {
  deadlineDay: string;
  reason: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

/** Staff's cancellation, possible until the call has closed. */
export interface CancelRequest {
  reason: string;
  receivedAt: string;
  actor: string;
  requestId?: string | undefined;
}

/** The round's state, for staff and ops. */
export const getRoundQuery = defineQuery<RoundState>('getRound');
/**
 * An application submitted. The validator refuses it (`CALL_NOT_OPEN`, `DEADLINE_PASSED`, `ROUND_CANCELLED`) by its
 * receipt time; the recording activity may refuse it too.
 */
export const submitApplicationUpdate = defineUpdate<SubmissionResult, [SubmitRequest]>('submitApplication');
/** An application withdrawn before the deadline. */
export const withdrawApplicationUpdate = defineUpdate<WithdrawalResult, [WithdrawRequest]>('withdrawApplication');
/** Staff extend the deadline; answers the deadline now in force. */
export const extendDeadlineUpdate = defineUpdate<Deadline, [ExtendRequest]>('extendDeadline');
/** Staff cancel the round before the call closes; everyone invited is told. */
export const cancelRoundUpdate = defineUpdate<{ stage: RoundStage }, [CancelRequest]>('cancelRound');
/** Staff's confirmation of the recommended list, with their adjustments. */
export interface ConfirmShortlistRequest {
  adjustments: ShortlistAdjustment[];
  actor: string;
  requestId?: string | undefined;
}

/** Staff confirm the recommended list, optionally adjusted (each adjustment with its reason). */
export const confirmShortlistUpdate = defineUpdate<ConfirmShortlistResult, [ConfirmShortlistRequest]>(
  'confirmShortlist',
);
/** Staff entered a year's official arrangement: open rounds compute their deadlines again. */
export const calendarChangedSignal = defineSignal<[{ calendarVersion: number }]>('calendarChanged');

/** The workflow's signature, for starting it by type name: `client.workflow.start<RoundWorkflow>('roundWorkflow', …)`. */
export type RoundWorkflow = (input: RoundInput) => Promise<RoundResult>;
