import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  ExtensionDecision,
  ExtensionRequest,
  OpenedReport,
  ProjectPlan,
  ProjectReportGradeInput,
  ProjectReportInput,
  ProjectReportKind,
  ReportDecision,
} from '../activities/project.js';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * A research project's contract (workflow `projectWorkflow`, id `project-<projectId>`): its input, its stages, and
 * the Updates and Query the API sends it. It holds no workflow code.
 */

/** What starts a project workflow: one per research project, at 认定 of its round. */
export interface ProjectInput {
  projectId: string;
  programme: string;
  institutionId: string;
  compression?: TimeCompression | undefined;
}

/**
 * Where the project stands; the `Stage` search attribute carries it as `project_<stage>`. `awaiting_grade`: the
 * report's review ended with too few valid expert scores and staff decide it (`gradeProjectReport`).
 */
export type ProjectStage =
  'starting' | 'running' | 'reporting' | 'reviewing' | 'awaiting_grade' | 'completed' | 'failed' | 'terminated';

/** The project's state, answered by `getProject` and returned when the workflow ends. */
export interface ProjectMemory {
  stage: ProjectStage;
  plan: ProjectPlan | undefined;
  /** The next report the project owes: the midterm, then the final. */
  next: ProjectReportKind;
  report: (OpenedReport & { received: boolean; overdueFlagged: boolean }) | undefined;
  extension: 'none' | 'pending' | 'approved' | 'refused';
  results: { kind: ProjectReportKind; attempt: number; passed: boolean; score: number | null }[];
  /** Staff's decision on the report while `awaiting_grade` (absent until given). */
  staffDecision?: ReportDecision | undefined;
}

/** A midterm or final report as the API sends it; refused unless that report is the one open. */
export type ProjectReportRequest = Omit<ProjectReportInput, 'projectId' | 'reportId'> & { kind: ProjectReportKind };
/** The project's application for an extension (one per project). */
export type ExtensionRequestInput = Omit<ExtensionRequest, 'projectId'>;
/** Staff's decision on a pending extension. */
export type ExtensionDecisionInput = Omit<ExtensionDecision, 'projectId' | 'workflowId'>;
/** Staff's termination (撤项): a reason is required; nothing is sent afterwards. */
export interface TerminateRequest {
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/** Staff's decision on a report with too few valid expert scores, as the API sends it. */
export type ProjectReportGradeRequest = Omit<ProjectReportGradeInput, 'projectId' | 'workflowId' | 'reportId'>;

/** The project's state. */
export const getProjectQuery = defineQuery<ProjectMemory>('getProject');
/** A midterm or final report; `late` when received after its due time. */
export const submitProjectReportUpdate = defineUpdate<
  { reportId: string; receivedAt: string; late: boolean },
  [ProjectReportRequest]
>('submitProjectReport');
/** The project applies for its one extension; staff decide it with `decideExtension`. */
export const requestExtensionUpdate = defineUpdate<{ status: 'pending' }, [ExtensionRequestInput]>('requestExtension');
/** Staff approve (with the new end day) or refuse the pending extension. */
export const decideExtensionUpdate = defineUpdate<{ approved: boolean; endsOn: string }, [ExtensionDecisionInput]>(
  'decideExtension',
);
/** Staff terminate the project (撤项). */
export const terminateProjectUpdate = defineUpdate<{ status: 'terminated' }, [TerminateRequest]>('terminateProject');

/**
 * Staff decide the report under review when the experts left it with too few valid scores (stage
 * `awaiting_grade`): 通过 or not, with a reason; refused `GRADE_NOT_PENDING` at any other stage.
 */
export const gradeProjectReportUpdate = defineUpdate<ReportDecision, [ProjectReportGradeRequest]>('gradeProjectReport');

/** The workflow's signature, for starting it by type name with a typed input. */
export type ProjectWorkflow = (input: ProjectInput) => Promise<ProjectMemory>;
