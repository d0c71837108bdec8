import { log } from '@temporalio/activity';
import { recordAudit } from '../db/repositories/audit.js';
import type { ProgrammeKey } from '../domain/programmes.js';
import { reserveEvaluation } from '../services/evaluation.launch.js';
import { LaunchRefused, type Launch } from '../services/launch.js';
import { reserveRound } from '../services/round.launch.js';
import type { ActivityDeps } from './deps.js';

export type LaunchKind = 'round' | 'evaluation';

export interface ScheduledLaunchInput {
  scheduleId: string;
  kind: LaunchKind;
  programme: ProgrammeKey;
  year: number;
  /** The Schedule's time for this action (or the time it was triggered by hand), ISO. */
  scheduledAt: string;
  timeScale?: number | undefined;
  /** `<workflowId>/<runId>` of the launcher run: a retry of its activity is recognised by it. */
  launcherWorkflowId: string;
}

export type ScheduledLaunch =
  { outcome: 'reserved'; launch: Launch<unknown> } | { outcome: 'refused'; code: string; message: string };

/** The launcher a Schedule runs: it reserves the year's round or evaluation as a manual launch would. */
export function createScheduleActivities({ db }: ActivityDeps) {
  return {
    /**
     * Reserves a scheduled launch exactly as a manual one is reserved (the same row, the same uniqueness): a
     * year already launched, by hand or by an earlier trigger, is refused and the refusal audited.
     */
    async reserveScheduledLaunch(input: ScheduledLaunchInput): Promise<ScheduledLaunch> {
      const by = {
        actor: `schedule:${input.scheduleId}`,
        role: 'system' as const,
        workflowId: input.launcherWorkflowId,
      };
      const compression =
        input.timeScale && input.timeScale !== 1 ? { origin: input.scheduledAt, scale: input.timeScale } : undefined;
      try {
        const launch = await db.transaction<Launch<unknown>>((trx) =>
          input.kind === 'round'
            ? reserveRound(
                trx,
                { programme: input.programme, year: input.year, opensAt: new Date(input.scheduledAt), compression },
                by,
              )
            : reserveEvaluation(trx, { programme: input.programme, year: input.year, compression }, by),
        );
        log.info('scheduled launch reserved', {
          scheduleId: input.scheduleId,
          kind: input.kind,
          programme: input.programme,
          year: input.year,
          launchedWorkflowId: launch.workflowId,
        });
        return { outcome: 'reserved', launch };
      } catch (err) {
        if (!(err instanceof LaunchRefused)) throw err;
        await recordAudit(db, {
          actor: by.actor,
          role: 'system',
          action: 'schedule.launch_refused',
          subjectKind: 'schedule',
          subjectId: input.scheduleId,
          reason: err.message,
          details: { code: err.code, kind: input.kind, programme: input.programme, year: input.year },
          workflowId: input.launcherWorkflowId.split('/')[0],
        });
        log.info('scheduled launch refused', {
          scheduleId: input.scheduleId,
          kind: input.kind,
          programme: input.programme,
          year: input.year,
          code: err.code,
        });
        return { outcome: 'refused', code: err.code, message: err.message };
      }
    },
  };
}
