import type { LaunchKind } from '../activities/schedule.js';
import type { ProgrammeKey as Programme } from '../domain/programmes.js';

/**
 * The launcher's contract (workflow `launcherWorkflow`, started by a yearly Schedule): its input, fixed when the
 * Schedule is created, and its result. It takes no messages.
 */

/** What a yearly Schedule passes to each launcher run. */
export interface LauncherInput {
  scheduleId: string;
  kind: LaunchKind;
  programme: Programme;
  /** Compressed time for demonstrations and tests (refused in production when the Schedule is created). */
  timeScale?: number | undefined;
}

/** Whether the launcher started the round or evaluation, or why it was refused (e.g. already launched). */
export type LauncherResult =
  | { outcome: 'started'; workflowId: string; year: number }
  | { outcome: 'refused'; code: string; message: string; year: number };

/** The workflow's signature, for creating a Schedule by type name with a typed input. */
export type LauncherWorkflow = (input: LauncherInput) => Promise<LauncherResult>;
