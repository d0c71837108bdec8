import {
  MONTHS,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { findProgramme } from '../../db/repositories/programmes.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import type { Config } from '../../platform/config.js';
import type { LauncherInput, LauncherWorkflow } from '../../workflows/schedule.messages.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { ProgrammeKeySchema, trimmedText } from '../schemas.js';
import { requestedTimeScale, timeScaleField } from '../time-scale.js';
import { LAUNCH_SCHEDULE_PREFIX, launchScheduleId, launcherWorkflowId } from '../../domain/workflow-ids.js';

export interface ScheduleRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
}

const kinds = ['round', 'evaluation'] as const;
const kindZh = { round: '年度申报', evaluation: '年度动态评价' } as const;

const ScheduleParams = z.object({
  scheduleId: z
    .string()
    .regex(/^launch-(round|evaluation)-[a-z_]+$/)
    .openapi({ title: '定时计划编号', example: 'launch-evaluation-demo_college' }),
});

const ScheduleSchema = z
  .object({
    scheduleId: z.string().openapi({ example: 'launch-evaluation-demo_college' }),
    kind: z.enum(kinds),
    programme: z.string(),
    title: z.string().openapi({ example: '每年3月1日 09:00 启动产教融合示范学院年度动态评价' }),
    paused: z.boolean(),
    note: z.string().nullable(),
    nextRuns: z.array(z.string()).openapi({ description: '接下来的启动时间（北京时间）' }),
    recentLaunches: z.array(z.object({ scheduledAt: z.string(), launcherWorkflowId: z.string() })),
    actionsTaken: z.number().int(),
  })
  .openapi('Schedule');

/**
 * Why a yearly month/day is refused, in zh-CN, or `undefined` when the day comes every year. A Schedule fires
 * only on days that exist (Temporal's calendar spec skips the years without the day), so a day that some years
 * lack would silently skip those years' launches: 2月29日 launches once in four years. Checked against a common
 * year (365 days).
 *
 * @param month 1–12
 * @param day 1–31
 */
export function yearlyDayProblem(month: number, day: number): string | undefined {
  const daysInCommonYear = new Date(Date.UTC(2023, month, 0)).getUTCDate();
  if (day <= daysInCommonYear) return undefined;
  if (month === 2 && day === 29)
    return '2月29日并非每年都有（平年没有），每四年中有三年不会启动；请选择每年都有的日期，如2月28日或3月1日';
  return `${month}月没有${day}日，请选择每年都有的日期（${month}月至多${daysInCommonYear}日）`;
}

/** True when the Schedule's calendar names a day some years lack (29 February, created before days were checked). */
function firesOnlyInSomeYears(d: ScheduleDescription): boolean {
  return (d.spec.calendars ?? []).some((c) =>
    c.month.some((m) =>
      c.dayOfMonth.some(
        (r) =>
          m.start === m.end &&
          r.start === r.end &&
          yearlyDayProblem(MONTHS.indexOf(m.start) + 1, r.start) !== undefined,
      ),
    ),
  );
}

function view(d: ScheduleDescription) {
  const memo = (d.memo ?? {}) as { kind?: (typeof kinds)[number]; programme?: string; title?: string };
  const title = memo.title ?? d.scheduleId;
  return {
    scheduleId: d.scheduleId,
    kind: memo.kind ?? 'round',
    programme: memo.programme ?? '',
    // A Schedule created before days were checked says so: it launches only in the years that have the day.
    title: firesOnlyInSomeYears(d) ? `${title}（该日期并非每年都有，仅在有该日期的年份启动，见 nextRuns）` : title,
    paused: d.state.paused,
    note: d.state.note || null,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map(formatShanghai),
    recentLaunches: d.info.recentActions.map((a) => ({
      scheduledAt: formatShanghai(a.scheduledAt),
      launcherWorkflowId: a.action.workflow.workflowId,
    })),
    actionsTaken: d.info.numActionsTaken,
  };
}

/**
 * A schedule's body for one month, whose days every year has run to `last` (28 in February). The body is a
 * discriminated union on `month` of the twelve, so the OpenAPI document says which days each month allows; the
 * 422 says why in `yearlyDayProblem`'s words.
 */
function scheduleFor<const M extends number>(month: M, last: number) {
  return z
    .object({
      kind: z.enum(kinds).openapi({ title: '计划类别', description: 'round 年度申报；evaluation 年度动态评价' }),
      programme: ProgrammeKeySchema.openapi({ example: 'demo_college' }),
      month: z.literal(month).openapi({ title: '月份' }),
      day: z
        .number()
        .int()
        .min(1)
        .max(last, { error: (issue) => yearlyDayProblem(month, Number(issue.input)) })
        .openapi({
          title: '日期',
          example: 1,
          description: `${month}月：1—${last}日（只接受每年都有的日期，不接受2月29日）`,
        }),
      hour: z
        .number()
        .int()
        .min(0)
        .max(23)
        .default(9)
        .openapi({ title: '时刻（时）', description: '北京时间（默认 9 时）' }),
      timeScale: timeScaleField({ description: '启动的流程使用压缩时间（仅用于演示与测试；生产环境拒绝）' }),
    })
    .strict();
}

const CreateScheduleBody = z
  .discriminatedUnion(
    'month',
    [
      scheduleFor(1, 31),
      scheduleFor(2, 28),
      scheduleFor(3, 31),
      scheduleFor(4, 30),
      scheduleFor(5, 31),
      scheduleFor(6, 30),
      scheduleFor(7, 31),
      scheduleFor(8, 31),
      scheduleFor(9, 30),
      scheduleFor(10, 31),
      scheduleFor(11, 30),
      scheduleFor(12, 31),
    ],
    { error: '月份应为 1—12 的整数' },
  )
  .openapi('CreateSchedule');

export function scheduleRoutes(routes: ApiRoutes, deps: ScheduleRouteDeps): void {
  const { db, temporal } = deps;

  const describe = async (scheduleId: string) => {
    try {
      return await temporal.schedule.getHandle(scheduleId).describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new AppError('SCHEDULE_NOT_FOUND', scheduleId);
      throw err;
    }
  };

  routes.add({
    method: 'post',
    path: '/api/schedules',
    summary: '创建年度定时计划：每年在指定日期自动启动申报批次或动态评价',
    description:
      '以 Temporal Schedule 实现，时区为 Asia/Shanghai。到期时启动一个小的启动流程，由它按计划时间取年度，' +
      '与手动启动完全相同地启动 `round-<programme>-<year>` 或 `evaluation-<programme>-<year>`：同一年度已启动（手动或定时）则不再启动，并记录原因。',
    tags: ['定时计划'],
    access: ['staff'],
    body: CreateScheduleBody.openapi('CreateSchedule'),
    responses: { 201: { description: '已创建', schema: ScheduleSchema } },
    errors: [
      'SCHEDULE_EXISTS',
      'NOT_DIRECTORY_PROGRAMME',
      'PROGRAMME_NOT_OPEN_FOR_ROUNDS',
      'COMPRESSED_TIME_FORBIDDEN',
    ],
    async handler({ body, principal, req }) {
      const timeScale = requestedTimeScale(body.timeScale, deps.config.production);
      const programme = await findProgramme(db, body.programme);
      if (!programme) throw new AppError('PROGRAMME_NOT_FOUND', body.programme);
      if (body.kind === 'evaluation' && !programme.entersDirectory) {
        throw new AppError('NOT_DIRECTORY_PROGRAMME', `${programme.nameZh}不实行名录管理，没有年度动态评价`);
      }
      if (body.kind === 'round' && programme.track === 'showcase') {
        throw new AppError('PROGRAMME_NOT_OPEN_FOR_ROUNDS', '典型案例通过年度成果推广（showcase）征集');
      }
      const scheduleId = launchScheduleId(body.kind, body.programme);
      const title = `每年${body.month}月${body.day}日 ${String(body.hour).padStart(2, '0')}:00 启动${programme.nameZh}${kindZh[body.kind]}`;
      const input: LauncherInput = {
        scheduleId,
        kind: body.kind,
        programme: body.programme,
        ...(timeScale ? { timeScale } : {}),
      };
      try {
        await temporal.schedule.create<LauncherWorkflow>({
          scheduleId,
          spec: {
            calendars: [{ month: MONTHS[body.month - 1]!, dayOfMonth: body.day, hour: body.hour, minute: 0 }],
            timezone: 'Asia/Shanghai',
          },
          action: {
            type: 'startWorkflow',
            workflowType: 'launcherWorkflow',
            // The Schedule appends the scheduled time to this id.
            workflowId: launcherWorkflowId(scheduleId),
            taskQueue: deps.config.temporal.taskQueue,
            args: [input],
          },
          // Every trigger runs its launcher; the launch's own uniqueness decides whether anything starts.
          policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 day' },
          memo: { kind: body.kind, programme: body.programme, title },
        });
      } catch (err) {
        if (err instanceof ScheduleAlreadyRunning) {
          throw new AppError('SCHEDULE_EXISTS', `${scheduleId} 已存在；每个项目类别每类只设一个定时计划`);
        }
        throw err;
      }
      await recordAudit(db, {
        actor: principal!.actor,
        role: 'staff',
        action: 'schedule.create',
        subjectKind: 'schedule',
        subjectId: scheduleId,
        details: { ...body },
        requestId: requestIdOf(req),
      });
      return {
        status: 201,
        headers: { Location: `/api/schedules/${scheduleId}` },
        body: view(await describe(scheduleId)),
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/schedules',
    summary: '定时计划列表',
    tags: ['定时计划'],
    access: ['staff', 'ops'],
    responses: {
      200: { description: '定时计划', schema: z.object({ items: z.array(ScheduleSchema) }) },
    },
    async handler() {
      const ids: string[] = [];
      for await (const s of temporal.schedule.list()) {
        if (s.scheduleId.startsWith(LAUNCH_SCHEDULE_PREFIX)) ids.push(s.scheduleId);
      }
      const items = [];
      for (const id of ids.sort()) {
        try {
          items.push(view(await temporal.schedule.getHandle(id).describe()));
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
      return { status: 200, body: { items } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/schedules/:scheduleId',
    summary: '查看定时计划',
    tags: ['定时计划'],
    access: ['staff', 'ops'],
    params: ScheduleParams,
    responses: { 200: { description: '定时计划', schema: ScheduleSchema } },
    errors: ['SCHEDULE_NOT_FOUND'],
    async handler({ params }) {
      return { status: 200, body: view(await describe(params.scheduleId)) };
    },
  });

  const operations = [
    { op: 'pause', summary: '暂停定时计划（须说明理由）', needsReason: true },
    { op: 'resume', summary: '恢复定时计划', needsReason: false },
    { op: 'trigger', summary: '立即执行一次（同一年度已启动的不会重复启动）', needsReason: false },
  ] as const;
  for (const { op, summary, needsReason } of operations) {
    routes.add({
      method: 'post',
      path: `/api/schedules/:scheduleId/${op}`,
      summary,
      tags: ['定时计划'],
      access: ['staff'],
      params: ScheduleParams,
      body: needsReason
        ? z.object({ reason: trimmedText(2, 500, '请说明理由').openapi({ title: '理由' }) }).strict()
        : z
            .object({ reason: z.string().trim().max(500).optional().openapi({ title: '理由' }) })
            .strict()
            .optional(),
      responses: { 200: { description: '已执行', schema: ScheduleSchema } },
      errors: ['SCHEDULE_NOT_FOUND'],
      async handler({ params, body, principal, req }) {
        await describe(params.scheduleId);
        const handle = temporal.schedule.getHandle(params.scheduleId);
        const reason = body?.reason;
        const note = `${principal!.actor}${reason ? `：${reason}` : ''}`;
        if (op === 'pause') await handle.pause(note);
        else if (op === 'resume') await handle.unpause(note);
        else await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        await recordAudit(db, {
          actor: principal!.actor,
          role: 'staff',
          action: `schedule.${op}`,
          subjectKind: 'schedule',
          subjectId: params.scheduleId,
          reason,
          details: {},
          requestId: requestIdOf(req),
        });
        return { status: 200, body: view(await describe(params.scheduleId)) };
      },
    });
  }
}
