import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { EvaluationExistsError, evaluationTitleZh, insertEvaluation } from '../db/repositories/evaluation.js';
import { findProgramme } from '../db/repositories/programmes.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import type { ProgrammeKey } from '../domain/programmes.js';
import { evaluationWorkflowId } from '../domain/workflow-ids.js';
import type { EvaluationInput } from '../workflows/evaluation.messages.js';
import { LaunchRefused, reservedBy, type Launch, type LaunchedBy } from './launch.js';

/** What an evaluation's launch asks for (SPEC §4). */
export interface EvaluationLaunchRequest {
  programme: ProgrammeKey;
  year: number;
  compression?: TimeCompression | undefined;
  /** This year's rectification period for members graded 不合格 (the programme's default otherwise). */
  rectificationMonths?: number | undefined;
}

/**
 * Reserves a programme's annual dynamic evaluation (年度动态评价, SPEC §4): its row (unique per programme and
 * year) and the `evaluation.launch` audit row, in the caller's transaction.
 *
 * @throws LaunchRefused `PROGRAMME_NOT_FOUND`, `NOT_DIRECTORY_PROGRAMME`, `VALIDATION_FAILED` (a rectification
 *   period over the programme's maximum, in months), `EVALUATION_EXISTS`.
 */
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
