import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
} from '@temporalio/client';
import type { Config } from '../../platform/config.js';
import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { findProgramme } from '../../db/repositories/programmes.js';
import { findRound, insertRound, RoundExistsError } from '../../db/repositories/rounds.js';
import { formatShanghai, isDay, shanghaiDayOf } from '../../domain/calendar/index.js';
import { programmeKeys, roundTitleZh, roundWorkflowId, type ProgrammeKey } from '../../domain/programmes.js';
import { getRoundQuery, type RoundInput, type roundWorkflow } from '../../workflows/round.js';
import { ProgrammeKey as ProgrammeSA, RoundYearKey, StageKey } from '../../workflows/search-attributes.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';

const LaunchRoundSchema = z
  .object({
    programme: z.enum(programmeKeys as [ProgrammeKey, ...ProgrammeKey[]]).openapi({ example: 'demo_college' }),
    year: z.number().int().min(2022).max(2099).openapi({ example: 2027 }),
    opensAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: '申报开始时间（ISO 8601）；缺省为立即开始', example: '2027-03-01T09:00:00+08:00' }),
    deadline: z
      .string()
      .refine(isDay, { message: '应为有效日期 YYYY-MM-DD' })
      .optional()
      .openapi({ description: '截止日（当日 24:00 截止）；缺省按该项目类别的申报工作日数计算', example: '2027-03-29' }),
    timeScale: z
      .number()
      .min(1)
      .max(100_000_000)
      .optional()
      .openapi({ description: '压缩时间倍数（仅用于演示与端到端测试；生产环境拒绝）', example: 86400 }),
  })
  .strict()
  .openapi('LaunchRound');

const RoundSchema = z
  .object({
    roundId: z.string().openapi({ example: 'round-demo_college-2027' }),
    programme: z.string(),
    year: z.number().int(),
    titleZh: z.string().openapi({ example: '2027年度产教融合示范学院申报' }),
    status: z.string(),
    opensAt: z.string(),
    deadline: z
      .object({ day: z.string(), at: z.string(), estimated: z.boolean(), calendarVersion: z.number().int() })
      .nullable()
      .openapi({ description: '截止时间；流程计算前为 null' }),
    launchedBy: z.string(),
    launchedAt: z.string(),
    closedAt: z.string().nullable(),
    compressedTime: z.number().nullable(),
    workflow: z
      .object({
        status: z.string().openapi({ example: 'RUNNING' }),
        runId: z.string(),
        stage: z.string().nullable(),
        eligibleInstitutions: z.number().int().nullable(),
        noticesSent: z.number().int().nullable(),
      })
      .nullable()
      .openapi({ description: 'Temporal 中的流程状态；历史已过保留期时为 null' }),
  })
  .openapi('Round');

const LaunchedSchema = z
  .object({ roundId: z.string(), runId: z.string(), titleZh: z.string(), opensAt: z.string() })
  .openapi('RoundLaunched');

export interface RoundRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
}

export function roundRoutes(routes: ApiRoutes, deps: RoundRouteDeps): void {
  routes.add({
    method: 'post',
    path: '/api/rounds',
    summary: '启动某项目类别的年度申报批次',
    description:
      '启动流程 `round-<programme>-<year>`。同一项目类别同一年度只能启动一次（数据库唯一约束与 Temporal 流程 ID 双重保证）。',
    tags: ['申报批次'],
    access: ['staff'],
    body: LaunchRoundSchema,
    responses: { 201: { description: '已启动', schema: LaunchedSchema } },
    errors: ['ROUND_EXISTS', 'PROGRAMME_NOT_OPEN_FOR_ROUNDS', 'COMPRESSED_TIME_FORBIDDEN', 'DEADLINE_INVALID'],
    async handler({ body, principal, req }) {
      if (body.timeScale !== undefined && body.timeScale !== 1 && deps.config.production) {
        throw new AppError('COMPRESSED_TIME_FORBIDDEN', '压缩时间仅用于演示与测试');
      }
      const programme = await findProgramme(deps.db, body.programme);
      if (!programme) throw new AppError('PROGRAMME_NOT_FOUND', body.programme);
      if (programme.track === 'showcase') {
        throw new AppError('PROGRAMME_NOT_OPEN_FOR_ROUNDS', '典型案例通过年度成果推广（showcase）征集');
      }
      const launchedAt = new Date();
      const opensAt = body.opensAt ? new Date(body.opensAt) : launchedAt;
      if (body.deadline && body.deadline <= shanghaiDayOf(opensAt)) {
        throw new AppError('DEADLINE_INVALID', `截止日 ${body.deadline} 须晚于申报开始日 ${shanghaiDayOf(opensAt)}`);
      }
      const roundId = roundWorkflowId(body.programme, body.year);
      const titleZh = roundTitleZh(programme.nameZh, body.year);
      const input: RoundInput = {
        roundId,
        programme: body.programme,
        year: body.year,
        opensAt: formatShanghai(opensAt),
        deadlineDay: body.deadline,
        launchedBy: principal!.actor,
        ...(body.timeScale && body.timeScale !== 1
          ? { compression: { origin: launchedAt.toISOString(), scale: body.timeScale } }
          : {}),
      };
      const roundExists = () =>
        new AppError('ROUND_EXISTS', `${titleZh}已启动（${roundId}），同一项目类别每年只能启动一次`, { roundId });

      // The row and the workflow are created together: the unique row refuses a concurrent or later launch
      // (even after Temporal's retention has dropped the history), and the transaction is rolled back if
      // Temporal refuses the start.
      const runId = await deps.db
        .transaction(async (trx) => {
          await insertRound(trx, {
            id: roundId,
            programme: body.programme,
            year: body.year,
            titleZh,
            opensAt,
            deadlineDay: body.deadline,
            timeScale: input.compression?.scale,
            launchedBy: principal!.actor,
          });
          await recordAudit(trx, {
            actor: principal!.actor,
            role: 'staff',
            action: 'round.launch',
            subjectKind: 'round',
            subjectId: roundId,
            details: {
              programme: body.programme,
              year: body.year,
              opensAt: input.opensAt,
              deadline: body.deadline ?? null,
              timeScale: body.timeScale ?? null,
            },
            requestId: requestIdOf(req),
            workflowId: roundId,
          });
          const handle = await deps.temporal.workflow.start<typeof roundWorkflow>('roundWorkflow', {
            workflowId: roundId,
            taskQueue: deps.config.temporal.taskQueue,
            args: [input],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            memo: { title: titleZh },
            typedSearchAttributes: [
              { key: ProgrammeSA, value: body.programme },
              { key: RoundYearKey, value: body.year },
              { key: StageKey, value: 'preparing' },
            ],
          });
          return handle.firstExecutionRunId;
        })
        .catch((err: unknown) => {
          if (err instanceof RoundExistsError || err instanceof WorkflowExecutionAlreadyStartedError)
            throw roundExists();
          throw err;
        });
      return {
        status: 201,
        headers: { Location: `/api/rounds/${roundId}` },
        body: { roundId, runId, titleZh, opensAt: input.opensAt },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId',
    summary: '查看申报批次（数据库记录与流程实时状态）',
    tags: ['申报批次'],
    access: 'authenticated',
    params: z.object({
      roundId: z
        .string()
        .regex(/^round-[a-z_]+-\d{4}$/)
        .openapi({ example: 'round-demo_college-2027' }),
    }),
    responses: { 200: { description: '申报批次', schema: RoundSchema } },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params }) {
      const round = await findRound(deps.db, params.roundId);
      if (!round) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      return { status: 200, body: { ...roundView(round), workflow: await liveState(deps.temporal, params.roundId) } };
    },
  });
}

function roundView(round: NonNullable<Awaited<ReturnType<typeof findRound>>>) {
  return {
    roundId: round.id,
    programme: round.programme,
    year: round.year,
    titleZh: round.titleZh,
    status: round.status,
    opensAt: formatShanghai(round.opensAt),
    deadline:
      round.deadlineDay && round.deadlineAt && round.calendarVersion !== null
        ? {
            day: round.deadlineDay,
            at: formatShanghai(round.deadlineAt),
            estimated: round.deadlineEstimated ?? false,
            calendarVersion: round.calendarVersion,
          }
        : null,
    launchedBy: round.launchedBy,
    launchedAt: formatShanghai(round.launchedAt),
    closedAt: round.closedAt ? formatShanghai(round.closedAt) : null,
    compressedTime: round.timeScale,
  };
}

/** The workflow's own view, when Temporal still has it. A query needs a worker, so it is bounded in time. */
async function liveState(temporal: Client, roundId: string) {
  const handle = temporal.workflow.getHandle(roundId);
  let description;
  try {
    description = await handle.describe();
  } catch {
    return null;
  }
  const live = await temporal.connection
    .withDeadline(Date.now() + 3_000, () => handle.query(getRoundQuery))
    .catch(() => undefined);
  return {
    status: description.status.name,
    runId: description.runId,
    stage: live?.stage ?? null,
    eligibleInstitutions: live?.eligibleInstitutions ?? null,
    noticesSent: live?.noticesSent ?? null,
  };
}
