import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  ObjectionInput,
  ObjectionRecorded,
  PublicityPeriod,
  PublicitySubjectKind,
  ResolutionInput,
  ResolutionResult,
} from '../activities/publicity.js';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * The publicity period's contract (procedure 3, workflow `publicityWorkflow`, id `publicity-<subject>`): its
 * input, its stages, its result, and the Updates and Query the API sends it. It holds no workflow code.
 */

/** What starts a publicity period (as a child of a round, an evaluation, a member or a showcase). */
export interface PublicityWorkflowInput {
  subjectKind: PublicitySubjectKind;
  subjectId: string;
  programme: string;
  year: number;
  compression?: TimeCompression | undefined;
  resume?: PublicityMemory | undefined;
}

/** Where the period stands; the `Stage` search attribute carries it as `publicity_<stage>`. */
export type PublicityStage = 'opening' | 'open' | 'awaiting_resolution' | 'done';

/** The period's state, answered by `getPublicity` and carried to the next run on continue-as-new. */
export interface PublicityMemory {
  stage: PublicityStage;
  current: PublicityPeriod | undefined;
  periods: PublicityPeriod[];
  pending: number;
  /** Items changed during the current period (applications substituted in, regraded reports), publicised next. */
  substitutes: string[];
  upheld: number;
  dismissed: number;
  objections: number;
  runs: number;
}

/** What the parent learns when every period has closed and every objection is resolved. */
export interface PublicityResult {
  periods: number;
  objections: number;
  upheld: number;
  dismissed: number;
}

/** An objection as the API sends it, stamped with its receipt time, against one published period. */
export type ObjectionRequest = Omit<ObjectionInput, 'publicityId'> & { publicityId: string };
/** Staff's resolution of one objection (upheld or dismissed, with a reason). */
export type ResolutionRequest = Omit<ResolutionInput, 'workflowId'>;

/** The period's state. */
export const getPublicityQuery = defineQuery<PublicityMemory>('getPublicity');
/** An objection, judged by its receipt time against the period's end. */
export const fileObjectionUpdate = defineUpdate<ObjectionRecorded, [ObjectionRequest]>('fileObjection');
/** Staff resolve a pending objection; an upheld one brings a substitute (递补) into the next period. */
export const resolveObjectionUpdate = defineUpdate<ResolutionResult, [ResolutionRequest]>('resolveObjection');

/** The workflow's signature, for starting it by type name with a typed input. */
export type PublicityWorkflow = (input: PublicityWorkflowInput) => Promise<PublicityResult>;
