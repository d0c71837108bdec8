import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { STAFF_ROLE_ZH } from '../domain/accounts.js';
import { errorCatalogue, WAIT_CODES, type ErrorCode } from '../domain/errors.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { ROLES, type Principal, type Role } from './auth.js';
import type { Clock } from './clock.js';
import { AppError } from './errors.js';
import { answerOnce, IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN, keyedRequest } from './idempotency.js';
import { describeIssues, parseOptions, type RequestPart } from './validation.js';
import { UPDATE_WAIT_MS } from './workflow-calls.js';
import { SESSION_COOKIE } from './session.js';

extendZodWithOpenApi(z);
// zod's own wording never reaches people: each issue is written by `describeIssues` (api/validation.ts), naming
// the field by its zh-CN label (`.openapi({ title })`).

export { z };

/**
 * Whom a route's access list grants: a role, where `staff` is a staff officer or administrator, and `ops` a
 * staff member whose sub-role is ops (engineers: outbox, Schedules, workflow retries and progress — never a
 * programme decision or an application's content; SPEC "People").
 */
export type Grantee = Role | 'ops';

/**
 * The zh-CN name of each grantee, as a refusal lists them. `staff` names its two sub-roles: ops are centre staff
 * too, and "仅限工作人员" would not tell an ops engineer why they are refused.
 */
const GRANTEE_ZH: Record<Grantee, string> = {
  staff: `管理服务中心${STAFF_ROLE_ZH.officer}或${STAFF_ROLE_ZH.administrator}`,
  applicant: '申报单位用户',
  expert: '评审专家',
  enterprise: '合作企业用户',
  ops: '运维人员',
};

/**
 * Who may call a route: anyone, anyone signed in, the grantees listed, or `administrator` (staff whose sub-role
 * is administrator: account administration).
 */
export type Access = 'public' | 'authenticated' | 'administrator' | Grantee[];

/** What a principal is, as access lists name it: its role, or `ops` for a staff member of sub-role ops. */
export function granteeOf(principal: Principal): Grantee {
  return principal.role === 'staff' && principal.staffRole === 'ops' ? 'ops' : principal.role;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
  req: Request;
  res: Response;
  /**
   * When the request was received (the API's clock, Asia/Shanghai deadlines are compared with it). A retry
   * under the same `Idempotency-Key` keeps the first try's receipt time, so a request received before a
   * deadline and retried after a network failure is still on time.
   */
  receivedAt: Date;
  /** The Update id to send this request's Update under (from its Idempotency-Key); undefined without a key. */
  updateId: string | undefined;
}

export interface JsonResult {
  status: number;
  /** Sent as JSON; omitted for an empty answer (204). */
  body?: unknown;
  /** A file to stream instead of JSON. */
  stream?: Readable;
  headers?: Record<string, string>;
}

export interface RouteSpec<P, Q, B> {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  /** Express path, e.g. /api/rounds/:roundId. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /**
   * Document the JSON body as required even though its schema accepts `{}` (an action would otherwise be
   * documented as needing no body): for a body whose required fields the handler checks itself, to answer with
   * its own code (the objection's REAL_NAME_REQUIRED).
   */
  bodyRequired?: true;
  /** A non-JSON request body (a file upload), documented only: the handler reads the stream itself. */
  rawBody?: { contentTypes: readonly string[]; description: string };
  /**
   * Answers by status: `schema` under `contentType` (default application/json), and under `alternatives` the
   * other media types the same status may carry (an export as CSV or XLSX).
   */
  responses: Record<
    number,
    { description: string; schema?: z.ZodType; contentType?: string; alternatives?: Record<string, z.ZodType> }
  >;
  /** Error codes this route may answer with (documented as problem+json). */
  errors?: ErrorCode[];
  /**
   * Whether a session opened by an expert's assignment link may call it (`Principal.assignmentLink`): `assignment`
   * — a route of one assignment (`:assignmentId`), for the link's assignments only; `session` — the session's
   * own routes (sign out); `material` — a route reading an assigned item's material (an application's
   * attachment), let through here and checked by the handler against the link's assignments
   * (`Principal.assignmentLink.assignmentIds`). Public routes are open to it anyway; every other route answers it
   * 403 ASSIGNMENT_LINK_ONLY.
   */
  linkScope?: 'assignment' | 'session' | 'material';
  /**
   * Only a browser session signed in with the password (staff: and the TOTP code) may call it, never a bearer
   * token (personal or development): 403 SESSION_REQUIRED. Documented with the session cookie as its only
   * security scheme and `x-session-only: true`.
   */
  sessionOnly?: true;
  handler: (ctx: RouteContext<P, Q, B>) => Promise<JsonResult>;
}

/** A route as `ApiRoutes.table` lists it: what `authorise` decides by, without the handler. */
export interface RouteEntry {
  method: RouteSpec<unknown, unknown, unknown>['method'];
  /** Express path, e.g. /api/rounds/:roundId. */
  path: string;
  access: Access;
  linkScope?: RouteSpec<unknown, unknown, unknown>['linkScope'];
  sessionOnly?: true;
}

/**
 * The most a request handler waits on Temporal in all (wall-clock milliseconds): an Update's own wait and a
 * little more; a stalled cluster then answers 503 instead of holding the request open.
 */
const REQUEST_DEADLINE_MS = UPDATE_WAIT_MS + 5_000;

/** On a 503, a 429 (rate limits, api/rate-limit.ts) and a refusal that means "not now" (`WAIT_CODES`): when to try again. */
const RetryAfterHeader = z.object({
  'Retry-After': z.string().optional().openapi({
    description: '稍后重试的秒数（仅随 503、429 RATE_LIMITED、IDEMPOTENCY_KEY_IN_USE 与 SUBMISSION_IN_PROGRESS 返回）',
    example: '5',
  }),
});

/** Documented on every mutating route (see `api/idempotency.ts`). */
const IdempotencyHeader = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN)
    .optional()
    .openapi({
      description:
        '幂等键（可选，1–200 个可见 ASCII 字符）：同一调用者以同一键重试同一请求，返回首次的最终答复' +
        '（响应头 Idempotent-Replayed: true）并沿用首次接收时间；同一键用于不同请求时答复 422 ' +
        'IDEMPOTENCY_KEY_REUSED；首次请求仍在处理时答复 409 IDEMPOTENCY_KEY_IN_USE（附 Retry-After）。' +
        '暂时性故障（503）不予保留，重试将再次执行。',
      example: '3f2b9c4e-7d1a-4e8b-9a0c-5b6d7e8f9a01',
    }),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string().openapi({ example: '请求内容不符合要求' }),
    status: z.number().int(),
    code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z
      .array(
        z.object({
          path: z.string().openapi({ description: 'JSON 路径，如 presenters.0；空串指整个请求体', example: 'title' }),
          message: z.string().openapi({ example: '活动名称至少 4 个字' }),
          label: z.string().optional().openapi({ description: '字段的中文名称（含位置）', example: '活动名称' }),
        }),
      )
      .optional()
      .openapi({ description: '逐项列出的问题（VALIDATION_FAILED 等）；detail 为各项 message 以“；”连接' }),
  })
  .passthrough()
  .openapi('Problem', { description: 'RFC 9457 problem details (application/problem+json).' });

/**
 * `value` validated by `schema` (undefined without one).
 *
 * @throws AppError VALIDATION_FAILED (422): `detail` the sentences an official would write, joined by '；'
 *   (`活动名称至少 4 个字；请填写活动时间`); `errors[]` one `{ path, message, label? }` per problem, `path` the JSON
 *   path (`presenters.0`) for programs.
 */
function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, part: RequestPart): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value, parseOptions);
  if (!result.success) {
    const errors = describeIssues(schema, result.error.issues, part);
    throw new AppError('VALIDATION_FAILED', errors.map((e) => e.message).join('；'), { errors });
  }
  return result.data;
}

/**
 * Whether an absent body stands for `{}`: for an action (POST, DELETE) whose body schema accepts `{}` — it has
 * nothing to say (withdraw, accept, resume) — the body may be left out. A replacement (PUT, PATCH) states its
 * whole content, so leaving it out is refused rather than read as "empty everything".
 */
function bodyMayBeOmitted(method: RouteSpec<unknown, unknown, unknown>['method'], schema: z.ZodType): boolean {
  return (method === 'post' || method === 'delete') && schema.safeParse({}).success;
}

/**
 * The body a route validates when the request has none (no Content-Type, or an empty JSON body), decided once
 * per route: `{}` where it may be omitted (`mayBeOmitted`, see `bodyMayBeOmitted`); for a schema with required
 * fields, `{}` too, so the 422 names each missing field; `undefined` for a schema that accepts no body; otherwise
 * none (`undefined` returned: the request is refused, see `missingBody`).
 */
function absentBody(schema: z.ZodType, mayBeOmitted: boolean): { value: unknown } | undefined {
  if (mayBeOmitted) return { value: {} };
  const asEmpty = schema.safeParse({});
  if (!asEmpty.success && asEmpty.error.issues.every((i) => i.path.length > 0)) return { value: {} };
  if (schema.safeParse(undefined).success) return { value: undefined };
  return undefined;
}

/** The refusal of a request without the body its route requires (and `{}` would name no missing field). */
function missingBody(): AppError {
  return new AppError('VALIDATION_FAILED', '缺少请求体，请以 JSON 发送完整内容', {
    errors: [{ path: '', message: '缺少请求体' }],
  });
}

/**
 * Whether the request carries a body (some bytes, or chunks) whose Content-Type is not JSON — a form, text/plain,
 * none at all —, which the JSON reader (api/json.ts) leaves unread. An empty body (`Content-Length: 0`) of any
 * type is no body.
 */
function sentNonJsonBody(req: Request): boolean {
  const length = req.headers['content-length'];
  const sent = req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
  return sent && !req.is(['application/json', 'application/*+json']);
}

/**
 * Whether a route that takes no body was sent one: a JSON body other than `{}` (an empty one is none), or bytes of
 * any other type (`sentNonJsonBody`).
 */
function sentUnwantedBody(req: Request): boolean {
  if (req.body === undefined) return sentNonJsonBody(req);
  const body: unknown = req.body;
  return !(typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
}

/**
 * The refusal of a body sent to a route that takes none (`POST /api/accounts/:id/enable` with `{"reason":"…"}`):
 * what it says would otherwise be dropped unread, the caller believing it recorded.
 */
function bodyNotAccepted(): AppError {
  return new AppError('BODY_NOT_ACCEPTED', '此操作无需提交内容，所附内容不会被记录；请不带请求体（或以 {}）重新发送');
}

/** The refusal of a body a JSON route cannot read: its words would otherwise be dropped unread. */
function notJson(): AppError {
  return new AppError('UNSUPPORTED_MEDIA_TYPE', '请以 application/json 发送请求体（Content-Type: application/json）');
}

/** Whether the body is sent compressed (a Content-Encoding other than `identity`). */
function encodedBody(req: Request): boolean {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  return encoding !== '' && encoding !== 'identity';
}

/**
 * The refusal of a compressed upload: a file is stored as the bytes that arrive, so a compressed one would be
 * stored as something other than the file.
 */
function encodedUpload(): AppError {
  return new AppError('UNSUPPORTED_MEDIA_TYPE', '上传文件请勿压缩传输：请去掉 Content-Encoding 后重新上传');
}

/**
 * A query without its empty parameters: `limit=` (an HTML form's empty field, a template's blank) is read as
 * no `limit` at all, so the default applies, an optional parameter is absent and a required one is missing.
 */
function withoutEmptyValues(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

/**
 * Whether `principal` may call a route of this `access` and `linkScope` with these path `params`.
 *
 * @throws AppError UNAUTHENTICATED (401), ASSIGNMENT_LINK_ONLY (403; a link's session outside its assignments),
 *   FORBIDDEN (403).
 */
function authorise(
  access: Access,
  principal: Principal | undefined,
  linkScope: RouteSpec<unknown, unknown, unknown>['linkScope'],
  params: Record<string, string | undefined>,
): void {
  if (access === 'public') return;
  if (!principal) throw new AppError('UNAUTHENTICATED', '此操作需要登录令牌');
  const link = principal.assignmentLink;
  if (link) {
    const allowed =
      linkScope === 'session' ||
      linkScope === 'material' ||
      (linkScope === 'assignment' && link.assignmentIds.includes(params.assignmentId ?? ''));
    if (!allowed) {
      throw new AppError(
        'ASSIGNMENT_LINK_ONLY',
        '本会话由评审邀请或提醒邮件中的链接打开，仅可查看和处理该邮件所列的评审任务。如需处理其他评审任务或使用其他功能，请退出登录（DELETE /api/session 或 /account 页面），再在 /account/sign-in 以电子邮箱和密码登录。',
      );
    }
  }
  if (access === 'authenticated') return;
  if (access === 'administrator') {
    if (principal.role !== 'staff' || principal.staffRole !== 'administrator') {
      throw new AppError('FORBIDDEN', '此操作仅限系统管理员');
    }
    return;
  }
  if (!access.includes(granteeOf(principal))) {
    throw new AppError('FORBIDDEN', `此操作仅限${access.map((g) => GRANTEE_ZH[g]).join('、')}`);
  }
}

/**
 * The keys of the OpenAPI extension `x-roles`: the roles (`staff` an officer), `ops` for a staff member of
 * sub-role ops, and `administrator` for a staff administrator.
 */
type RoleKey = Grantee | 'administrator';

/**
 * Who may call an operation, as the OpenAPI extension `x-roles`: `{ staff, applicant, expert, enterprise, ops,
 * administrator }`, each true when that kind of caller may call it (all of them for a public or any-token
 * route). `administrator` is a staff account whose staff role is administrator: true for every staff route as
 * well as for the administrator-only ones (`access: 'administrator'`, where `staff` is false, since an officer
 * is refused). Clients and the contract test (`test/e2e/api.contract.test.ts`, filtering with
 * `/x-roles/<role> == true`) select a role's operations by it.
 */
function rolesExtension(access: Access): Record<RoleKey, boolean> {
  const may = (role: RoleKey): boolean => {
    if (access === 'public' || access === 'authenticated') return true;
    if (access === 'administrator') return role === 'administrator';
    return access.includes(role === 'administrator' ? 'staff' : role);
  };
  return Object.fromEntries(
    [...ROLES, 'ops' as const, 'administrator' as const].map((role) => [role, may(role)]),
  ) as Record<RoleKey, boolean>;
}

/**
 * Routes are declared once: the same zod schemas validate requests and generate the OpenAPI document, so
 * the document cannot drift from the code.
 */
export class ApiRoutes {
  readonly router = Router();
  readonly registry = new OpenAPIRegistry();
  /**
   * Every route added, in the order added: its method, Express path, access and link scope. The authorization
   * matrix (test/e2e/authorization.matrix.test.ts) reads it from the running API (`RunningApi.routes`), so a
   * route added without a matrix row fails that test.
   */
  readonly table: RouteEntry[] = [];

  /** `db` keeps Idempotency-Key receipts and answers; `clock` stamps receipt times. */
  constructor(private readonly deps: { db: Db; clock: Clock; temporal: Client }) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      description:
        '个人访问令牌（`rh_pat_…`，登录后 POST /api/access-tokens 创建，仅显示一次）。' +
        '开发与测试环境另可用 `npm run -s token -- staff` 生成的开发令牌（JWT），生产环境拒绝开发令牌（401 DEVELOPMENT_TOKEN_REFUSED）。',
    });
    this.registry.registerComponent('securitySchemes', 'sessionCookie', {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description:
        '浏览器会话（POST /api/session 或 /account/sign-in 登录后设置）。以会话 Cookie 发出的写操作须附 CSRF 令牌：' +
        '请求头 `X-CSRF-Token` 或表单字段 `_csrf`，其值取自 GET /api/session 的 `csrfToken`；缺少或不符答复 403 CSRF_TOKEN_INVALID。',
    });
  }

  add<P = undefined, Q = undefined, B = undefined>(spec: RouteSpec<P, Q, B>): void {
    this.table.push({
      method: spec.method,
      path: spec.path,
      access: spec.access,
      ...(spec.linkScope ? { linkScope: spec.linkScope } : {}),
      ...(spec.sessionOnly ? { sessionOnly: spec.sessionOnly } : {}),
    });
    const mayBeOmitted = spec.body ? bodyMayBeOmitted(spec.method, spec.body) : false;
    const whenAbsent = spec.body ? absentBody(spec.body, mayBeOmitted) : undefined;
    const openapiPath = spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<
      string,
      { description: string; headers?: z.ZodObject; content?: Record<string, { schema: z.ZodType }> }
    > = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      const content = {
        ...(r.schema ? { [r.contentType ?? 'application/json']: { schema: r.schema } } : {}),
        ...Object.fromEntries(Object.entries(r.alternatives ?? {}).map(([type, schema]) => [type, { schema }])),
      };
      responses[status] =
        Object.keys(content).length > 0 ? { description: r.description, content } : { description: r.description };
    }
    const errorCodes = new Set<ErrorCode>(spec.errors ?? []);
    errorCodes.add('SERVICE_UNAVAILABLE');
    if (spec.method !== 'get' && !spec.rawBody) {
      errorCodes.add('IDEMPOTENCY_KEY_REUSED');
      errorCodes.add('IDEMPOTENCY_KEY_IN_USE');
    }
    // Any route: a query parameter it does not read is refused (`strictQuery`).
    errorCodes.add('VALIDATION_FAILED');
    // Any path or query may be percent-encoded non-UTF-8 (api/json.ts); a JSON body may also be malformed or
    // declare a charset nobody knows.
    errorCodes.add('INVALID_ENCODING');
    if (spec.rawBody) errorCodes.add('UNSUPPORTED_MEDIA_TYPE');
    if (!spec.body && !spec.rawBody) errorCodes.add('BODY_NOT_ACCEPTED');
    if (spec.body) {
      // A JSON body that is not JSON, sent as another type, too large, cut short or wrongly compressed.
      errorCodes.add('MALFORMED_JSON');
      errorCodes.add('DUPLICATE_JSON_KEY');
      errorCodes.add('UNSUPPORTED_MEDIA_TYPE');
      errorCodes.add('PAYLOAD_TOO_LARGE');
      errorCodes.add('BODY_UNREADABLE');
    }
    if (spec.access !== 'public') errorCodes.add('UNAUTHENTICATED');
    if (Array.isArray(spec.access) || spec.access === 'administrator') errorCodes.add('FORBIDDEN');
    if (spec.access !== 'public' && !(spec.linkScope === 'session')) errorCodes.add('ASSIGNMENT_LINK_ONLY');
    if (spec.access !== 'public') {
      errorCodes.add('SESSION_ENDED');
      if (spec.sessionOnly) errorCodes.add('SESSION_REQUIRED');
      errorCodes.add('DEVELOPMENT_TOKEN_REFUSED');
      if (spec.method !== 'get') errorCodes.add('CSRF_TOKEN_INVALID');
    }
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of errorCodes) {
      const status = errorCatalogue[code].status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, codes] of byStatus) {
      responses[String(status)] = {
        description: codes.map((c) => `\`${c}\` ${errorCatalogue[c].title}`).join('；'),
        ...(status === 503 || status === 429 || codes.some((c) => WAIT_CODES.has(c))
          ? { headers: RetryAfterHeader }
          : {}),
        content: { 'application/problem+json': { schema: ProblemSchema } },
      };
    }
    this.registry.registerPath({
      method: spec.method,
      path: openapiPath,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      ...(spec.access === 'public'
        ? {}
        : { security: spec.sessionOnly ? [{ sessionCookie: [] }] : [{ bearerAuth: [] }, { sessionCookie: [] }] }),
      'x-roles': rolesExtension(spec.access),
      ...(spec.sessionOnly ? { 'x-session-only': true } : {}),
      request: {
        ...(spec.method !== 'get' && !spec.rawBody ? { headers: IdempotencyHeader } : {}),
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body
          ? {
              body: {
                content: { 'application/json': { schema: spec.body } },
                required: spec.bodyRequired ?? !mayBeOmitted,
              },
            }
          : {}),
        ...(spec.rawBody
          ? {
              body: {
                description: spec.rawBody.description,
                content: Object.fromEntries(
                  spec.rawBody.contentTypes.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]),
                ),
                required: true,
              },
            }
          : {}),
      },
      responses,
    });

    // A query parameter the route does not read is refused (422 naming it), never ignored: a mistyped filter
    // (`statuss=failed`) would otherwise list everything.
    const strictQuery: z.ZodType | undefined =
      spec.query instanceof z.ZodObject ? spec.query.strict() : (spec.query ?? z.object({}).strict());
    this.router[spec.method](spec.path, async (req, res) => {
      authorise(spec.access, req.principal, spec.linkScope, req.params as Record<string, string | undefined>);
      if (spec.sessionOnly && req.principal?.via !== 'session') throw new AppError('SESSION_REQUIRED');
      const params = parse(spec.params, req.params, '路径');
      const query = parse(strictQuery as z.ZodType<Q> | undefined, withoutEmptyValues(req.query), '查询参数');
      // An absent body stands for `{}` here and in the Idempotency-Key fingerprint alike.
      if (spec.rawBody && encodedBody(req)) throw encodedUpload();
      if (!spec.body && !spec.rawBody && sentUnwantedBody(req)) throw bodyNotAccepted();
      if (spec.body && req.body === undefined) {
        if (sentNonJsonBody(req)) throw notJson();
        if (!whenAbsent) throw missingBody();
        req.body = whenAbsent.value;
      }
      const body = parse(spec.body, req.body, '请求体');
      const keyed = spec.rawBody
        ? undefined
        : keyedRequest(req, req.principal?.actor, { path: spec.path, params: req.params });
      const result = await answerOnce(this.deps, { req, res, keyed }, ({ receivedAt, updateId }) =>
        this.deps.temporal.withDeadline(Date.now() + REQUEST_DEADLINE_MS, () =>
          spec.handler({ params, query, body, principal: req.principal, req, res, receivedAt, updateId }),
        ),
      );
      if (!result) return;
      for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
      res.status(result.status);
      if (result.stream) await pipeline(result.stream, res);
      else if (result.body === undefined) res.end();
      else res.json(result.body);
    });
  }

  document(info: { version: string; serverUrl?: string | undefined }) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'ronghe 产教融合项目管理 API',
        version: info.version,
        description:
          '河南省本科高校产教融合行动计划各项程序（申报、专家评审、公示、动态评价、名录淘汰、成果推广）的 API。' +
          '错误均以 application/problem+json 返回，含稳定的 `code` 与中文 `title`。' +
          '文本（请求体、查询与路径）须为 UTF-8，且不得含空字符（U+0000），否则答复 400 `INVALID_ENCODING`。' +
          '每个操作的 `x-roles` 注明可调用的角色（staff 即工作人员、applicant、expert、enterprise、ops 即运维人员、administrator 即系统管理员）。',
      },
      ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    });
  }
}
