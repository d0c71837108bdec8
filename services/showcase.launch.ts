import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { insertShowcase } from '../db/repositories/showcase.launch.js';
import type { TimeCompression } from '../domain/compressed-time.js';
import { showcaseWorkflowId } from '../domain/workflow-ids.js';
import type { ShowcaseInput } from '../workflows/showcase.messages.js';
import { LaunchRefused, type Launch, type LaunchedBy } from './launch.js';

/** What the year's showcase launch asks for (SPEC §6). */
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
