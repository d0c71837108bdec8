import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import type { Logger } from '../../platform/logger.js';
import { calendarChangedSignal } from '../../workflows/round.messages.js';
import { CalendarInputError, type CalendarRepository } from '../../db/repositories/calendar.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { openRoundIds } from '../../db/repositories/round.views.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { DaySchema, queryInteger, trimmedText } from '../schemas.js';

const PeriodSchema = z
  .object({
    firstDay: z.string().openapi({ example: '2026-09-30' }),
    lastDay: z.string().openapi({ example: '2026-10-12' }),
    endsAt: z.string().openapi({ example: '2026-10-13T00:00:00+08:00', description: 'lastDay 的 24:00（北京时间）' }),
    estimated: z.boolean().openapi({ description: '涉及的年份尚无官方节假日安排时为 true（预计）' }),
    calendarVersion: z.number().int(),
  })
  .openapi('CalendarPeriod');

const ReminderSchema = z
  .object({
    day: z.string().openapi({ example: '2026-10-08' }),
    at: z.string().openapi({ example: '2026-10-08T09:00:00+08:00' }),
    estimated: z.boolean(),
    calendarVersion: z.number().int(),
  })
  .openapi('CalendarReminder');

const ArrangementDaySchema = z.object({
  date: DaySchema.openapi({ title: '日期' }),
  name: trimmedText(1, 40).openapi({ title: '名称' }),
});
const ArrangementInputSchema = z
  .object({
    holidays: z.array(ArrangementDaySchema).max(60).openapi({ title: '放假日' }),
    workdays: z.array(ArrangementDaySchema).max(30).openapi({ title: '调休上班日' }),
    reference: z
      .string()
      .trim()
      .max(200)
      .optional()
      .openapi({ title: '依据文件', example: '国务院办公厅关于2027年部分节假日安排的通知' }),
  })
  .strict()
  .openapi('CalendarArrangementInput');

const ArrangementSchema = z
  .object({
    year: z.number().int(),
    source: z.string(),
    estimated: z.boolean(),
    calendarVersion: z.number().int(),
    days: z.array(z.object({ date: z.string(), kind: z.enum(['holiday', 'workday']), name: z.string() })),
  })
  .openapi('CalendarArrangement');

const YearParams = z.object({ year: queryInteger({ min: 1901, max: 2099 }).openapi({ title: '年份' }) });

/**
 * Runs a count on the working calendar; a count that leaves the years it computes (1901–2099, the lunar data of
 * `domain/calendar`: a RangeError in English) is refused with 422 CALENDAR_YEAR_UNSUPPORTED and `detail`, a
 * zh-CN sentence saying what the caller asked for (`从 2099-12-20 起算 30 个工作日`).
 */
function calendarMath<T>(asked: string, compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    if (err instanceof RangeError) {
      throw new AppError(
        'CALENDAR_YEAR_UNSUPPORTED',
        `${asked}超出了可计算的年份（1901—2099 年），请调整日期或工作日数`,
      );
    }
    throw err;
  }
}

export interface CalendarRouteDeps {
  db: Db;
  calendar: CalendarRepository;
  temporal: Client;
  logger: Logger;
}

export function calendarRoutes(routes: ApiRoutes, deps: CalendarRouteDeps): void {
  routes.add({
    method: 'get',
    path: '/api/calendar/period',
    summary: '计算 N 个工作日的期间（公示期等）',
    description:
      '期间自开始日当天或之后的第一个工作日起算（开始日为工作日时计入），至第 N 个工作日北京时间 24:00 止。' +
      '节假日不计，调休上班日计入。',
    tags: ['日历'],
    access: 'public',
    query: z.object({
      opens: DaySchema.openapi({ title: '起始日' }),
      workingDays: queryInteger({ min: 1, max: 1000 }).openapi({ title: '工作日数' }),
    }),
    responses: { 200: { description: '期间', schema: PeriodSchema } },
    errors: ['CALENDAR_YEAR_UNSUPPORTED'],
    async handler({ query }) {
      const { version, calendar } = await deps.calendar.snapshot();
      const p = calendarMath(`从 ${query.opens} 起算 ${query.workingDays} 个工作日`, () =>
        calendar.period(query.opens, query.workingDays),
      );
      return {
        status: 200,
        body: {
          firstDay: p.firstDay,
          lastDay: p.lastDay,
          endsAt: p.endsAtIso,
          estimated: p.estimated,
          calendarVersion: version,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/calendar/reminder',
    summary: '计算截止日前第 K 个工作日上午 9:00（提醒时间）',
    tags: ['日历'],
    access: 'public',
    query: z.object({
      deadlineDay: DaySchema.openapi({ title: '截止日' }),
      workingDaysBefore: queryInteger({ min: 1, max: 1000 }).openapi({ title: '提前工作日数' }),
    }),
    responses: { 200: { description: '提醒时间', schema: ReminderSchema } },
    errors: ['CALENDAR_YEAR_UNSUPPORTED'],
    async handler({ query }) {
      const { version, calendar } = await deps.calendar.snapshot();
      const r = calendarMath(`${query.deadlineDay} 前第 ${query.workingDaysBefore} 个工作日`, () =>
        calendar.workingDaysBefore(query.deadlineDay, query.workingDaysBefore),
      );
      return { status: 200, body: { day: r.day, at: r.atIso, estimated: r.estimated, calendarVersion: version } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/calendar/years/:year',
    summary: '查看某年的节假日安排（官方、内置或按法定假日预计）',
    tags: ['日历'],
    access: 'public',
    params: YearParams,
    responses: { 200: { description: '该年安排', schema: ArrangementSchema } },
    async handler({ params }) {
      const a = await deps.calendar.arrangement(params.year);
      const days = [...a.overrides.entries()]
        .map(([date, o]) => ({ date, kind: o.kind, name: o.name }))
        .sort((x, y) => x.date.localeCompare(y.date));
      return {
        status: 200,
        body: { year: a.year, source: a.source, estimated: a.estimated, calendarVersion: a.version, days },
      };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/calendar/years/:year',
    summary: '录入某年官方节假日安排（国务院办公厅通知）',
    description: '整体替换该年的安排并生成新的日历版本；此后的计算使用新版本并记录版本号。调休上班日须为周末。',
    tags: ['日历'],
    access: ['staff'],
    params: YearParams,
    body: ArrangementInputSchema,
    responses: {
      200: {
        description: '已录入',
        schema: z.object({
          year: z.number().int(),
          calendarVersion: z.number().int(),
          holidays: z.number(),
          workdays: z.number(),
          roundsNotified: z.number().int().openapi({ description: '已通知重新计算截止时间的在办申报批次数' }),
        }),
      },
    },
    errors: ['CALENDAR_INVALID'],
    async handler({ params, body, principal, req }) {
      let version: number;
      try {
        version = await deps.calendar.enterOfficialArrangement({
          year: params.year,
          holidays: body.holidays,
          workdays: body.workdays,
          reference: body.reference,
          enteredBy: principal!.actor,
        });
      } catch (err) {
        if (err instanceof CalendarInputError) throw new AppError('CALENDAR_INVALID', err.message);
        throw err;
      }
      await recordAudit(deps.db, {
        actor: principal!.actor,
        role: 'staff',
        action: 'calendar.enter_arrangement',
        subjectKind: 'calendar_year',
        subjectId: String(params.year),
        reason: body.reference,
        details: { calendarVersion: version, holidays: body.holidays.length, workdays: body.workdays.length },
        requestId: requestIdOf(req),
      });
      // Open rounds compute their deadlines again (never earlier than announced) and announce a change.
      const openRounds = await openRoundIds(deps.db);
      let roundsNotified = 0;
      for (const roundId of openRounds) {
        try {
          await deps.temporal.workflow.getHandle(roundId).signal(calendarChangedSignal, { calendarVersion: version });
          roundsNotified += 1;
        } catch (err) {
          deps.logger.warn({ err, roundId }, 'could not tell a round about the new calendar');
        }
      }
      return {
        status: 200,
        body: {
          year: params.year,
          calendarVersion: version,
          holidays: body.holidays.length,
          workdays: body.workdays.length,
          roundsNotified,
        },
      };
    },
  });
}
