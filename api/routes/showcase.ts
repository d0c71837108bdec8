import { Readable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { findShowcase } from '../../db/repositories/showcase.js';
import { selectedCases } from '../../db/repositories/showcase.views.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import type { Config } from '../../platform/config.js';
import { launchNow, LaunchRefused } from '../../services/launch.js';
import { reserveShowcase } from '../../services/showcase.launch.js';
import { casesCsv, casesXlsx } from '../../services/showcase.export.js';
import { nominateCaseUpdate } from '../../workflows/showcase.messages.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { asAppError, auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt } from '../workflow-calls.js';
import { z, type ApiRoutes } from '../route.js';
import { trimmedText } from '../schemas.js';
import { requestedCompression, timeScaleField } from '../time-scale.js';
import { NOMINATIONS_PER_INSTITUTION } from '../../domain/showcase.js';

export interface ShowcaseRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
  clock: Clock;
}

const ShowcaseParams = z.object({
  showcaseId: z
    .string()
    .regex(/^showcase-\d{4}$/)
    .openapi({ title: '年度成果推广编号', example: 'showcase-2027' }),
});

const CaseSchema = z
  .object({
    caseId: z.string(),
    title: z.string(),
    summary: z.string(),
    institutionName: z.string(),
    programme: z.string(),
    programmeName: z.string(),
    industry: z.string().nullable(),
    industryName: z.string().nullable(),
    score: z.number().nullable(),
    rank: z.number().int().nullable(),
  })
  .openapi('ShowcaseCase');

export function showcaseRoutes(routes: ApiRoutes, deps: ShowcaseRouteDeps): void {
  const { db } = deps;

  const load = async (showcaseId: string) => {
    const s = await findShowcase(db, showcaseId);
    if (!s) throw new AppError('SHOWCASE_NOT_FOUND', showcaseId);
    return s;
  };

  routes.add({
    method: 'post',
    path: '/api/showcases',
    summary: '启动年度成果推广（典型案例征集）',
    description: `启动流程 \`showcase-<year>\`：向名录成员单位和研究项目承担单位征集典型案例（每单位至多 ${NOMINATIONS_PER_INSTITUTION} 个），专家评审、公示后公布入选案例。`,
    tags: ['成果推广'],
    access: ['staff'],
    body: z
      .object({
        year: z.number().int().min(2022).max(2099).openapi({ title: '年度', example: 2027 }),
        quota: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(20)
          .openapi({ title: '拟入选案例数', description: '本年度拟入选案例数（默认 20）' }),
        timeScale: timeScaleField({ description: '压缩时间（仅用于测试）' }),
      })
      .strict()
      .openapi('LaunchShowcase'),
    responses: {
      201: { description: '已启动', schema: z.object({ showcaseId: z.string(), title: z.string() }) },
    },
    errors: ['SHOWCASE_EXISTS', 'COMPRESSED_TIME_FORBIDDEN'],
    async handler({ body, principal, req }) {
      const compression = requestedCompression(body.timeScale, deps.config.production, deps.clock());
      const { launch } = await launchNow(
        db,
        deps.temporal,
        deps.config.temporal.taskQueue,
        (trx) =>
          reserveShowcase(
            trx,
            { year: body.year, quota: body.quota, compression },
            { actor: principal!.actor, role: 'staff', requestId: requestIdOf(req) },
          ),
        (id) => new LaunchRefused('SHOWCASE_EXISTS', `${id} 已启动`, id),
      ).catch(asAppError);
      const { workflowId: showcaseId, titleZh: title } = launch;
      return { status: 201, headers: { Location: `/api/showcases/${showcaseId}` }, body: { showcaseId, title } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/showcases/:showcaseId',
    summary: '年度成果推广的状态（公开）',
    tags: ['成果推广'],
    access: 'public',
    params: ShowcaseParams,
    responses: {
      200: {
        description: '成果推广',
        schema: z.object({
          showcaseId: z.string(),
          year: z.number().int(),
          title: z.string(),
          status: z.string().openapi({ description: 'nominations_open / reviewing / published …' }),
          nominationsDueAt: z.string().nullable(),
          publishedAt: z.string().nullable(),
          rulesVersion: z.number().int().openapi({ description: '启动时所依据的典型案例规则版本' }),
        }),
      },
    },
    errors: ['SHOWCASE_NOT_FOUND'],
    async handler({ params }) {
      const s = await load(params.showcaseId);
      return {
        status: 200,
        body: {
          showcaseId: s.id,
          year: s.year,
          title: s.titleZh,
          status: s.status,
          nominationsDueAt: s.nominationsDueAt ? formatShanghai(s.nominationsDueAt) : null,
          publishedAt: s.publishedAt ? formatShanghai(s.publishedAt) : null,
          rulesVersion: s.rulesVersion,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/showcases/:showcaseId/nominations',
    summary: `推荐典型案例（申报单位，每单位至多 ${NOMINATIONS_PER_INSTITUTION} 个）`,
    description:
      '可推荐本单位在录的名录成员或承担的研究项目；第三个推荐返回 409 `NOMINATION_LIMIT`；同一成果再次推荐返回 409 `ALREADY_NOMINATED`；截止后返回 409。',
    tags: ['成果推广'],
    access: ['applicant'],
    params: ShowcaseParams,
    body: z
      .object({
        sourceKind: z.enum(['directory_entry', 'project']).openapi({ title: '案例来源类别' }),
        sourceId: z.uuid().openapi({ title: '案例来源编号' }),
        title: trimmedText(4, 100).openapi({ title: '案例名称', example: '“校企双元”智能制造现场工程师培养' }),
        summary: trimmedText(20, 5000).openapi({ title: '案例简介' }),
      })
      .strict()
      .openapi('Nomination'),
    responses: {
      201: {
        description: '已受理',
        schema: z.object({
          caseId: z.string(),
          nominated: z.number().int().openapi({ description: '本单位已推荐数' }),
        }),
      },
    },
    errors: [
      'SHOWCASE_NOT_FOUND',
      'NOMINATION_LIMIT',
      'NOMINATIONS_CLOSED',
      'SOURCE_NOT_ELIGIBLE',
      'ALREADY_NOMINATED',
      'RECEIPT_KEPT',
    ],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      const receivedAt = receipt.toISOString();
      await load(params.showcaseId);
      const requestId = requestIdOf(req);
      const result = await auditRefusal(
        db,
        principal!,
        {
          action: 'showcase.nomination_refused',
          subjectKind: 'showcase',
          subjectId: params.showcaseId,
          requestId,
          workflowId: params.showcaseId,
        },
        () =>
          deliverReceipt(
            deps,
            params.showcaseId,
            nominateCaseUpdate,
            {
              institutionId: principal!.institutionId!,
              sourceKind: body.sourceKind,
              sourceId: body.sourceId,
              title: body.title,
              summary: body.summary,
              receivedAt,
              actor: principal!.actor,
              requestId,
            },
            {
              updateId,
              caller: principal!.actor,
              whenEnded: () => new AppError('NOMINATIONS_CLOSED', '本年度成果推广已结束'),
            },
          ),
      );
      return { status: 201, body: result };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/showcases/:showcaseId/cases',
    summary: '入选案例（公开；可检索，可导出 CSV / XLSX）',
    description: '公布前为空列表。`q` 按案例名称、简介、单位、项目类别与产业检索；`format=csv|xlsx` 导出同一列表。',
    tags: ['成果推广'],
    access: 'public',
    params: ShowcaseParams,
    query: z
      .object({
        q: z.string().max(100).optional().openapi({ title: '关键词' }),
        format: z.enum(['json', 'csv', 'xlsx']).optional().openapi({ title: '导出格式' }),
      })
      .strict(),
    responses: {
      200: {
        description: '入选案例（JSON；CSV 与 XLSX 为同样的行）',
        schema: z.object({
          showcaseId: z.string(),
          title: z.string(),
          status: z.string(),
          total: z.number().int(),
          cases: z.array(CaseSchema),
        }),
        alternatives: {
          'text/csv': z.string().openapi({ description: 'format=csv：UTF-8（带 BOM）CSV' }),
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': z
            .string()
            .openapi({ format: 'binary', description: 'format=xlsx：Excel 工作簿' }),
        },
      },
    },
    errors: ['SHOWCASE_NOT_FOUND'],
    async handler({ params, query }) {
      const s = await load(params.showcaseId);
      const cases = await selectedCases(db, s.id, query.q);
      const file = encodeURIComponent(`${s.titleZh}入选案例`);
      if (query.format === 'csv') {
        return {
          status: 200,
          headers: {
            'Content-Type': 'text/csv; charset=utf-8',
            'Content-Disposition': `attachment; filename*=UTF-8''${file}.csv`,
          },
          stream: Readable.from([Buffer.from(casesCsv(cases), 'utf8')]),
        };
      }
      if (query.format === 'xlsx') {
        return {
          status: 200,
          headers: {
            'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
            'Content-Disposition': `attachment; filename*=UTF-8''${file}.xlsx`,
          },
          stream: Readable.from([await casesXlsx(cases, s.titleZh)]),
        };
      }
      return {
        status: 200,
        body: { showcaseId: s.id, title: s.titleZh, status: s.status, total: cases.length, cases },
      };
    },
  });
}
