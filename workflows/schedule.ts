import {
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { shanghaiDayOf, yearOf } from '../domain/calendar/days.js';
import { RETRY } from './budget.js';
import { ProgrammeKey, RoundYearKey, ScheduledStartTimeKey, StageKey } from './search-attributes.js';
import { type LauncherInput, type LauncherResult } from './schedule.messages.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: RETRY });

/**
 * What a yearly Schedule starts. A Schedule's arguments are fixed and it appends the scheduled time to the
 * ids it starts, so it cannot start `round-<programme>-<year>` itself: this small workflow takes the year
 * from its scheduled time (Asia/Shanghai), reserves the launch exactly as a manual launch does (the same
 * database row decides, so a manual and a scheduled launch never both run) and starts the round or
 * evaluation as an abandoned child, which outlives it.
 */
export async function launcherWorkflow(input: LauncherInput): Promise<LauncherResult> {
  const info = workflowInfo();
  // Triggered by hand, a Schedule sets the trigger time here; started any other way, the run's start time.
  const scheduledAt = info.typedSearchAttributes.get(ScheduledStartTimeKey) ?? info.runStartTime;
  const year = yearOf(shanghaiDayOf(scheduledAt));
  const reserved = await acts.reserveScheduledLaunch({
    scheduleId: input.scheduleId,
    kind: input.kind,
    programme: input.programme,
    year,
    scheduledAt: scheduledAt.toISOString(),
    timeScale: input.timeScale,
    // A Schedule names its runs by the second: two triggers in one second share a workflow id, not a run.
    launcherWorkflowId: `${info.workflowId}/${info.runId}`,
  });
  if (reserved.outcome === 'refused') return { ...reserved, year };
  const { launch } = reserved;
  try {
    await startChild(launch.workflowType, {
      workflowId: launch.workflowId,
      args: [launch.input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // As a manual launch: the reserved row decided; Temporal keeps at most one open run.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { title: launch.titleZh, launcher: `${info.workflowId}/${info.runId}` },
      typedSearchAttributes: [
        { key: ProgrammeKey, value: launch.programme },
        { key: RoundYearKey, value: launch.year },
        { key: StageKey, value: launch.stage },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { outcome: 'refused', code: 'ALREADY_STARTED', message: `${launch.workflowId} 已在运行`, year };
  }
  return { outcome: 'started', workflowId: launch.workflowId, year };
}
