import type { Client } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { findEvent } from '../../db/repositories/event.js';
import { invitationsOf, isInvited } from '../../db/repositories/event.views.js';
import { existingInstitutionIds } from '../../db/repositories/institutions.views.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import type { Config } from '../../platform/config.js';
import { createEvent } from '../../services/event.js';
import { changeEventUpdate, recordAttendanceUpdate, rsvpUpdate } from '../../workflows/event.messages.js';
import type { Clock } from '../clock.js';
import { AppError, referencesNotFound } from '../errors.js';
import { findShowcase } from '../../db/repositories/showcase.js';
import { auditRefusal } from '../refusals.js';
import { requestIdOf } from '../request.js';
import { deliverReceipt, updateWorkflow } from '../workflow-calls.js';
import { z, type ApiRoutes } from '../route.js';
import { cleanTextPattern, draftText, trimmedText } from '../schemas.js';
import { requestedCompression, timeScaleField } from '../time-scale.js';
import { eventWorkflowId } from '../../domain/workflow-ids.js';

export interface EventRouteDeps {
  config: Config;
  db: Db;
  temporal: Client;
  clock: Clock;
}

const kinds = ['roadshow', 'exhibition'] as const;

/** The reason every change of an event gives (`ChangeEvent`). */
const ChangeReason = trimmedText(2, 500, '请说明理由').openapi({ title: '理由' });
const EventParams = z.object({ eventId: z.uuid().openapi({ title: '活动编号' }) });

const EventSchema = z
  .object({
    eventId: z.string(),
    kind: z.enum(kinds).openapi({ description: 'roadshow 路演；exhibition 展会' }),
    title: z.string(),
    startsAt: z.string().openapi({ example: '2027-06-20T09:30:00+08:00' }),
    place: z.string(),
    status: z.string().openapi({ description: 'scheduled / held / closed / cancelled' }),
    version: z.number().int().openapi({ description: '每次改期加一' }),
    invitations: z.array(
      z.object({
        institutionId: z.string(),
        institutionName: z.string(),
        status: z.enum(['invited', 'confirmed', 'declined']),
        respondedAt: z.string().nullable(),
        declineReason: z.string().nullable(),
        attended: z.boolean().nullable(),
      }),
    ),
  })
  .openapi('ShowcaseEvent');

export function eventRoutes(routes: ApiRoutes, deps: EventRouteDeps): void {
  const { db } = deps;

  const load = async (eventId: string) => {
    const e = await findEvent(db, eventId);
    if (!e) throw new AppError('EVENT_NOT_FOUND', eventId);
    return e;
  };

  /** Each of `ids` (the body's list `path`, labelled `label`) must be an institution: 422 naming those that are not. */
  const assertInstitutions = async (path: string, label: string, ids: readonly string[]) => {
    const known = await existingInstitutionIds(db, ids);
    const unknown = ids.flatMap((id, i) =>
      known.includes(id) ? [] : [{ path: `${path}.${i}`, message: `${label} ${id} 不存在` }],
    );
    if (unknown.length > 0) throw referencesNotFound(unknown, 'INSTITUTION_NOT_FOUND');
  };

  const view = async (eventId: string, institutionId?: string) => {
    const e = await load(eventId);
    const invitations = await invitationsOf(db, eventId, institutionId);
    return {
      eventId: e.id,
      kind: e.kind,
      title: e.titleZh,
      startsAt: formatShanghai(e.startsAt),
      place: e.placeZh,
      status: e.status,
      version: e.version,
      invitations: invitations.map((i) => ({
        ...i,
        respondedAt: i.respondedAt ? formatShanghai(i.respondedAt) : null,
      })),
    };
  };

  routes.add({
    method: 'post',
    path: '/api/events',
    summary: '安排成果推广活动（路演或展会）并邀请展示单位',
    description:
      '启动流程 `event-<eventId>`：向每个展示单位发出邀请；确认参加的单位在活动前 7 天和前 1 天的 09:00（北京时间）收到提醒。' +
      '展示单位以其申报单位令牌答复（POST /api/events/:eventId/rsvp）。',
    tags: ['成果推广'],
    access: ['staff'],
    body: z
      .object({
        kind: z.enum(kinds).openapi({ title: '活动类型' }),
        title: trimmedText(4, 100).openapi({ title: '活动名称', example: '2027年产教融合典型案例路演' }),
        startsAt: z.iso.datetime({ offset: true }).openapi({ title: '活动时间', example: '2027-06-20T09:30:00+08:00' }),
        place: trimmedText(2, 200).openapi({ title: '活动地点', example: '郑州国际会展中心 2 号馆' }),
        presenters: z
          .array(z.string().min(1).max(60))
          .min(1)
          .max(200)
          .refine((p) => new Set(p).size === p.length, { message: '展示单位不能重复' })
          // The refinement, stated in the document (zod-to-openapi cannot read a refinement).
          .openapi({
            title: '展示单位',
            description: '展示单位（申报单位 ID，不重复）',
            example: ['zzu-cs', 'henu'],
            uniqueItems: true,
          }),
        showcaseId: z
          .string()
          .regex(/^showcase-\d{4}$/, '所属年度成果推广应为 showcase-<年度>，如 showcase-2027')
          .optional()
          .openapi({
            title: '所属年度成果推广',
            description: '所属年度成果推广（可选；须已启动）',
            example: 'showcase-2027',
          }),
        timeScale: timeScaleField({ description: '压缩时间（仅用于测试）' }),
      })
      .strict()
      .openapi('CreateEvent'),
    responses: { 201: { description: '已安排', schema: EventSchema } },
    errors: ['EVENT_TIME_INVALID', 'INSTITUTION_NOT_FOUND', 'COMPRESSED_TIME_FORBIDDEN'],
    async handler({ body, principal, req }) {
      const now = deps.clock();
      const compression = requestedCompression(body.timeScale, deps.config.production, now);
      const startsAt = new Date(body.startsAt);
      if (startsAt.getTime() <= now.getTime()) {
        throw new AppError('EVENT_TIME_INVALID', `活动时间须晚于当前时间（${formatShanghai(now)}）`);
      }
      await assertInstitutions('presenters', '展示单位', body.presenters);
      if (body.showcaseId && !(await findShowcase(db, body.showcaseId))) {
        throw referencesNotFound([
          { path: 'showcaseId', message: `所属年度成果推广 ${body.showcaseId} 不存在（尚未启动）` },
        ]);
      }
      const eventId = await createEvent(
        db,
        deps.temporal,
        deps.config.temporal.taskQueue,
        {
          kind: body.kind,
          titleZh: body.title,
          startsAt,
          placeZh: body.place,
          showcaseId: body.showcaseId,
          presenters: body.presenters,
          compression,
        },
        { actor: principal!.actor, requestId: requestIdOf(req) },
      );
      return { status: 201, headers: { Location: `/api/events/${eventId}` }, body: await view(eventId) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/events/:eventId',
    summary: '查看活动与邀请答复情况',
    description: '工作人员可见全部邀请；展示单位只见本单位的邀请。',
    tags: ['成果推广'],
    access: ['staff', 'applicant'],
    params: EventParams,
    responses: { 200: { description: '活动', schema: EventSchema } },
    errors: ['EVENT_NOT_FOUND'],
    async handler({ params, principal }) {
      return {
        status: 200,
        body: await view(params.eventId, principal!.role === 'applicant' ? principal!.institutionId : undefined),
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/events/:eventId/rsvp',
    summary: '答复活动邀请：参加或不参加（展示单位）',
    description: '活动开始前可更改答复；不参加的须说明原因。只有确认参加的单位会收到活动前 7 天和前 1 天的提醒。',
    tags: ['成果推广'],
    access: ['applicant'],
    params: EventParams,
    // A decline needs its reason: a union on `response` documents it. zod leaves it optional so that the
    // event workflow refuses a decline without one (audited like its other refusals, `event.rsvp_refused`); the
    // document states it required and non-blank.
    body: z
      .discriminatedUnion('response', [
        z
          .object({
            // Nothing else to say: a reason sent with a confirmation would be recorded nowhere (422, not dropped).
            response: z.literal('confirm').openapi({ title: '答复' }),
          })
          .strict(),
        z
          .object({
            response: z.literal('decline').openapi({ title: '答复' }),
            reason: draftText(500, { oneLine: false })
              .optional()
              .openapi({ title: '不参加的原因', description: '不参加的原因（必填）', pattern: cleanTextPattern(1) }),
          })
          .strict()
          .openapi({ required: ['response', 'reason'] }),
      ])
      .openapi('Rsvp'),
    responses: {
      200: { description: '已记录', schema: z.object({ status: z.enum(['confirmed', 'declined']) }) },
    },
    errors: ['EVENT_NOT_FOUND', 'NOT_INVITED', 'EVENT_CLOSED', 'RECEIPT_KEPT'],
    async handler({ params, body, principal, req, receivedAt: receipt, updateId }) {
      const receivedAt = receipt.toISOString();
      await load(params.eventId);
      const requestId = requestIdOf(req);
      const result = await auditRefusal(
        db,
        principal!,
        {
          action: 'event.rsvp_refused',
          subjectKind: 'event',
          subjectId: params.eventId,
          requestId,
          workflowId: eventWorkflowId(params.eventId),
        },
        async () => {
          if (!(await isInvited(db, params.eventId, principal!.institutionId!)))
            throw new AppError('NOT_INVITED', '贵单位不在本次活动的邀请名单中');
          return deliverReceipt(
            deps,
            eventWorkflowId(params.eventId),
            rsvpUpdate,
            {
              institutionId: principal!.institutionId!,
              response: body.response,
              reason: body.response === 'decline' ? body.reason : undefined,
              receivedAt,
              actor: principal!.actor,
              requestId,
            },
            { updateId, caller: principal!.actor, whenEnded: () => new AppError('EVENT_CLOSED', '活动已结束') },
          );
        },
      );
      return { status: 200, body: result };
    },
  });

  routes.add({
    method: 'put',
    path: '/api/events/:eventId',
    summary: '改期、更换地点或取消活动（工作人员，须说明理由）',
    description:
      '改期或换地点时，已确认参加和尚未答复的单位都会收到通知，提醒按新的时间发送，原时间的提醒不再发送；取消时同样通知，之后不再提醒。',
    tags: ['成果推广'],
    access: ['staff'],
    params: EventParams,
    // The three kinds of change as a union, so the document states which fields go together (a refinement
    // would hide it): a new time, a new place (or both), or a cancellation without either; each with its reason.
    body: z
      .union(
        [
          z
            .object({
              startsAt: z.iso
                .datetime({ offset: true })
                .openapi({ title: '活动时间', example: '2027-06-20T09:30:00+08:00' }),
              place: trimmedText(2, 200).optional().openapi({ title: '活动地点' }),
              reason: ChangeReason,
            })
            .strict(),
          z
            .object({
              startsAt: z.iso.datetime({ offset: true }).optional().openapi({ title: '活动时间' }),
              place: trimmedText(2, 200).openapi({ title: '活动地点' }),
              reason: ChangeReason,
            })
            .strict(),
          z
            .object({
              cancel: z.literal(true).openapi({ title: '取消活动' }),
              reason: ChangeReason,
            })
            .strict(),
        ],
        {
          // When every kind of change fails on its reason, the formatter (api/validation.ts) names what the
          // reason lacks (no message here: it describes the closest kind); otherwise say which fields go together.
          error: (issue) => {
            const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
            return branches.every((b) => b.some((i) => i.path[0] === 'reason'))
              ? undefined
              : '改期须给出新的时间或地点；取消时不能同时改期';
          },
        },
      )
      .openapi('ChangeEvent'),
    responses: { 200: { description: '已变更', schema: EventSchema } },
    errors: ['EVENT_NOT_FOUND', 'EVENT_CLOSED', 'EVENT_TIME_INVALID'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.eventId);
      await updateWorkflow(
        deps.temporal,
        eventWorkflowId(params.eventId),
        changeEventUpdate,
        {
          startsAt: 'startsAt' in body && body.startsAt ? new Date(body.startsAt).toISOString() : undefined,
          placeZh: 'place' in body ? body.place : undefined,
          cancel: 'cancel' in body ? body.cancel : undefined,
          reason: body.reason,
          actor: principal!.actor,
          requestId: requestIdOf(req),
        },
        { updateId, whenEnded: () => new AppError('EVENT_CLOSED', '活动已结束') },
      );
      return { status: 200, body: await view(params.eventId) };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/events/:eventId/attendance',
    summary: '登记出席情况（工作人员，活动举行后）',
    tags: ['成果推广'],
    access: ['staff'],
    params: EventParams,
    body: z
      .object({
        attended: z
          .array(z.string().min(1).max(60))
          .max(200)
          .openapi({ title: '出席单位', description: '实际出席的单位' }),
      })
      .strict(),
    responses: { 200: { description: '已登记', schema: EventSchema } },
    errors: ['EVENT_NOT_FOUND', 'INSTITUTION_NOT_FOUND', 'EVENT_NOT_HELD', 'NOT_INVITED', 'EVENT_CLOSED'],
    async handler({ params, body, principal, req, updateId }) {
      await load(params.eventId);
      await assertInstitutions('attended', '出席单位', body.attended);
      await updateWorkflow(
        deps.temporal,
        eventWorkflowId(params.eventId),
        recordAttendanceUpdate,
        { attended: body.attended, actor: principal!.actor, requestId: requestIdOf(req) },
        { updateId, whenEnded: () => new AppError('EVENT_CLOSED', '出席情况已登记，活动流程已结束') },
      );
      return { status: 200, body: await view(params.eventId) };
    },
  });
}
