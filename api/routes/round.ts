import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { findRound } from '../../db/repositories/round.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { cancelRoundUpdate, extendDeadlineUpdate, getRoundQuery } from '../../workflows/round.messages.js';
import { countByStatus, countInstitutionsWithSubmission } from '../../db/repositories/round.applications.js';
import { emailCountsByPurpose } from '../../db/repositories/outbox.js';
import { AppError } from '../errors.js';
import { updateWorkflow } from '../workflow-calls.js';
import { requestIdOf } from '../request.js';
import { DaySchema, RoundIdSchema, trimmedText } from '../schemas.js';
import { z, type ApiRoutes } from '../route.js';

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
    rulesVersion: z.number().int().openapi({
      description:
        '本批次启动时所依据的项目类别规则版本；此后规则的修改不影响本批次（见 GET /api/programmes/{programme}/rules/versions）',
    }),
    ruleAdjustments: z.record(z.string(), z.unknown()).openapi({
      description: '启动时对该规则版本的调整（限报数、申报工作日数、提醒、推荐名额、公示工作日数）；空对象为未调整',
    }),
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

/** The path parameters of `/api/rounds/:roundId…`, documented with an example. */
const RoundParams = z.object({ roundId: RoundIdSchema.openapi({ example: 'round-demo_college-2027' }) });

export interface RoundRouteDeps {
  db: Db;
  temporal: Client;
  clock: Clock;
}

export function roundRoutes(routes: ApiRoutes, deps: RoundRouteDeps): void {
  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId',
    summary: '查看申报批次（数据库记录与流程实时状态）',
    tags: ['申报批次'],
    access: 'authenticated',
    params: RoundParams,
    responses: { 200: { description: '申报批次', schema: RoundSchema } },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params }) {
      const round = await findRound(deps.db, params.roundId);
      if (!round) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      return { status: 200, body: { ...roundView(round), workflow: await liveState(deps.temporal, params.roundId) } };
    },
  });
  const ended = () => new AppError('CALL_CLOSED', '该申报批次的流程已结束');

  routes.add({
    method: 'put',
    path: '/api/rounds/:roundId/deadline',
    summary: '延长申报截止时间',
    description: '新截止日须晚于当前截止时间，且申报尚未截止；所有申报对象将收到延期通知，提醒按新截止时间发送。',
    tags: ['申报批次'],
    access: ['staff'],
    params: RoundParams,
    body: z
      .object({
        deadline: DaySchema.openapi({
          title: '截止日',
          description: '新的截止日（当日 24:00 截止）',
          example: '2027-04-09',
        }),
        reason: trimmedText(2, 500, '请说明延期原因').openapi({ title: '延期原因' }),
      })
      .strict(),
    responses: {
      200: {
        description: '已延期',
        schema: z.object({
          roundId: z.string(),
          deadline: z.object({
            day: z.string(),
            at: z.string(),
            estimated: z.boolean(),
            calendarVersion: z.number().int(),
          }),
        }),
      },
    },
    errors: ['ROUND_NOT_FOUND', 'DEADLINE_NOT_LATER', 'CALL_CLOSED', 'ROUND_CANCELLED'],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      if (!(await findRound(deps.db, params.roundId))) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      const deadline = await updateWorkflow(
        deps.temporal,
        params.roundId,
        extendDeadlineUpdate,
        {
          deadlineDay: body.deadline,
          reason: body.reason,
          receivedAt: receipt.toISOString(),
          actor: principal!.actor,
          requestId: requestIdOf(req),
        },
        { updateId, whenEnded: ended },
      );
      return {
        status: 200,
        body: {
          roundId: params.roundId,
          deadline: {
            day: deadline.day,
            at: deadline.at,
            estimated: deadline.estimated,
            calendarVersion: deadline.calendarVersion,
          },
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/rounds/:roundId/cancel',
    summary: '撤销误启动的申报批次（须说明原因，通知所有申报对象）',
    tags: ['申报批次'],
    access: ['staff'],
    params: RoundParams,
    body: z.object({ reason: trimmedText(2, 500, '请说明撤销原因').openapi({ title: '撤销原因' }) }).strict(),
    responses: { 200: { description: '已撤销', schema: z.object({ roundId: z.string(), stage: z.string() }) } },
    errors: ['ROUND_NOT_FOUND', 'ROUND_NOT_CANCELLABLE', 'ROUND_CANCELLED'],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      if (!(await findRound(deps.db, params.roundId))) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      const result = await updateWorkflow(
        deps.temporal,
        params.roundId,
        cancelRoundUpdate,
        {
          reason: body.reason,
          receivedAt: receipt.toISOString(),
          actor: principal!.actor,
          requestId: requestIdOf(req),
        },
        { updateId, whenEnded: () => new AppError('ROUND_NOT_CANCELLABLE', '该申报批次的流程已结束') },
      );
      return { status: 200, body: { roundId: params.roundId, stage: result.stage } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/progress',
    summary: '申报批次进度：各状态申报数、已提交单位数、邮件发送情况',
    tags: ['申报批次'],
    access: ['staff', 'ops'],
    params: RoundParams,
    responses: {
      200: {
        description: '进度',
        schema: z
          .object({
            roundId: z.string(),
            stage: z.string(),
            deadline: z.string().nullable(),
            applications: z.record(z.string(), z.number().int()),
            institutionsWithSubmission: z.number().int(),
            emails: z.record(z.string(), z.object({ sent: z.number().int(), pending: z.number().int() })),
            upcomingReminders: z.array(z.object({ k: z.number().int(), day: z.string(), at: z.string() })),
          })
          .openapi('RoundProgress'),
      },
    },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params }) {
      const round = await findRound(deps.db, params.roundId);
      if (!round) throw new AppError('ROUND_NOT_FOUND', params.roundId);
      const [applications, institutionsWithSubmission, emails, live] = await Promise.all([
        countByStatus(deps.db, round.id),
        countInstitutionsWithSubmission(deps.db, round.id),
        emailCountsByPurpose(deps.db, round.id),
        liveState(deps.temporal, round.id),
      ]);
      return {
        status: 200,
        body: {
          roundId: round.id,
          stage: live?.stage ?? round.status,
          deadline: round.deadlineAt ? formatShanghai(round.deadlineAt) : null,
          applications,
          institutionsWithSubmission,
          emails,
          upcomingReminders: live?.upcomingReminders ?? [],
        },
      };
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
    rulesVersion: round.rulesVersion,
    ruleAdjustments: round.ruleAdjustments as Record<string, unknown>,
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
    upcomingReminders: live?.upcomingReminders ?? [],
  };
}
