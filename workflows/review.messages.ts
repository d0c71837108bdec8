import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DueGroup } from '../activities/review.js';
import type { DeclineResult, RecordDeclineInput } from '../activities/review.declines.js';
import type { AggregateResult } from '../activities/review.results.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import type { ReviewSubjectKind } from '../domain/review/subjects.js';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * The expert review's contract (procedure 2, workflow `reviewWorkflow`, id `review-<subject>`): its input, its
 * stages, and the Signals and Query the API sends it. It holds no workflow code.
 */

/** What starts an expert review (as a child of a round, an evaluation, a member or a showcase). */
export interface ReviewWorkflowInput {
  subjectKind: ReviewSubjectKind;
  subjectId: string;
  programme: string;
  year: number;
  compression?: TimeCompression | undefined;
  resume?: ReviewMemory | undefined;
}

/** Where the review stands; the `Stage` search attribute carries it as is. */
export type ReviewStage = 'assigning' | 'assignment_blocked' | 'inviting' | 'reviewing' | 'aggregating' | 'done';

type ReminderJob = { group: DueGroup; reminder: Reminder; after?: string | undefined };

/** The review's state a run carries to the next when it continues as new. */
export interface ReviewMemory {
  stage: ReviewStage;
  reviewId: string | undefined;
  titleZh: string | undefined;
  /** Due groups still open: the first assignments' and each day's replacements'. */
  groups: DueGroup[];
  remindersDone: string[];
  jobs: ReminderJob[];
  invitationsAfter: string | undefined;
  declines: boolean;
  attempts: number;
  retry: boolean;
  counts: { assignments: number; timedOut: number; replaced: number; unreplaceable: number };
  result: AggregateResult | undefined;
  runs: number;
}

/** What `getReview` answers: the memory without its internal cursors, with the subject. */
export interface ReviewState extends Omit<
  ReviewMemory,
  'jobs' | 'remindersDone' | 'invitationsAfter' | 'declines' | 'retry'
> {
  subjectId: string;
}

/** The review's state. */
export const getReviewQuery = defineQuery<ReviewState>('getReview');
/**
 * An expert's decline, sent by the API as an Update: the workflow's decision activity records it (with a declared
 * conflict and its audit row), so the API answers only once the workflow has it and the replacement follows.
 */
export type DeclineRequest = Omit<RecordDeclineInput, 'workflowId' | 'updateId'>;

export type { DeclineResult };

/**
 * Declines an assignment (refusals: `ASSIGNMENT_NOT_FOUND`, `ASSIGNMENT_CLOSED`, `REVIEW_DUE_PASSED`); the
 * review then finds the replacement.
 */
export const declineAssignmentUpdate = defineUpdate<DeclineResult, [DeclineRequest]>('declineAssignment');
/**
 * The API recorded a decline; a replacement is due. Sent by API versions before `declineAssignment`: still
 * handled for signals already in flight.
 */
export const assignmentDeclinedSignal = defineSignal<[{ assignmentId: string }]>('assignmentDeclined');
/** Staff enlarged the pool after an assignment was blocked: try again. */
export const retryAssignmentSignal = defineSignal('retryAssignment');

/** The workflow's signature, for starting it by type name with a typed input. */
export type ReviewWorkflow = (input: ReviewWorkflowInput) => Promise<AggregateResult>;
