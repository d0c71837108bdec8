import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { launchRecordedBy } from '../db/repositories/audit.js';
import type { ErrorCode } from '../domain/errors.js';
import { ProgrammeKey as ProgrammeSA, RoundYearKey, StageKey } from '../workflows/search-attributes.js';

/*
 * Launching a yearly procedure — a programme's round (round.launch.ts) or evaluation (evaluation.launch.ts), the
 * year's showcase (showcase.launch.ts) — one way, whoever asks: staff through the API, or a Schedule through its
 * launcher workflow. The database row is reserved first, in the caller's transaction: its unique key decides who
 * may launch, so a manual launch and a scheduled one never both start a workflow. The caller then starts the
 * workflow: the API with launchNow(), the launcher as a child workflow.
 */

/** A launch refused for a business reason, with the stable error code and a zh-CN message. */
export class LaunchRefused extends Error {
  override name = 'LaunchRefused';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly workflowId?: string,
  ) {
    super(message);
  }
}

/** Who launches: staff (with the request id) or the system on a Schedule's behalf (with the launcher run). */
export interface LaunchedBy {
  actor: string;
  role: 'staff' | 'system';
  requestId?: string | undefined;
  /** The Schedule's launcher run (`<workflowId>/<runId>`), when a Schedule launched it. */
  workflowId?: string | undefined;
}

/** What to start: the same for a manual and a scheduled launch. */
export interface Launch<I> {
  workflowType: 'roundWorkflow' | 'evaluationWorkflow' | 'showcaseWorkflow';
  workflowId: string;
  titleZh: string;
  input: I;
  programme: string;
  year: number;
  stage: string;
}

/**
 * Whether a launcher workflow already reserved this launch (its activity committed but the worker died before
 * reporting back): its retry must carry on with the launch rather than refuse it as someone else's.
 */
export async function reservedBy(trx: Db, subjectId: string, by: LaunchedBy): Promise<boolean> {
  return by.workflowId !== undefined && (await launchRecordedBy(trx, subjectId, by.workflowId));
}

/**
 * Reserves and starts in one transaction (the API's way): if Temporal refuses the start, the row is rolled
 * back; if a run with the id is already open, the launch is refused as a duplicate.
 */
export async function launchNow<I>(
  db: Db,
  temporal: Client,
  taskQueue: string,
  reserve: (trx: Db) => Promise<Launch<I>>,
  duplicate: (workflowId: string) => LaunchRefused,
): Promise<{ launch: Launch<I>; runId: string }> {
  return db.transaction(async (trx) => {
    const launch = await reserve(trx);
    try {
      // By type name, with the input typed as the reserved launch's (the workflow's messages module defines it).
      const handle = await temporal.workflow.start<(input: I) => Promise<unknown>>(launch.workflowType, {
        workflowId: launch.workflowId,
        taskQueue,
        args: [launch.input],
        // The row decides whether (programme, year) may launch (a round may relaunch after a cancellation);
        // Temporal guarantees that at most one run is ever open.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        memo: { title: launch.titleZh },
        typedSearchAttributes: launchSearchAttributes(launch),
      });
      return { launch, runId: handle.firstExecutionRunId };
    } catch (err) {
      if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') throw duplicate(launch.workflowId);
      throw err;
    }
  });
}

/** The search attributes a launched procedure starts with (the launcher workflow sets the same for its child). */
function launchSearchAttributes(launch: Launch<unknown>) {
  return [
    { key: ProgrammeSA, value: launch.programme },
    { key: RoundYearKey, value: launch.year },
    { key: StageKey, value: launch.stage },
  ];
}
