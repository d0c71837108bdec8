import type { Clock } from '../clock.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { existingEnterpriseIds, existingInstitutionIds } from '../../db/repositories/institutions.views.js';
import { createApplication, listApplications, updateDraft } from '../../db/repositories/round.applications.js';
import { findInstitution, knownFields } from '../../db/repositories/institutions.js';
import { roundContext } from '../../db/repositories/round.rules.js';
import { resolveAvoidList, storeAvoidedExperts } from '../../db/repositories/review.avoidance.js';
import type { ApplicationDraft } from '../../domain/applications.js';
import type { AttachmentStore } from '../../storage/attachments.js';
import { AppError, referencesNotFound } from '../errors.js';
import { queryInteger, RoundParams } from '../schemas.js';
import { z, type ApiRoutes } from '../route.js';
import { assertDraftsOpen, changeDraft, loadDraftable, loadOwned, loadRound } from './round.applications.access.js';
import { ApplicationParams, ApplicationSchema, applicationView, DraftSchema, iso } from './round.applications.views.js';

export interface ApplicationRouteDeps {
  db: Db;
  temporal: Client;
  attachments: AttachmentStore;
  clock: Clock;
}

/**
 * Names in a draft that must exist: its field (an industry key), members' institutions and partner enterprises,
 * and the experts of its avoid list (回避), each of which must name exactly one active expert.
 * @returns the ids of the experts the avoid list names (stored with the draft, read at assignment).
 * @throws AppError VALIDATION_FAILED naming each unknown one, with its JSON path in `errors[].path`; an avoid-list
 *   entry that names no expert or several (then the applicant is asked to add the unit) — never the pool's names.
 */
async function assertReferences(db: Db, draft: ApplicationDraft): Promise<string[]> {
  const members = (draft.members ?? []).flatMap((m, i) => (m.institutionId ? [[i, m.institutionId] as const] : []));
  const enterprises = draft.partnerEnterpriseIds ?? [];
  const [foundI, foundE, fields, avoid] = await Promise.all([
    existingInstitutionIds(db, [...new Set(members.map(([, id]) => id))]),
    existingEnterpriseIds(db, [...new Set(enterprises)]),
    draft.field === undefined ? undefined : knownFields(db),
    resolveAvoidList(db, draft.avoidExperts ?? []),
  ]);
  const missing = [
    ...(draft.field !== undefined && !fields!.has(draft.field)
      ? [{ path: 'field', message: `所属领域 ${draft.field} 不存在` }]
      : []),
    ...members
      .filter(([, id]) => !foundI.includes(id))
      .map(([i, id]) => ({ path: `members.${i}.institutionId`, message: `成员所在单位 ${id} 不存在` })),
    ...enterprises.flatMap((e, i) =>
      foundE.includes(e) ? [] : [{ path: `partnerEnterpriseIds.${i}`, message: `合作企业 ${e} 不存在` }],
    ),
    ...avoid.problems,
  ];
  if (missing.length) throw referencesNotFound(missing);
  return avoid.expertIds;
}

/** An institution's applications to a round: drafting them (attachments and submission have their own routes). */
export function applicationRoutes(routes: ApiRoutes, deps: ApplicationRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'post',
    path: '/api/rounds/:roundId/applications',
    summary: '新建申报（草稿）',
    description: '草稿保存不等于提交；截止前须调用提交接口。草稿在申报截止前均可修改。',
    tags: ['申报'],
    access: ['applicant'],
    params: RoundParams,
    body: DraftSchema,
    responses: { 201: { description: '已创建草稿', schema: ApplicationSchema } },
    errors: ['ROUND_NOT_FOUND', 'CALL_CLOSED', 'ROUND_CANCELLED', 'INSTITUTION_NOT_ELIGIBLE'],
    async handler({ params, body, principal, receivedAt }) {
      const round = await loadRound(db, params.roundId);
      assertDraftsOpen(round, receivedAt, '新建申报');
      const [ctx, institution] = await Promise.all([
        roundContext(db, round.id),
        findInstitution(db, principal!.institutionId!),
      ]);
      if (!institution || !ctx!.rules.applicantKinds.includes(institution.kind)) {
        throw new AppError(
          'INSTITUTION_NOT_ELIGIBLE',
          `${ctx!.programme.nameZh}的申报对象为${ctx!.rules.applicantKinds.map((k) => (k === 'college' ? '二级学院' : '本科高校')).join('、')}`,
        );
      }
      const avoided = await assertReferences(db, body);
      const app = await db.transaction(async (trx) => {
        const created = await createApplication(trx, {
          roundId: round.id,
          institutionId: institution.id,
          draft: body,
          createdBy: principal!.actor,
        });
        await storeAvoidedExperts(trx, created.id, avoided);
        return created;
      });
      return {
        status: 201,
        headers: { Location: `/api/applications/${app.id}` },
        body: await applicationView(db, app),
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/rounds/:roundId/applications',
    summary: '申报列表（工作人员看全部；申报单位只看本单位）',
    tags: ['申报'],
    access: ['staff', 'applicant'],
    params: RoundParams,
    query: z.object({
      status: z.string().max(30).optional().openapi({ title: '申报状态' }),
      after: z.uuid().optional().openapi({ title: '分页起点', description: '分页：上一页最后一条的 applicationId' }),
      limit: queryInteger({ min: 1, max: 500, default: 100 }).openapi({ title: '每页条数' }),
    }),
    responses: {
      200: {
        description: '申报列表（按 applicationId 排序）',
        schema: z.object({
          items: z.array(
            z.object({
              applicationId: z.string(),
              institutionId: z.string(),
              status: z.string(),
              title: z.string(),
              version: z.number().int(),
              receivedAt: z.string().nullable(),
            }),
          ),
          next: z.string().nullable(),
        }),
      },
    },
    errors: ['ROUND_NOT_FOUND'],
    async handler({ params, query, principal }) {
      await loadRound(db, params.roundId);
      const rows = await listApplications(db, {
        roundId: params.roundId,
        institutionId: principal!.role === 'applicant' ? principal!.institutionId : undefined,
        status: query.status,
        after: query.after,
        limit: query.limit,
      });
      return {
        status: 200,
        body: {
          items: rows.map((a) => ({
            applicationId: a.id,
            institutionId: a.institutionId,
            status: a.status,
            title: a.titleZh,
            version: a.currentVersion,
            receivedAt: iso(a.receivedAt),
          })),
          next: rows.length === query.limit ? rows.at(-1)!.id : null,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/applications/:applicationId',
    summary: '查看申报（工作稿、附件与已提交版本）',
    tags: ['申报'],
    access: ['staff', 'applicant'],
    params: ApplicationParams,
    responses: { 200: { description: '申报', schema: ApplicationSchema } },
    errors: ['APPLICATION_NOT_FOUND'],
    async handler({ params, principal }) {
      const app = await loadOwned(db, params.applicationId, principal!, false);
      return { status: 200, body: await applicationView(db, app) };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/applications/:applicationId',
    summary: '修改申报工作稿',
    description:
      '已提交的申报也可修改工作稿，截止前重新提交即生成新版本（旧版本保留）。截止时间以后收到的修改不予保存；' +
      '提交请求尚在处理时（如流程引擎暂不可用）不能修改，以免提交的内容与接收时的内容不一致。',
    tags: ['申报'],
    access: ['applicant'],
    params: ApplicationParams,
    body: DraftSchema,
    responses: { 200: { description: '已保存', schema: ApplicationSchema } },
    errors: [
      'APPLICATION_NOT_FOUND',
      'APPLICATION_NOT_EDITABLE',
      'CALL_CLOSED',
      'ROUND_CANCELLED',
      'SUBMISSION_IN_PROGRESS',
    ],
    async handler({ params, body, principal, receivedAt }) {
      const app = await loadDraftable(db, params.applicationId, principal!, receivedAt);
      if (app.status !== 'draft' && app.status !== 'submitted') {
        throw new AppError('APPLICATION_NOT_EDITABLE', `申报状态为 ${app.status}，不能修改`);
      }
      const avoided = await assertReferences(db, body);
      const saved = await changeDraft(db, app, async (trx) => {
        await storeAvoidedExperts(trx, app.id, avoided);
        return updateDraft(trx, app.id, body);
      });
      return { status: 200, body: await applicationView(db, saved) };
    },
  });
}
