import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  MemberStatus,
  RectificationDecision,
  RectificationGradeInput,
  RectificationReportInput,
  RectificationReportRecorded,
  RevokeResult,
} from '../activities/member.js';
import type { Reminder } from '../domain/calendar/working-calendar.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import type { EvaluationGrade } from '../domain/programmes.js';

/**
 * A directory member's contract (workflow `memberWorkflow`, id `member-<entryId>`, procedure 5 inside it): its
 * input, its state, and the Updates, Signal and Query sent to it. It holds no workflow code.
 */

/** What starts a member workflow: one per directory entry, at 认定. */
export interface MemberInput {
  entryId: string;
  programme: string;
  institutionId: string;
  /** The day it entered the directory. */
  admittedOn: string;
  compression?: TimeCompression | undefined;
  resume?: MemberMemory | undefined;
}

/**
 * The steps of elimination (procedure 5), in order; a pass at re-evaluation ends it early. `awaiting_grade`:
 * the re-evaluation ended with too few valid expert scores and staff decide (`gradeRectification`).
 */
export type EliminationStage =
  'warning' | 'rectifying' | 're_evaluating' | 'awaiting_grade' | 'removal_publicity' | 'removing';

/** An elimination under way, started by a 不合格 grade. */
export interface Elimination {
  stage: EliminationStage;
  /** The evaluation whose 不合格 started it. */
  evaluationId: string;
  rectificationId: string | undefined;
  /** 24:00 Asia/Shanghai on the day the rectification report is due. */
  dueAt: string | undefined;
  /** Reminders of the report still ahead. */
  reminders: Reminder[];
  reportReceived: boolean;
  /** Staff's decision while `awaiting_grade`: passed or not (absent until given). */
  staffPassed?: boolean | undefined;
}

/** The member's state a run carries to the next (it continues as new every calendar year). */
export interface MemberMemory {
  status: MemberStatus;
  /** The calendar year this run covers; the run continues as new when it ends. */
  year: number;
  barEndsOn: string | undefined;
  /** The final grade of each annual evaluation, oldest first. */
  grades: { evaluationId: string; year: number; grade: EvaluationGrade }[];
  elimination: Elimination | undefined;
  runs: number;
}

/** What `getMember` answers and the workflow returns: the memory with the member's identity. */
export interface MemberState extends MemberMemory {
  entryId: string;
  programme: string;
  institutionId: string;
  admittedOn: string;
}

/** Staff's revocation: a reason is required; `requestId` makes a retried request idempotent. */
export interface RevokeRequest {
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/** A rectification report as the API sends it (the workflow adds the entry's and the rectification's ids). */
export type RectificationReportRequest = Omit<RectificationReportInput, 'rectificationId' | 'entryId'>;

/** Staff's decision on a rectification report with too few valid expert scores, as the API sends it. */
export type RectificationGradeRequest = Omit<RectificationGradeInput, 'rectificationId' | 'entryId' | 'workflowId'>;

/** The member's state. */
export const getMemberQuery = defineQuery<MemberState>('getMember');
/** Staff revoke a member for misconduct (fraud, a serious incident): at once, with a reason. */
export const revokeMemberUpdate = defineUpdate<RevokeResult, [RevokeRequest]>('revokeMember');
/** The annual evaluation's final grade for this member (after its publicity period). */
export const evaluationGradedSignal =
  defineSignal<[{ evaluationId: string; year: number; grade: EvaluationGrade }]>('evaluationGraded');
/** The member's rectification report, judged by the receipt time the API stamped against its due time. */
export const submitRectificationReportUpdate = defineUpdate<RectificationReportRecorded, [RectificationReportRequest]>(
  'submitRectificationReport',
);

/**
 * Staff decide a rectification report the experts left with too few valid scores (stage `awaiting_grade`):
 * passed or not, with a reason; refused `GRADE_NOT_PENDING` at any other stage.
 */
export const gradeRectificationUpdate = defineUpdate<RectificationDecision, [RectificationGradeRequest]>(
  'gradeRectification',
);

/** The workflow's signature, for starting it by type name with a typed input. */
export type MemberWorkflow = (input: MemberInput) => Promise<MemberState>;
