import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  ExtensionDecision,
  ExtensionRequest,
  OpenedReport,
  ProjectPlan,
  ProjectReportInput,
  ProjectReportKind,
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

/** Where the project stands; the `Stage` search attribute carries it as `project_<stage>`. */
export type ProjectStage = 'starting' | 'running' | 'reporting' | 'reviewing' | 'completed' | 'failed' | 'terminated';

/** The project's state, answered by `getProject` and returned when the workflow ends. */
export interface ProjectMemory {
  stage: ProjectStage;
  plan: ProjectPlan | undefined;
  /** The next report the project owes: the midterm, then the final. */
  next: ProjectReportKind;
  report: (OpenedReport & { received: boolean; overdueFlagged: boolean }) | undefined;
  extension: 'none' | 'pending' | 'approved' | 'refused';
  results: { kind: ProjectReportKind; attempt: number; passed: boolean; score: number | null }[];
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

/** The workflow's signature, for starting it by type name with a typed input. */
export type ProjectWorkflow = (input: ProjectInput) => Promise<ProjectMemory>;
