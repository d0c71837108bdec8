import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { findProgramme } from '../db/repositories/programmes.js';
import { insertRound, RoundExistsError } from '../db/repositories/round.js';
import { formatShanghai, shanghaiDayOf } from '../domain/calendar/index.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import { roundTitleZh, type ProgrammeKey, type RoundRuleOverrides } from '../domain/programmes.js';
import { roundWorkflowId } from '../domain/workflow-ids.js';
import type { RoundInput } from '../workflows/round.messages.js';
import { LaunchRefused, reservedBy, type Launch, type LaunchedBy } from './launch.js';

/** What a round's launch asks for (SPEC §1): its opening, optional deadline and rule overrides. */
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

/**
 * Reserves a programme's yearly round (申报批次, SPEC §1): its row (unique per programme and year) and the
 * `round.launch` audit row, in the caller's transaction. Deadlines are computed later, by the round's activities.
 *
 * @throws LaunchRefused `PROGRAMME_NOT_FOUND`, `PROGRAMME_NOT_OPEN_FOR_ROUNDS` (the showcase track),
 *   `DEADLINE_INVALID` (a deadline day not after the opening day, Asia/Shanghai), `ROUND_EXISTS`.
 */
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
      ...(req.compression ? { launchedAt: new Date(req.compression.origin) } : {}),
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
