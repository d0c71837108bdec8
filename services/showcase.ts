import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { insertShowcase } from '../db/repositories/showcase.launch.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import { showcaseWorkflowId } from '../domain/workflow-ids.js';
import type { ShowcaseInput, ShowcaseWorkflow } from '../workflows/showcase.messages.js';
import { ProgrammeKey, RoundYearKey, StageKey } from '../workflows/search-attributes.js';

export interface ShowcaseLaunchRequest {
  year: number;
  quota: number;
  compression: TimeCompression | undefined;
  /** The time scale as asked for (null when none), recorded in the audit row. */
  askedTimeScale: number | null;
}

/**
 * Launches the year's showcase (typical-case collection): its row, the `showcase.launch` audit row and the
 * start of `showcaseWorkflow` (`showcase-<year>`), in one transaction — if Temporal refuses the start, nothing
 * is kept. Returns the showcase id and title, or `exists` (nothing written) when the year's showcase exists.
 */
export async function launchShowcase(
  db: Db,
  temporal: Client,
  taskQueue: string,
  req: ShowcaseLaunchRequest,
  by: { actor: string; requestId: string | undefined },
): Promise<{ showcaseId: string; title: string; exists: boolean }> {
  const showcaseId = showcaseWorkflowId(req.year);
  const title = `${req.year}年度产教融合典型案例`;
  const { compression } = req;
  return db.transaction(async (trx) => {
    const inserted = await insertShowcase(trx, {
      id: showcaseId,
      year: req.year,
      titleZh: title,
      quota: req.quota,
      launchedBy: by.actor,
      compression,
    });
    if (!inserted) return { showcaseId, title, exists: true };
    await recordAudit(trx, {
      actor: by.actor,
      role: 'staff',
      action: 'showcase.launch',
      subjectKind: 'showcase',
      subjectId: showcaseId,
      details: { year: req.year, quota: req.quota, timeScale: req.askedTimeScale },
      requestId: by.requestId,
      workflowId: showcaseId,
    });
    const input: ShowcaseInput = { showcaseId, year: req.year, ...(compression ? { compression } : {}) };
    await temporal.workflow.start<ShowcaseWorkflow>('showcaseWorkflow', {
      workflowId: showcaseId,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      memo: { title },
      typedSearchAttributes: [
        { key: ProgrammeKey, value: 'typical_case' },
        { key: RoundYearKey, value: req.year },
        { key: StageKey, value: 'showcase_opening' },
      ],
    });
    return { showcaseId, title, exists: false };
  });
}
