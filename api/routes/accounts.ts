import type { Request } from 'express';
import type { Db } from '../../db/knex.js';
import {
  disableAccount,
  enableAccount,
  findAccount,
  insertAccessToken,
  listAccessTokens,
  listAccounts,
  revokeAccessToken,
  type AccessToken,
  type Account,
} from '../../db/repositories/accounts.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { ACCOUNT_KIND_ZH, ACCOUNT_KINDS, STAFF_ROLES } from '../../domain/accounts.js';
import { formatInstantZh } from '../../domain/calendar/index.js';
import { MAILBOX_MAX_LENGTH, MAILBOX_PATTERN } from '../../mail/address.js';
import {
  accountRoleZh,
  createAccount,
  normaliseEmail,
  sendAccountLink,
  type AccountServiceDeps,
} from '../../services/accounts.js';
import { ACCESS_TOKEN_PREFIX, newToken } from '../../services/tokens.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { requestIdOf } from '../request.js';
import { z, type ApiRoutes } from '../route.js';
import { oneLineText, queryInteger, trimmedText, UUID_PATTERN } from '../schemas.js';
import { csrfTokenOf } from '../session.js';
import { checkPassword, checkSecondFactor, endSession, isReady, startSession, type SignInDeps } from '../sign-in.js';

export interface AccountRouteDeps extends AccountServiceDeps, SignInDeps {
  db: Db;
  /** Where links in emails point: PUBLIC_BASE_URL, else the API's own local address (never the Host header). */
  baseUrlOf: (req: Request) => string;
  /** The longest a personal access token may live (days; ACCESS_TOKEN_MAX_DAYS). */
  accessTokenMaxDays: number;
}

/** An account as the API shows it (never its secrets). */
export const AccountSchema = z
  .object({
    id: z.string().uuid(),
    kind: z.enum(ACCOUNT_KINDS as [string, ...string[]]).openapi({
      description: 'staff 管理服务中心工作人员；institution 申报单位用户；enterprise 合作企业用户；expert 评审专家',
    }),
    staffRole: z
      .enum(STAFF_ROLES as [string, ...string[]])
      .nullable()
      .openapi({
        description: '工作人员的岗位：officer 业务人员；administrator 系统管理员（管理账号）；ops 运维人员',
      }),
    roleZh: z.string().openapi({ example: '业务人员' }),
    institutionId: z.string().nullable(),
    enterpriseId: z.string().nullable(),
    expertId: z.string().nullable(),
    email: z.string(),
    name: z.string(),
    status: z.enum(['invited', 'active', 'disabled']).openapi({
      description: 'invited 已邀请、尚未设置密码（工作人员另须绑定身份验证器）；active 可登录；disabled 已停用',
    }),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
    lastSignInAt: z.string().nullable(),
  })
  .openapi('Account');

type AccountView = z.infer<typeof AccountSchema>;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The API's view of an account (`AccountSchema`). */
export function accountView(a: Account): AccountView {
  return {
    id: a.id,
    kind: a.kind,
    staffRole: a.staffRole,
    roleZh: accountRoleZh(a),
    institutionId: a.institutionId,
    enterpriseId: a.enterpriseId,
    expertId: a.expertId,
    email: a.email,
    name: a.name,
    status: a.disabledAt ? 'disabled' : isReady(a) ? 'active' : 'invited',
    disabledAt: iso(a.disabledAt),
    disabledReason: a.disabledReason,
    createdAt: a.createdAt.toISOString(),
    lastSignInAt: iso(a.lastSignInAt),
  };
}

const AccessTokenSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi('AccessToken');

const tokenView = (t: AccessToken): z.infer<typeof AccessTokenSchema> => ({
  id: t.id,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
});

const AccountParams = z.object({
  accountId: z.string().regex(UUID_PATTERN, '须为账号编号（UUID）').openapi({ title: '账号编号' }),
});

const SessionSchema = z.object({
  account: AccountSchema.nullable().openapi({ description: '当前登录的账号；未登录为 null' }),
  csrfToken: z.string().openapi({ description: '以会话 Cookie 发出写操作时，放在请求头 X-CSRF-Token 中' }),
});

/**
 * A new account: one object per kind, each with the one reference that kind needs (a staff role, or the
 * institution, enterprise or expert it acts for) and no other, so the document states which fields go together.
 * The email is read as a person types it (`normaliseEmail` trims it); the document states the plain mailbox.
 */
function newAccountOf<const K extends 'staff' | 'institution' | 'enterprise' | 'expert'>(
  kind: K,
  reference: z.ZodRawShape,
) {
  return z
    .object({
      kind: z.literal(kind).openapi({ title: '账号类型', description: ACCOUNT_KIND_ZH[kind] }),
      ...reference,
      email: z.string().max(MAILBOX_MAX_LENGTH).openapi({
        title: '电子邮箱',
        description: '单个邮箱地址，不含姓名、多个地址或换行',
        example: 'li.ming@ronghe.example',
        pattern: MAILBOX_PATTERN.source,
      }),
      name: oneLineText(1, 40).openapi({ title: '姓名', example: '李明' }),
    })
    .strict();
}

const NewAccountBody = z
  .discriminatedUnion('kind', [
    newAccountOf('staff', {
      staffRole: z.enum(STAFF_ROLES as ['officer', 'administrator', 'ops']).openapi({ title: '工作人员岗位' }),
    }),
    newAccountOf('institution', {
      institutionId: z.string().min(1).max(100).openapi({ title: '所代表的单位' }),
    }),
    newAccountOf('enterprise', {
      enterpriseId: z.string().min(1).max(100).openapi({ title: '所代表的企业' }),
    }),
    newAccountOf('expert', { expertId: z.string().min(1).max(100).openapi({ title: '专家库编号' }) }),
  ])
  .openapi('NewAccount');

/** Where each kind's reference points: its field, the field's label, its table, and what a row of it is called. */
const REFERENCES = {
  institution: { field: 'institutionId', label: '所代表的单位', table: 'institutions', noun: '申报单位' },
  enterprise: { field: 'enterpriseId', label: '所代表的企业', table: 'enterprises', noun: '合作企业' },
  expert: { field: 'expertId', label: '专家库编号', table: 'experts', noun: '专家库中的专家' },
} as const;

/**
 * The 422 for a new account whose reference names no row of its kind (the foreign key refused it), naming the
 * field and, when the id names a row of another kind (a university given as `enterpriseId`), what it is instead.
 */
async function unknownReference(db: Db, body: { kind: string } & Record<string, unknown>): Promise<AppError> {
  const wanted = REFERENCES[body.kind as keyof typeof REFERENCES];
  if (!wanted) return new AppError('VALIDATION_FAILED', '所代表的单位、企业或专家不存在，请核对编号');
  const id = String(body[wanted.field]);
  let message = `没有编号为“${id}”的${wanted.noun}，请核对编号`;
  for (const other of Object.values(REFERENCES)) {
    if (other === wanted) continue;
    const row = await db(other.table).where({ id }).first<{ name_zh: string } | undefined>('name_zh');
    if (row) message = `“${id}”（${row.name_zh}）是${other.noun}，不是${wanted.noun}；请核对编号或账号类型`;
  }
  return new AppError('VALIDATION_FAILED', `${wanted.label}：${message}`, {
    errors: [{ path: wanted.field, label: wanted.label, message }],
  });
}

function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';
}

/** PostgreSQL's unique violation (23505) of the index `constraint`. */
function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && e.constraint === constraint;
}

/** 409 EXPERT_ACCOUNT_EXISTS, its detail naming the expert (id and name) and what to do instead. */
async function expertHasAccount(db: Db, expertId: string): Promise<AppError> {
  const expert = await db('experts').where({ id: expertId }).first<{ name_zh: string } | undefined>('name_zh');
  const who = expert ? `专家 ${expertId}（${expert.name_zh}）` : `专家 ${expertId}`;
  return new AppError(
    'EXPERT_ACCOUNT_EXISTS',
    `${who}已有账号，每位专家只能有一个账号；请在账号列表中查看（已停用的可重新启用）`,
  );
}

/** The account acting (accounts only: a development token has none). */
function accountIdOf(principal: Principal | undefined): string {
  if (!principal?.accountId) {
    throw new AppError('FORBIDDEN', '个人访问令牌属于账号：请以账号登录后操作（开发令牌不能创建）');
  }
  return principal.accountId;
}

/**
 * The session API for the web app (sign in, who am I + CSRF token, sign out), account administration for staff
 * administrators (create + invitation, list, disable/enable, re-send the invitation), and one's own personal
 * access tokens.
 */
export function accountRoutes(routes: ApiRoutes, deps: AccountRouteDeps): void {
  const { db } = deps;

  routes.add({
    method: 'get',
    path: '/api/session',
    summary: '当前登录状态与 CSRF 令牌',
    description:
      '返回当前会话的账号（未登录为 null）与 CSRF 令牌；以会话 Cookie 发出的写操作须在请求头 X-CSRF-Token 中附上该令牌。',
    tags: ['账号'],
    access: 'public',
    responses: { 200: { description: '登录状态', schema: SessionSchema } },
    handler({ req }) {
      // The account as `authenticate` read it for this request.
      const account = req.principal?.via === 'session' ? req.account : undefined;
      return Promise.resolve({
        status: 200,
        body: { account: account ? accountView(account) : null, csrfToken: csrfTokenOf(req) },
      });
    },
  });

  routes.add({
    method: 'post',
    path: '/api/session',
    summary: '登录（电子邮箱 + 密码；工作人员另须动态验证码）',
    description:
      '成功后设置会话 Cookie（HttpOnly、SameSite=Lax，生产环境 Secure），返回账号与新会话的 CSRF 令牌。' +
      '工作人员须同时提供身份验证器中的 6 位动态验证码（totp）。' +
      '登录失败次数按来源地址和账号分别限制（与登录页面、动态验证码页面合并计数），超过时答复 429 RATE_LIMITED 并附 Retry-After。',
    tags: ['账号'],
    access: 'public',
    body: z.object({
      email: z.string().max(MAILBOX_MAX_LENGTH).openapi({ title: '电子邮箱' }),
      password: z.string().max(1000).openapi({ title: '密码' }),
      totp: z.string().max(20).optional().openapi({ title: '动态验证码' }),
    }),
    responses: { 200: { description: '已登录', schema: SessionSchema } },
    errors: [
      'SIGN_IN_FAILED',
      'ACCOUNT_DISABLED',
      'ACCOUNT_NOT_READY',
      'SECOND_FACTOR_REQUIRED',
      'SECOND_FACTOR_INVALID',
      'RATE_LIMITED',
    ],
    async handler({ body, req }) {
      // Each check is counted (per account and per address) by checkPassword / checkSecondFactor themselves,
      // once the body has been read and validated: a malformed post counts against no one.
      const account = await checkPassword(deps, req, body.email, body.password);
      await checkSecondFactor(deps, req, account, body.totp);
      await startSession(deps, req, account);
      return { status: 200, body: { account: accountView(account), csrfToken: csrfTokenOf(req) } };
    },
  });

  routes.add({
    method: 'delete',
    path: '/api/session',
    summary: '退出登录',
    tags: ['账号'],
    access: 'authenticated',
    linkScope: 'session',
    responses: { 204: { description: '已退出' } },
    async handler({ req }) {
      if (req.principal?.via === 'session') await endSession(deps, req);
      return { status: 204 };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/accounts',
    summary: '创建账号并发送邀请邮件（系统管理员）',
    description:
      '创建后向该邮箱发送邀请邮件，内含一次性链接（72 小时内有效）用于设置密码；工作人员账号另须绑定身份验证器。',
    tags: ['账号'],
    access: 'administrator',
    body: NewAccountBody,
    responses: {
      201: { description: '已创建，邀请邮件已发出', schema: z.object({ account: AccountSchema }) },
    },
    errors: ['ACCOUNT_EXISTS', 'EXPERT_ACCOUNT_EXISTS'],
    async handler({ body, principal, req }) {
      const email = normaliseEmail(body.email);
      if (!email) {
        throw new AppError('VALIDATION_FAILED', '电子邮箱应为单个邮箱地址（如 name@example.com）', {
          errors: [{ path: 'email', message: '电子邮箱应为单个邮箱地址（如 name@example.com）', label: '电子邮箱' }],
        });
      }
      let created;
      try {
        created = await createAccount(
          deps,
          { ...body, email },
          { actor: principal!.actor, role: principal!.role, requestId: requestIdOf(req) },
          deps.baseUrlOf(req),
        );
      } catch (err) {
        // One account per expert (migration 019): the index decides, so two requests at once cannot both pass.
        if (isUniqueViolation(err, 'accounts_expert_unique')) {
          throw await expertHasAccount(db, String((body as Record<string, unknown>).expertId));
        }
        if (isForeignKeyViolation(err)) throw await unknownReference(db, body);
        throw err;
      }
      if (!created) throw new AppError('ACCOUNT_EXISTS', `${email} 已有账号，请在账号列表中查看`);
      return { status: 201, body: { account: accountView(created.account) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/accounts',
    summary: '账号列表（系统管理员）',
    tags: ['账号'],
    access: 'administrator',
    query: z.object({
      kind: z
        .enum(ACCOUNT_KINDS as ['staff', 'institution', 'enterprise', 'expert'])
        .optional()
        .openapi({ title: '账号类型' }),
      offset: queryInteger({ min: 0, default: 0 }).openapi({ title: '分页起点' }),
      limit: queryInteger({ min: 1, max: 200, default: 50 }).openapi({ title: '每页条数' }),
    }),
    responses: {
      200: {
        description: '按创建时间排序的一页账号',
        schema: z.object({ items: z.array(AccountSchema), total: z.number().int() }),
      },
    },
    async handler({ query }) {
      const page = await listAccounts(db, query);
      return { status: 200, body: { items: page.items.map(accountView), total: page.total } };
    },
  });

  /** The account an administrator's route names. @throws AppError ACCOUNT_NOT_FOUND when there is none. */
  const existingAccount = async (accountId: string): Promise<Account> => {
    const account = await findAccount(db, accountId);
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
    return account;
  };

  const audited = async (principal: Principal, req: Request, action: string, accountId: string, reason?: string) =>
    recordAudit(db, {
      actor: principal.actor,
      role: principal.role,
      action,
      subjectKind: 'account',
      subjectId: accountId,
      reason,
      requestId: requestIdOf(req),
    });

  routes.add({
    method: 'post',
    path: '/api/accounts/:accountId/disable',
    summary: '停用账号（系统管理员）',
    description:
      '停用后该账号的全部会话与个人访问令牌立即失效；账号及其历史记录保留，可再启用（须重新登录）。' +
      '不能停用本人账号（409 ACCOUNT_SELF_DISABLE，由其他系统管理员操作），也不能停用最后一位启用中的系统管理员（409 LAST_ADMINISTRATOR）。',
    tags: ['账号'],
    access: 'administrator',
    params: AccountParams,
    body: z.object({ reason: trimmedText(2, 500).openapi({ title: '停用原因' }) }),
    responses: { 200: { description: '已停用', schema: z.object({ account: AccountSchema }) } },
    errors: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_SELF_DISABLE', 'LAST_ADMINISTRATOR', 'ACCOUNT_STATE_CONFLICT'],
    async handler({ params, body, principal, req, receivedAt }) {
      // An administrator always has an account (a development staff token acts as an officer).
      if (params.accountId === principal!.accountId) throw new AppError('ACCOUNT_SELF_DISABLE');
      const disabled = await disableAccount(db, params.accountId, {
        actor: principal!.actor,
        reason: body.reason,
        at: receivedAt,
      });
      if (disabled === 'last-administrator') {
        throw new AppError(
          'LAST_ADMINISTRATOR',
          '该账号是最后一位启用中的系统管理员：请先创建或启用另一位系统管理员账号，再停用此账号',
        );
      }
      if (!disabled) {
        // Already disabled: this reason would be recorded nowhere, so the request is refused rather than taken.
        const account = await existingAccount(params.accountId);
        throw new AppError(
          'ACCOUNT_STATE_CONFLICT',
          `该账号已于 ${formatInstantZh(account.disabledAt!)}（北京时间）停用（原因：${account.disabledReason ?? '未记录'}），无需再次停用；如需更正，请先启用再停用`,
        );
      }
      await audited(principal!, req, 'account.disable', disabled.id, body.reason);
      return { status: 200, body: { account: accountView(disabled) } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/accounts/:accountId/enable',
    summary: '重新启用账号（系统管理员）',
    tags: ['账号'],
    access: 'administrator',
    params: AccountParams,
    responses: { 200: { description: '已启用', schema: z.object({ account: AccountSchema }) } },
    errors: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_STATE_CONFLICT'],
    async handler({ params, principal, req }) {
      const enabled = await enableAccount(db, params.accountId);
      if (!enabled) {
        await existingAccount(params.accountId);
        throw new AppError('ACCOUNT_STATE_CONFLICT', '该账号未停用，无需启用');
      }
      await audited(principal!, req, 'account.enable', enabled.id);
      return { status: 200, body: { account: accountView(enabled) } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/accounts/:accountId/invitation',
    summary: '重新发送邀请邮件（系统管理员）',
    description: '发出新的一次性链接（72 小时内有效），此前未使用的邀请链接随即失效。',
    tags: ['账号'],
    access: 'administrator',
    params: AccountParams,
    responses: { 202: { description: '邀请邮件已发出', schema: z.object({ expiresAt: z.string() }) } },
    errors: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_STATE_CONFLICT'],
    async handler({ params, principal, req }) {
      const account = await existingAccount(params.accountId);
      if (account.disabledAt) throw new AppError('ACCOUNT_STATE_CONFLICT', '该账号已停用，请先启用再发送邀请');
      if (isReady(account)) {
        throw new AppError('ACCOUNT_STATE_CONFLICT', '该账号已完成设置；忘记密码请在登录页申请重置');
      }
      const link = await sendAccountLink(deps, account, 'invitation', deps.baseUrlOf(req));
      await audited(principal!, req, 'account.invite', account.id);
      return { status: 202, body: { expiresAt: link.expiresAt.toISOString() } };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/access-tokens',
    summary: '创建个人访问令牌（仅本人账号、仅浏览器登录会话；令牌只显示这一次）',
    description:
      `令牌形如 \`${ACCESS_TOKEN_PREFIX}…\`，以 Authorization: Bearer 使用；库中只存其哈希。账号停用或重置密码后全部失效。` +
      '只能以登录会话（密码登录，工作人员另须动态验证码）创建：以令牌（个人访问令牌或开发令牌）调用答复 403 SESSION_REQUIRED。',
    tags: ['账号'],
    access: 'authenticated',
    body: z.object({
      name: oneLineText(1, 100).openapi({ title: '令牌名称', example: '年度数据导出脚本' }),
      // The bound is the configured one (ACCESS_TOKEN_MAX_DAYS), so the document states it.
      expiresInDays: z
        .number()
        .int()
        .min(1)
        .max(deps.accessTokenMaxDays, `至多 ${deps.accessTokenMaxDays} 天`)
        .default(Math.min(30, deps.accessTokenMaxDays))
        .openapi({ title: '有效天数' }),
    }),
    responses: {
      201: {
        description: '已创建；token 只在此显示一次',
        schema: z.object({ token: z.string(), accessToken: AccessTokenSchema }),
      },
    },
    // Only a session signed in with the password (staff: and TOTP) makes tokens: a token making tokens would let
    // a stolen one live on, or leave one behind its revocation, without the password or second factor.
    sessionOnly: true,
    async handler({ body, principal, req, receivedAt }) {
      const accountId = accountIdOf(principal);
      const { token, hash } = newToken(ACCESS_TOKEN_PREFIX);
      const stored = await insertAccessToken(db, {
        accountId,
        name: body.name,
        tokenHash: hash,
        // The account `authenticate` read for this request (a principal with an account has it).
        credentialsEpoch: req.account!.credentialsEpoch,
        createdAt: receivedAt,
        expiresAt: new Date(receivedAt.getTime() + body.expiresInDays * 86_400_000),
      });
      await audited(principal!, req, 'account.token_create', accountId, body.name);
      return { status: 201, body: { token, accessToken: tokenView(stored) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/access-tokens',
    summary: '本人账号的个人访问令牌（不含令牌本身）',
    tags: ['账号'],
    access: 'authenticated',
    responses: { 200: { description: '最新的在前', schema: z.object({ items: z.array(AccessTokenSchema) }) } },
    async handler({ principal }) {
      const items = await listAccessTokens(db, accountIdOf(principal));
      return { status: 200, body: { items: items.map(tokenView) } };
    },
  });

  routes.add({
    method: 'delete',
    path: '/api/access-tokens/:tokenId',
    summary: '撤销本人的一个个人访问令牌',
    tags: ['账号'],
    access: 'authenticated',
    params: z.object({
      tokenId: z.string().regex(UUID_PATTERN, '须为令牌编号（UUID）').openapi({ title: '令牌编号' }),
    }),
    responses: { 204: { description: '已撤销' } },
    errors: ['ACCESS_TOKEN_NOT_FOUND'],
    async handler({ params, principal, req, receivedAt }) {
      const accountId = accountIdOf(principal);
      if (!(await revokeAccessToken(db, accountId, params.tokenId, receivedAt))) {
        throw new AppError('ACCESS_TOKEN_NOT_FOUND');
      }
      await audited(principal!, req, 'account.token_revoke', accountId, params.tokenId);
      return { status: 204 };
    },
  });
}
