import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { launchRecordedBy, recordAudit } from '../db/repositories/audit.js';
import { insertShowcase } from '../db/repositories/showcase.launch.js';
import { EvaluationExistsError, evaluationTitleZh, insertEvaluation } from '../db/repositories/evaluation.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { insertRound, RoundExistsError } from '../db/repositories/round.js';
import { formatShanghai, shanghaiDayOf } from '../domain/calendar/index.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import type { ErrorCode } from '../domain/errors.js';
import { roundTitleZh, type ProgrammeKey, type RoundRuleOverrides } from '../domain/programmes.js';
import type { EvaluationInput } from '../workflows/evaluation.messages.js';
import type { RoundInput } from '../workflows/round.messages.js';
import type { ShowcaseInput } from '../workflows/showcase.messages.js';
import { ProgrammeKey as ProgrammeSA, RoundYearKey, StageKey } from '../workflows/search-attributes.js';
import { evaluationWorkflowId, roundWorkflowId, showcaseWorkflowId } from '../domain/workflow-ids.js';

/**
 * Launching a yearly procedure — a programme's round or evaluation, the year's showcase — one way, whoever
 * asks: staff through the API, or a
 * Schedule through its launcher workflow. The database row is reserved first, in the caller's transaction:
 * its unique (programme, year) decides who may launch, so a manual launch and a scheduled one never both
 * start a workflow. The caller then starts the workflow (the API directly, the launcher as a child).
 */
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
async function reservedBy(trx: Db, subjectId: string, by: LaunchedBy): Promise<boolean> {
  return by.workflowId !== undefined && (await launchRecordedBy(trx, subjectId, by.workflowId));
}

export interface RoundLaunchRequest {
  programme: ProgrammeKey;
  year: number;
  opensAt: Date;
  deadlineDay?: string | undefined;
  compression?: TimeCompression | undefined;
  config?: RoundRuleOverrides | undefined;
  graceSeconds?: number | undefined;
  /** What the launcher asked for, recorded in the audit row. */
  asked?: Record<string, unknown> | undefined;
}

export async function reserveRound(trx: Db, req: RoundLaunchRequest, by: LaunchedBy): Promise<Launch<RoundInput>> {
  const programme = await findProgramme(trx, req.programme);
  if (!programme) throw new LaunchRefused('PROGRAMME_NOT_FOUND', req.programme);
  if (programme.track === 'showcase') {
    throw new LaunchRefused('PROGRAMME_NOT_OPEN_FOR_ROUNDS', '典型案例通过年度成果推广（showcase）征集');
  }
  if (req.deadlineDay && req.deadlineDay <= shanghaiDayOf(req.opensAt)) {
    throw new LaunchRefused(
      'DEADLINE_INVALID',
      `截止日 ${req.deadlineDay} 须晚于申报开始日 ${shanghaiDayOf(req.opensAt)}`,
    );
  }
  const roundId = roundWorkflowId(req.programme, req.year);
  const titleZh = roundTitleZh(programme.nameZh, req.year);
  const input: RoundInput = {
    roundId,
    programme: req.programme,
    year: req.year,
    opensAt: formatShanghai(req.opensAt),
    deadlineDay: req.deadlineDay,
    launchedBy: by.actor,
    ...(req.compression ? { compression: req.compression } : {}),
  };
  const launch: Launch<RoundInput> = {
    workflowType: 'roundWorkflow',
    workflowId: roundId,
    titleZh,
    input,
    programme: req.programme,
    year: req.year,
    stage: 'preparing',
  };
  try {
    await insertRound(trx, {
      id: roundId,
      programme: req.programme,
      year: req.year,
      titleZh,
      opensAt: req.opensAt,
      deadlineDay: req.deadlineDay,
      timeScale: req.compression?.scale,
      launchedBy: by.actor,
      config: req.config ?? {},
      graceSeconds: req.graceSeconds,
    });
  } catch (err) {
    if (err instanceof RoundExistsError) {
      if (await reservedBy(trx, roundId, by)) return launch;
      throw new LaunchRefused('ROUND_EXISTS', `${titleZh}已启动（${roundId}），同一项目类别每年只能启动一次`, roundId);
    }
    throw err;
  }
  await recordAudit(trx, {
    actor: by.actor,
    role: by.role,
    action: 'round.launch',
    subjectKind: 'round',
    subjectId: roundId,
    details: {
      programme: req.programme,
      year: req.year,
      opensAt: input.opensAt,
      deadline: req.deadlineDay ?? null,
      timeScale: req.compression?.scale ?? null,
      ...(req.asked ?? {}),
      ...(by.workflowId ? { launcher: by.workflowId } : {}),
    },
    requestId: by.requestId,
    workflowId: roundId,
  });
  return launch;
}

export interface EvaluationLaunchRequest {
  programme: ProgrammeKey;
  year: number;
  compression?: TimeCompression | undefined;
  /** This year's rectification period for members graded 不合格 (the programme's default otherwise). */
  rectificationMonths?: number | undefined;
}

export async function reserveEvaluation(
  trx: Db,
  req: EvaluationLaunchRequest,
  by: LaunchedBy,
): Promise<Launch<EvaluationInput>> {
  const programme = await findProgramme(trx, req.programme);
  if (!programme) throw new LaunchRefused('PROGRAMME_NOT_FOUND', req.programme);
  if (!programme.entersDirectory) {
    throw new LaunchRefused('NOT_DIRECTORY_PROGRAMME', `${programme.nameZh}不实行名录管理，没有年度动态评价`);
  }
  const max = programme.rules.directory?.maxRectificationMonths ?? 24;
  if (req.rectificationMonths !== undefined && req.rectificationMonths > max) {
    throw new LaunchRefused('VALIDATION_FAILED', `整改期最长 ${max} 个月`);
  }
  const evaluationId = evaluationWorkflowId(req.programme, req.year);
  const titleZh = evaluationTitleZh(programme.nameZh, req.year);
  const launch: Launch<EvaluationInput> = {
    workflowType: 'evaluationWorkflow',
    workflowId: evaluationId,
    titleZh,
    input: { evaluationId, programme: req.programme, year: req.year, compression: req.compression },
    programme: req.programme,
    year: req.year,
    stage: 'evaluation_opening',
  };
  try {
    await insertEvaluation(trx, {
      id: evaluationId,
      programme: req.programme,
      year: req.year,
      titleZh,
      launchedBy: by.actor,
      compression: req.compression,
      rectificationMonths: req.rectificationMonths,
    });
  } catch (err) {
    if (err instanceof EvaluationExistsError) {
      if (await reservedBy(trx, evaluationId, by)) return launch;
      throw new LaunchRefused(
        'EVALUATION_EXISTS',
        `${titleZh}已启动（${evaluationId}），同一项目类别每年只评价一次`,
        evaluationId,
      );
    }
    throw err;
  }
  await recordAudit(trx, {
    actor: by.actor,
    role: by.role,
    action: 'evaluation.launch',
    subjectKind: 'evaluation',
    subjectId: evaluationId,
    details: {
      programme: req.programme,
      year: req.year,
      timeScale: req.compression?.scale ?? null,
      rectificationMonths: req.rectificationMonths ?? null,
      ...(by.workflowId ? { launcher: by.workflowId } : {}),
    },
    requestId: by.requestId,
    workflowId: evaluationId,
  });
  return launch;
}

export interface ShowcaseLaunchRequest {
  year: number;
  /** How many cases may be selected. */
  quota: number;
  compression?: TimeCompression | undefined;
}

/**
 * Reserves the year's showcase (成果推广, SPEC §6): its row and the `showcase.launch` audit row.
 *
 * @throws LaunchRefused `SHOWCASE_EXISTS` when the year's showcase exists (one per year).
 */
export async function reserveShowcase(
  trx: Db,
  req: ShowcaseLaunchRequest,
  by: LaunchedBy,
): Promise<Launch<ShowcaseInput>> {
  const showcaseId = showcaseWorkflowId(req.year);
  const titleZh = `${req.year}年度产教融合典型案例`;
  const inserted = await insertShowcase(trx, {
    id: showcaseId,
    year: req.year,
    titleZh,
    quota: req.quota,
    launchedBy: by.actor,
    compression: req.compression,
  });
  if (!inserted) throw new LaunchRefused('SHOWCASE_EXISTS', `${titleZh}已启动（${showcaseId}）`, showcaseId);
  await recordAudit(trx, {
    actor: by.actor,
    role: by.role,
    action: 'showcase.launch',
    subjectKind: 'showcase',
    subjectId: showcaseId,
    details: { year: req.year, quota: req.quota, timeScale: req.compression?.scale ?? null },
    requestId: by.requestId,
    workflowId: showcaseId,
  });
  return {
    workflowType: 'showcaseWorkflow',
    workflowId: showcaseId,
    titleZh,
    input: { showcaseId, year: req.year, ...(req.compression ? { compression: req.compression } : {}) },
    programme: 'typical_case',
    year: req.year,
    stage: 'showcase_opening',
  };
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
