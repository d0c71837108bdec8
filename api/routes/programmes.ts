import { isDeepStrictEqual } from 'node:util';
import type { Db } from '../../db/knex.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { findProgramme, listProgrammes, type ProgrammeRow } from '../../db/repositories/programmes.js';
import { listReferenceVersions, recordReferenceVersion } from '../../db/repositories/reference-versions.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import type { ProgrammeRules } from '../../domain/programmes.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { oneLineText, ProgrammeKeySchema, trimmedText } from '../schemas.js';

/**
 * A programme's rules as staff change them (issue 16, point 1; SPEC "Programmes", seed 教高〔2022〕52号): who may
 * apply, limits per applicant and university, personal limits, quotas, the call's and the review's working days
 * and reminders, the publicity period and the rubric. Every bound is a schema the OpenAPI document states; the
 * relations between fields (weights summing to 100, at most as many valid scores as experts…) are checked by
 * `rulesProblems`.
 */
const count = (title: string, min: number, max: number) => z.number().int().min(min).max(max).openapi({ title });
const reminders = (title: string) =>
  z
    .array(z.number().int().min(1).max(60))
    .max(5)
    .openapi({ title, description: '截止前若干个工作日提醒，如 [7, 3, 1]' });
const RubricSchema = z
  .array(
    z
      .object({
        key: z
          .string()
          .regex(/^[a-z][a-z0-9_]{1,39}$/, '应为小写英文字母、数字和下划线，以字母开头')
          .openapi({ title: '指标代码' }),
        nameZh: oneLineText(2, 40).openapi({ title: '指标名称' }),
        weight: count('权重', 1, 100),
      })
      .strict(),
  )
  .min(1)
  .max(20);

export const ProgrammeRulesSchema = z
  .object({
    applicantKinds: z
      .array(z.enum(['university', 'college']).openapi({ title: '申报单位类型' }))
      .min(1)
      .max(2)
      .openapi({ title: '申报单位类型', description: 'university 本科高校；college 二级学院' }),
    limits: z
      .object({ perApplicant: count('每个申报单位限报数', 1, 1000), perUniversity: count('每所高校限报数', 1, 1000) })
      .strict()
      .openapi({ title: '限报数' }),
    personalLimits: z
      .object({ maxLedOpen: count('主持在研项目上限', 0, 10), maxJoinedOpen: count('参与在研项目上限', 0, 10) })
      .strict()
      .optional()
      .openapi({ title: '个人限项' }),
    quota: z
      .object({
        perYear: count('每年名额', 0, 100_000).optional(),
        min: count('名额下限', 0, 100_000).optional(),
        max: count('名额上限', 0, 100_000).optional(),
        total: count('总名额', 0, 100_000).optional(),
        overYears: count('总名额的年限', 1, 50).optional(),
      })
      .strict()
      .openapi({ title: '名额' }),
    fields: z
      .array(z.string().min(1).max(40).openapi({ title: '领域' }))
      .max(50)
      .optional()
      .openapi({ title: '限定领域', description: '产业领域代码（industries）' }),
    call: z
      .object({
        workingDays: count('申报工作日数', 1, 250),
        reminderWorkingDaysBefore: reminders('申报截止前提醒的工作日数'),
      })
      .strict()
      .openapi({ title: '申报' }),
    review: z
      .object({
        expertsPerApplication: count('每项申报的评审专家数', 1, 20),
        minValidScores: count('最少有效评分数', 1, 20),
        dueWorkingDays: count('评审工作日数', 1, 60),
        reminderWorkingDaysBefore: reminders('评审截止前提醒的工作日数'),
        trimAtOrAbove: count('去掉最高分和最低分的有效评分数', 3, 20),
        spreadFlagAbove: count('分差提示阈值', 0, 100),
      })
      .strict()
      .openapi({ title: '评审' }),
    publicity: z
      .object({ workingDays: count('公示工作日数', 5, 30) })
      .strict()
      .openapi({ title: '公示' }),
    rubric: RubricSchema.openapi({ title: '评审指标', description: '权重之和须为 100' }),
    project: z
      .object({
        durationYears: count('研究期限（年）', 1, 10),
        reportWorkingDays: count('报告提交工作日数', 1, 120),
        passMark: count('通过分数', 0, 100),
        maxExtensionMonths: count('延期上限（月）', 0, 36),
      })
      .strict()
      .optional()
      .openapi({ title: '研究项目管理' }),
    directory: z
      .object({
        evaluationReportWorkingDays: count('自评报告工作日数', 1, 120),
        rectificationMonths: count('整改期限（月）', 1, 36),
        maxRectificationMonths: count('整改期限上限（月）', 1, 60),
        banYears: count('撤销后不得申报年限', 0, 20),
        evaluationRubric: RubricSchema.optional().openapi({ title: '动态评价指标', description: '权重之和须为 100' }),
      })
      .strict()
      .optional()
      .openapi({ title: '名录管理' }),
  })
  .strict()
  .openapi({ title: '规则' });

/** A problem of a rule set that no schema states: a relation between fields, with its path and zh-CN message. */
export interface RulesProblem {
  path: string;
  label: string;
  message: string;
}

/**
 * What is wrong with `rules` beyond the schema's bounds: a rubric whose weights do not sum to 100 or repeats a code,
 * a list that repeats a value, more valid scores asked than experts assigned, a university limit below the
 * applicant limit, a quota whose minimum exceeds its maximum, a rectification above its own ceiling, an unknown
 * field (`knownFields`: the industries' keys). Empty when the rules hold together.
 */
export function rulesProblems(rules: ProgrammeRules, knownFields: ReadonlySet<string>): RulesProblem[] {
  const problems: RulesProblem[] = [];
  const add = (path: string, label: string, message: string) => problems.push({ path, label, message });
  const rubric = (path: string, label: string, criteria: readonly { key: string; weight: number }[]) => {
    const total = criteria.reduce((sum, c) => sum + c.weight, 0);
    if (total !== 100) add(path, label, `${label}的权重之和应为 100，现为 ${total}`);
    const keys = criteria.map((c) => c.key);
    const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
    if (repeated) add(path, label, `${label}的指标代码“${repeated}”重复`);
  };
  rubric('rubric', '评审指标', rules.rubric);
  if (rules.directory?.evaluationRubric) {
    rubric('directory.evaluationRubric', '动态评价指标', rules.directory.evaluationRubric);
  }
  if (new Set(rules.applicantKinds).size !== rules.applicantKinds.length) {
    add('applicantKinds', '申报单位类型', '申报单位类型不能重复');
  }
  if (rules.limits.perUniversity < rules.limits.perApplicant) {
    add('limits.perUniversity', '每所高校限报数', '每所高校限报数不能少于每个申报单位限报数');
  }
  if (rules.review.minValidScores > rules.review.expertsPerApplication) {
    add('review.minValidScores', '最少有效评分数', '最少有效评分数不能多于每项申报的评审专家数');
  }
  const { min, max } = rules.quota;
  if (min !== undefined && max !== undefined && min > max) add('quota.min', '名额下限', '名额下限不能大于名额上限');
  const directory = rules.directory;
  if (directory && directory.rectificationMonths > directory.maxRectificationMonths) {
    add('directory.rectificationMonths', '整改期限（月）', '整改期限不能超过整改期限上限');
  }
  for (const [i, field] of (rules.fields ?? []).entries()) {
    if (!knownFields.has(field)) add(`fields.${i}`, '限定领域', `没有代码为“${field}”的产业领域`);
  }
  for (const [path, label, days] of [
    ['call.reminderWorkingDaysBefore', '申报截止前提醒的工作日数', rules.call.reminderWorkingDaysBefore],
    ['review.reminderWorkingDaysBefore', '评审截止前提醒的工作日数', rules.review.reminderWorkingDaysBefore],
  ] as const) {
    if (new Set(days).size !== days.length) add(path, label, `${label}不能重复`);
  }
  return problems;
}

/** Reminder days as the calendar reads them: from the furthest to the nearest. */
function normalised(rules: ProgrammeRules): ProgrammeRules {
  const descending = (days: readonly number[]) => [...days].sort((a, b) => b - a);
  return {
    ...rules,
    call: { ...rules.call, reminderWorkingDaysBefore: descending(rules.call.reminderWorkingDaysBefore) },
    review: { ...rules.review, reminderWorkingDaysBefore: descending(rules.review.reminderWorkingDaysBefore) },
  };
}

const ProgrammeSchema = z
  .object({
    programme: ProgrammeKeySchema,
    nameZh: z.string(),
    track: z.enum(['project', 'directory', 'showcase']),
    quotaNote: z.string(),
    rulesVersion: z.number().int().openapi({ description: '现行规则的版本号' }),
    rules: ProgrammeRulesSchema,
  })
  .openapi('Programme');

const RulesVersionSchema = z
  .object({
    version: z.number().int(),
    rules: ProgrammeRulesSchema,
    reason: z.string(),
    changedBy: z.string().openapi({ description: '修改人（账号）' }),
    changedAt: z.string().openapi({ description: '修改时间（北京时间）' }),
    source: z.enum(['api', 'import', 'seed', 'migration']),
  })
  .openapi('ProgrammeRulesVersion');

function programmeView(p: ProgrammeRow) {
  return {
    programme: p.key,
    nameZh: p.nameZh,
    track: p.track,
    quotaNote: p.quotaNote,
    rulesVersion: p.rulesVersion,
    rules: p.rules,
  };
}

const ProgrammeParams = z.object({ programme: ProgrammeKeySchema.openapi({ example: 'demo_college' }) });

export interface ProgrammeRouteDeps {
  db: Db;
}

/**
 * The programme catalogue and its versioned rules (issue 16, points 1–2): anyone signed in reads the current
 * rules; staff read every version; the administrator changes them, each change a new version with who, when and
 * why. A round, an evaluation or a showcase keeps the version it was launched with (`rulesVersion` on the round).
 */
export function programmeRoutes(routes: ApiRoutes, { db }: ProgrammeRouteDeps): void {
  const existing = async (key: string) => {
    const programme = await findProgramme(db, key);
    if (!programme) throw new AppError('PROGRAMME_NOT_FOUND', key);
    return programme;
  };

  routes.add({
    method: 'get',
    path: '/api/programmes',
    summary: '项目类别及其现行规则',
    tags: ['项目类别'],
    access: 'authenticated',
    responses: { 200: { description: '项目类别', schema: z.object({ programmes: z.array(ProgrammeSchema) }) } },
    async handler() {
      return { status: 200, body: { programmes: (await listProgrammes(db)).map(programmeView) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/programmes/:programme',
    summary: '某项目类别及其现行规则',
    tags: ['项目类别'],
    access: 'authenticated',
    params: ProgrammeParams,
    responses: { 200: { description: '项目类别', schema: ProgrammeSchema } },
    errors: ['PROGRAMME_NOT_FOUND'],
    async handler({ params }) {
      return { status: 200, body: programmeView(await existing(params.programme)) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/programmes/:programme/rules/versions',
    summary: '某项目类别规则的全部版本（修改人、时间、原因）',
    tags: ['项目类别'],
    access: ['staff'],
    params: ProgrammeParams,
    responses: {
      200: { description: '规则版本，新的在前', schema: z.object({ versions: z.array(RulesVersionSchema) }) },
    },
    errors: ['PROGRAMME_NOT_FOUND'],
    async handler({ params }) {
      await existing(params.programme);
      const versions = await listReferenceVersions(db, 'programme_rules', params.programme);
      return {
        status: 200,
        body: {
          versions: versions.map((v) => ({
            version: v.version,
            rules: v.data as ProgrammeRules,
            reason: v.reason,
            changedBy: v.actor,
            changedAt: formatShanghai(v.createdAt),
            source: v.source,
          })),
        },
      };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/programmes/:programme/rules',
    summary: '修改项目类别规则（系统管理员；生成新版本）',
    description:
      '整体替换该项目类别的规则，生成新版本并记录修改人、时间与原因（与现行规则相同则不生成新版本，答复现行版本）。已启动的申报批次、动态评价与案例征集沿用启动时的版本，' +
      '此后启动的按新版本办理。baseVersion 须为修改所依据的现行版本号，他人已先行修改时答复 409 RULES_VERSION_CONFLICT。',
    tags: ['项目类别'],
    access: 'administrator',
    params: ProgrammeParams,
    body: z
      .object({
        baseVersion: z.number().int().min(1).max(2_147_483_647).openapi({ title: '所依据的版本号', example: 1 }),
        reason: trimmedText(2, 500, '请说明修改原因').openapi({ title: '修改原因' }),
        rules: ProgrammeRulesSchema,
      })
      .strict(),
    responses: { 200: { description: '已生成新版本', schema: ProgrammeSchema } },
    errors: ['PROGRAMME_NOT_FOUND', 'RULES_VERSION_CONFLICT'],
    async handler({ params, body, principal, req }) {
      const knownFields = new Set(await db('industries').pluck<string[]>('key'));
      const problems = rulesProblems(body.rules, knownFields);
      if (problems.length > 0) {
        throw new AppError('VALIDATION_FAILED', problems.map((p) => p.message).join('；'), {
          errors: problems.map((p) => ({ ...p, path: `rules.${p.path}` })),
        });
      }
      const programme = await existing(params.programme);
      const rules = normalised(body.rules);
      const changed = await db.transaction(async (trx) => {
        // Locked: two changes on one base cannot both become the next version.
        const current = await trx('programmes')
          .where({ key: params.programme })
          .forUpdate()
          .first<{ rules_version: number; rules: unknown }>('rules_version', 'rules');
        if (current.rules_version !== body.baseVersion) {
          throw new AppError(
            'RULES_VERSION_CONFLICT',
            `现行规则已是第 ${current.rules_version} 版（修改依据的是第 ${body.baseVersion} 版），请查看最新规则后重新修改`,
            { currentVersion: current.rules_version },
          );
        }
        // The same rules again are no change: no version (a new one would put everyone else's base out of date).
        if (isDeepStrictEqual(current.rules, rules)) return current.rules_version;
        const version = await recordReferenceVersion(trx, {
          kind: 'programme_rules',
          subjectId: params.programme,
          data: rules,
          reason: body.reason,
          actor: principal!.actor,
          source: 'api',
        });
        await trx('programmes')
          .where({ key: params.programme })
          .update({ rules: JSON.stringify(rules), rules_version: version, updated_at: trx.fn.now() });
        await recordAudit(trx, {
          actor: principal!.actor,
          role: 'staff',
          action: 'programme.rules_change',
          subjectKind: 'programme',
          subjectId: params.programme,
          reason: body.reason,
          details: { from: body.baseVersion, to: version },
          requestId: requestIdOf(req),
        });
        return version;
      });
      // What this request wrote (a later change by someone else is read with GET).
      return { status: 200, body: { ...programmeView(programme), rulesVersion: changed, rules } };
    },
  });
}
