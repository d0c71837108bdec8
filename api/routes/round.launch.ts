import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../../platform/config.js';
import type { Db } from '../../db/knex.js';
import { effectiveRules, type RoundRuleOverrides } from '../../domain/programmes.js';
import { findProgramme } from '../../db/repositories/programmes.js';
import { AppError } from '../errors.js';
import { rulesProblems } from './programmes.js';
import { launchNow, LaunchRefused } from '../../services/launch.js';
import { reserveRound } from '../../services/round.launch.js';
import { asAppError } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { DaySchema, ProgrammeKeySchema } from '../schemas.js';
import { z, type ApiRoutes } from '../route.js';
import { requestedCompression, timeScaleField } from '../time-scale.js';

const LaunchRoundSchema = z
  .object({
    programme: ProgrammeKeySchema.openapi({ example: 'demo_college' }),
    year: z.number().int().min(2022).max(2099).openapi({ title: '年度', example: 2027 }),
    opensAt: z.iso.datetime({ offset: true }).optional().openapi({
      title: '申报开始时间',
      description: '申报开始时间（ISO 8601）；缺省为立即开始',
      example: '2027-03-01T09:00:00+08:00',
    }),
    deadline: DaySchema.optional().openapi({
      title: '截止日',
      description: '截止日（当日 24:00 截止）；缺省按该项目类别的申报工作日数计算',
      example: '2027-03-29',
    }),
    timeScale: timeScaleField({ description: '压缩时间倍数（仅用于演示与端到端测试；生产环境拒绝）', example: 86400 }),
    rules: z
      .object({
        limits: z
          .object({
            perApplicant: z.number().int().min(1).max(100_000).openapi({ title: '每个申报单位' }),
            perUniversity: z.number().int().min(1).max(100_000).openapi({ title: '每所高校' }),
          })
          .partial()
          .strict()
          .optional()
          .openapi({ title: '限报数' }),
        callWorkingDays: z.number().int().min(1).max(250).optional().openapi({ title: '申报工作日数' }),
        reminderWorkingDaysBefore: z
          .array(z.number().int().min(1).max(60))
          .max(5)
          .optional()
          .openapi({ title: '截止前提醒的工作日数' }),
        graceMinutes: z.number().int().min(0).max(120).optional().openapi({ title: '截止宽限分钟数' }),
        quota: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .optional()
          .openapi({ title: '推荐名额', description: '本批次推荐名额' }),
        publicityWorkingDays: z
          .number()
          .int()
          .min(5)
          .max(30)
          .optional()
          .openapi({ title: '公示工作日数', description: '公示工作日数（默认 5）' }),
      })
      .strict()
      .optional()
      .openapi({
        title: '规则调整',
        description: '本批次对项目类别规则的调整（限报数、申报工作日数、提醒、截止后处理宽限期）',
      }),
  })
  .strict()
  .openapi('LaunchRound');

const LaunchedSchema = z
  .object({ roundId: z.string(), runId: z.string(), titleZh: z.string(), opensAt: z.string() })
  .openapi('RoundLaunched');

type LaunchRules = z.infer<typeof LaunchRoundSchema>['rules'];

/** The round's adjustments of its programme's rules, as stored with the round. */
function roundConfigOf(rules: LaunchRules): RoundRuleOverrides {
  return {
    ...(rules?.limits ? { limits: rules.limits } : {}),
    ...(rules?.quota ? { quota: { perYear: rules.quota } } : {}),
    ...(rules?.publicityWorkingDays ? { publicity: { workingDays: rules.publicityWorkingDays } } : {}),
    ...(rules?.callWorkingDays || rules?.reminderWorkingDaysBefore
      ? {
          call: {
            ...(rules.callWorkingDays ? { workingDays: rules.callWorkingDays } : {}),
            ...(rules.reminderWorkingDaysBefore
              ? { reminderWorkingDaysBefore: [...rules.reminderWorkingDaysBefore].sort((a, b) => b - a) }
              : {}),
          },
        }
      : {}),
  };
}

export interface RoundLaunchRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
  clock: Clock;
}

/** Launching a programme's yearly round (the staff's manual launch; a Schedule launches through schedule.ts). */
export function roundLaunchRoutes(routes: ApiRoutes, deps: RoundLaunchRouteDeps): void {
  routes.add({
    method: 'post',
    path: '/api/rounds',
    summary: '启动某项目类别的年度申报批次',
    description:
      '启动流程 `round-<programme>-<year>`。同一项目类别同一年度只能启动一次（数据库唯一约束与 Temporal 流程 ID 双重保证）；' +
      '误启动后撤销的批次可重新启动。',
    tags: ['申报批次'],
    access: ['staff'],
    body: LaunchRoundSchema,
    responses: { 201: { description: '已启动', schema: LaunchedSchema } },
    errors: ['ROUND_EXISTS', 'PROGRAMME_NOT_OPEN_FOR_ROUNDS', 'COMPRESSED_TIME_FORBIDDEN', 'DEADLINE_INVALID'],
    async handler({ body, principal, req }) {
      // The round's adjustments must hold together with the rules they adjust, as a change of the rules must.
      const programme = body.rules ? await findProgramme(deps.db, body.programme) : undefined;
      if (programme) {
        const knownFields = new Set(await deps.db('industries').pluck<string[]>('key'));
        const problems = rulesProblems(effectiveRules(programme.rules, roundConfigOf(body.rules)), knownFields);
        if (problems.length > 0) {
          throw new AppError('VALIDATION_FAILED', problems.map((p) => p.message).join('；'), {
            errors: problems.map((p) => ({ ...p, path: `rules.${p.path}` })),
          });
        }
      }
      const launchedAt = deps.clock();
      const compression = requestedCompression(body.timeScale, deps.config.production, launchedAt);
      const opensAt = body.opensAt ? new Date(body.opensAt) : launchedAt;
      const { launch, runId } = await launchNow(
        deps.db,
        deps.temporal,
        deps.config.temporal.taskQueue,
        (trx) =>
          reserveRound(
            trx,
            {
              programme: body.programme,
              year: body.year,
              opensAt,
              deadlineDay: body.deadline,
              ...(compression ? { compression } : {}),
              config: roundConfigOf(body.rules),
              graceSeconds: body.rules?.graceMinutes === undefined ? undefined : body.rules.graceMinutes * 60,
              asked: { rules: body.rules ?? null },
            },
            { actor: principal!.actor, role: 'staff', requestId: requestIdOf(req) },
          ),
        (roundId) => new LaunchRefused('ROUND_EXISTS', `${roundId} 已启动，同一项目类别每年只能启动一次`, roundId),
      ).catch(asAppError);
      const roundId = launch.workflowId;
      const titleZh = launch.titleZh;
      const input = launch.input;
      return {
        status: 201,
        headers: { Location: `/api/rounds/${roundId}` },
        body: { roundId, runId, titleZh, opensAt: input.opensAt },
      };
    },
  });
}
