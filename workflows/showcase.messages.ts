import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { NominationInput } from '../activities/showcase.js';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * The outcome showcase's contract (procedure 6, workflow `showcaseWorkflow`, id `showcase-<year>`): its input, its
 * stages, and the Update and Query the API sends it. It holds no workflow code.
 */

/** What starts a year's showcase. */
export interface ShowcaseInput {
  showcaseId: string;
  year: number;
  compression?: TimeCompression | undefined;
}

/** Where the showcase stands; the `Stage` search attribute carries it as `showcase_<stage>`. */
export type ShowcaseStage = 'opening' | 'nominations_open' | 'review' | 'publicity' | 'publishing' | 'published';

/** The showcase's state, answered by `getShowcase` and returned when the workflow ends. */
export interface ShowcaseMemory {
  stage: ShowcaseStage;
  dueAt: string | undefined;
  invited: number;
  remindersSent: number;
  nominated: number;
  selected: number;
}

/** A case nomination as the API sends it (the workflow adds the showcase's id). */
export type NominationRequest = Omit<NominationInput, 'showcaseId'>;

/** The showcase's state. */
export const getShowcaseQuery = defineQuery<ShowcaseMemory>('getShowcase');
/** A member or project nominates a case, judged by its receipt time against the due day; answers the institution's count. */
export const nominateCaseUpdate = defineUpdate<{ caseId: string; nominated: number }, [NominationRequest]>(
  'nominateCase',
);

/** The workflow's signature, for starting it by type name with a typed input. */
export type ShowcaseWorkflow = (input: ShowcaseInput) => Promise<ShowcaseMemory>;
