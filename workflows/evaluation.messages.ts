import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  EvaluationReportInput,
  EvaluationReportRecorded,
  GradeCounts,
  ReportDue,
  StaffGradeInput,
} from '../activities/evaluation.js';
import type { AggregateResult } from '../activities/review.results.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import type { PublicityResult } from './publicity.messages.js';

/**
 * The annual evaluation's contract (procedure 4, workflow `evaluationWorkflow`, id `evaluation-<programme>-<year>`):
 * its input, its stages, and the Updates and Query the API sends it. It holds no workflow code.
 */

/** What starts an annual evaluation: one per programme and year. */
export interface EvaluationInput {
  evaluationId: string;
  programme: string;
  year: number;
  compression?: TimeCompression | undefined;
  resume?: EvaluationMemory | undefined;
}

/** Where the evaluation stands; the `Stage` search attribute carries it as `evaluation_<stage>`. */
export type EvaluationStage =
  | 'opening'
  | 'requesting'
  | 'reports_open'
  | 'closing'
  | 'review'
  | 'grading'
  | 'awaiting_grades'
  | 'publicity'
  | 'publishing'
  | 'done';

/** The evaluation's state, answered by `getEvaluation` and carried to the next run on continue-as-new. */
export interface EvaluationMemory {
  stage: EvaluationStage;
  titleZh: string | undefined;
  due: ReportDue | undefined;
  members: number;
  /** Reminders still ahead, and those due whose mailing is under way (cursor). */
  reminders: Reminder[];
  job: { reminder: Reminder; after?: string | undefined } | undefined;
  cursor: string | undefined;
  reports: { submitted: number; missing: number } | undefined;
  review: AggregateResult | undefined;
  grades: GradeCounts | undefined;
  publicity: PublicityResult | undefined;
  /** Members told their final grade. */
  signalled: number;
  runs: number;
}

/** A self-evaluation report as the API sends it (the workflow adds the evaluation's id). */
export type EvaluationReportRequest = Omit<EvaluationReportInput, 'evaluationId'>;

/** The evaluation's state, for staff and ops. */
export const getEvaluationQuery = defineQuery<EvaluationMemory>('getEvaluation');
/** An applicant's self-evaluation report, judged by the receipt time the API stamped against the due time. */
export const submitEvaluationReportUpdate = defineUpdate<EvaluationReportRecorded, [EvaluationReportRequest]>(
  'submitEvaluationReport',
);

/** Staff's grade of one report as the API sends it (the workflow adds the evaluation's id). */
export type StaffGradeRequest = Omit<StaffGradeInput, 'evaluationId'>;
/** Staff grade a report no expert could score (with a reason); the results wait for every such grade. */
export const gradeReportUpdate = defineUpdate<{ remaining: number }, [StaffGradeRequest]>('gradeReport');

/** The workflow's signature, for starting it by type name with a typed input. */
export type EvaluationWorkflow = (input: EvaluationInput) => Promise<EvaluationMemory>;
