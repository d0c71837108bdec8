import { NOMINATIONS_PER_INSTITUTION } from './showcase.js';

/**
 * Every error code a person can meet, with its HTTP status and zh-CN title. Workflows refuse with
 * `ApplicationFailure` whose `type` is one of these codes; the API maps codes to problem+json through this
 * one table.
 */
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 422, title: '请求内容不符合要求' },
  MALFORMED_JSON: { status: 400, title: '请求体不是有效的 JSON' },
  /**
   * A JSON object naming the same member twice (`{"staffRole":"officer","staffRole":"administrator"}`): which
   * value was meant cannot be known, so the body is refused (I-JSON, RFC 7493 §2.3) rather than the last one kept.
   */
  DUPLICATE_JSON_KEY: { status: 400, title: '请求体中同一字段出现了多次' },
  /**
   * A body, form, query string or path declared as (or defaulting to) UTF-8 whose bytes are not UTF-8 (for
   * instance GBK sent without a charset), a body not valid in the charset it declares, or text no UTF-8 can
   * carry or PostgreSQL store (a lone surrogate `\ud800`, U+0000): refused, never stored.
   */
  INVALID_ENCODING: { status: 400, title: '请求内容的字符编码无效' },
  PAYLOAD_TOO_LARGE: { status: 413, title: '请求体过大' },
  /**
   * A body the reader could not take whole: the connection ended early, fewer or more bytes than Content-Length
   * said, or bytes that are not compressed as their Content-Encoding (gzip, deflate, br) says.
   */
  BODY_UNREADABLE: { status: 400, title: '请求体未完整收到或无法解压' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: '不支持的内容类型' },
  /**
   * A body (other than `{}`) sent to an operation that takes none, e.g. a reason sent with enabling an account:
   * refused rather than dropped unread.
   */
  BODY_NOT_ACCEPTED: { status: 400, title: '此操作不接受请求体' },
  UNAUTHENTICATED: { status: 401, title: '未登录或令牌无效' },
  FORBIDDEN: { status: 403, title: '无权执行此操作' },
  NOT_FOUND: { status: 404, title: '未找到请求的资源' },
  ROUND_NOT_FOUND: { status: 404, title: '未找到该申报批次' },
  WORKFLOW_NOT_FOUND: { status: 404, title: '未找到相应的流程' },
  PROGRAMME_NOT_FOUND: { status: 404, title: '未找到该项目类别' },
  /** A change of a programme's rules based on a version that is no longer the current one (someone changed them). */
  RULES_VERSION_CONFLICT: { status: 409, title: '项目类别规则已被他人修改' },
  ROUND_EXISTS: { status: 409, title: '该项目类别本年度的申报批次已存在' },
  ALREADY_STARTED: { status: 409, title: '相应流程已经启动' },
  PROGRAMME_NOT_OPEN_FOR_ROUNDS: { status: 409, title: '该项目类别不通过年度申报批次遴选' },
  COMPRESSED_TIME_FORBIDDEN: { status: 403, title: '生产环境不允许压缩时间' },
  DEADLINE_INVALID: { status: 422, title: '截止日期无效' },
  CALENDAR_INVALID: { status: 422, title: '节假日安排数据无效' },
  CALENDAR_YEAR_UNSUPPORTED: { status: 422, title: '不支持该年份的日历计算' },
  REQUEST_REJECTED: { status: 409, title: '流程拒绝了该请求' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: '该幂等键已用于另一项请求' },
  /** Not kept: the same request under the same key is still being processed; try again after Retry-After. */
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: '同一请求正在处理中，请稍后重试' },
  /** The workflow takes no such request (it has no handler for this Update). */
  UPDATE_NOT_SUPPORTED: { status: 409, title: '该流程不受理此项操作' },
  CALL_NOT_OPEN: { status: 409, title: '申报尚未开始' },
  CALL_CLOSED: { status: 409, title: '申报已截止' },
  /** A submission of this application is received and not yet answered: its draft is pinned until then. */
  SUBMISSION_IN_PROGRESS: { status: 409, title: '该申报的提交正在处理中，暂不能修改' },
  /** The draft changed after the submission's receipt (should not happen: edits wait for pending submissions). */
  DRAFT_CHANGED: { status: 409, title: '提交后申报书又有修改，请重新提交' },
  DEADLINE_PASSED: { status: 409, title: '已过提交截止时间' },
  DEADLINE_NOT_LATER: { status: 422, title: '新的截止时间须晚于当前截止时间' },
  ROUND_NOT_CANCELLABLE: { status: 409, title: '该申报批次已不能撤销' },
  ROUND_CANCELLED: { status: 409, title: '该申报批次已撤销' },
  LIMIT_EXCEEDED: { status: 409, title: '超出限报数量' },
  PERSONAL_LIMIT_EXCEEDED: { status: 409, title: '超出个人限项' },
  BARRED: { status: 409, title: '该单位处于禁止申报期内' },
  /**
   * A submission that would certainly fail the formal check (a rule judged at submission, `formalRules`): refused
   * with each problem in the detail and in `problems` (`{ rule, message }`); nothing is stored.
   */
  FORMAL_CHECK_FAILED: { status: 422, title: '申报材料不符合形式审查要求' },
  INSTITUTION_NOT_ELIGIBLE: { status: 409, title: '该单位不属于本项目类别的申报对象' },
  APPLICATION_NOT_FOUND: { status: 404, title: '未找到该申报' },
  APPLICATION_NOT_EDITABLE: { status: 409, title: '该申报当前不能修改' },
  ATTACHMENT_NOT_FOUND: { status: 404, title: '未找到该附件' },
  ATTACHMENT_TOO_LARGE: { status: 413, title: '附件超过大小限制' },
  ATTACHMENT_TYPE_NOT_ALLOWED: { status: 415, title: '附件类型不允许' },
  ROUND_BUSY: { status: 503, title: '系统繁忙，请稍后重试' },
  SHORTLIST_NOT_READY: { status: 409, title: '推荐名单尚未产生' },
  SHORTLIST_CONFIRMED: { status: 409, title: '推荐名单已确认' },
  REVIEW_NOT_FOUND: { status: 404, title: '未找到该评审' },
  ASSIGNMENT_NOT_FOUND: { status: 404, title: '未找到该评审任务' },
  ASSIGNMENT_CLOSED: { status: 409, title: '该评审任务已结束' },
  REVIEW_DUE_PASSED: { status: 409, title: '已过评审截止时间' },
  REVIEW_CLOSED: { status: 409, title: '评审已结束，不再受理评分' },
  REVIEW_NOT_BLOCKED: { status: 409, title: '该评审的专家分派未受阻' },
  CHILD_NOT_FAILED: { status: 409, title: '该流程没有等待重试的失败环节' },
  PUBLICITY_NOT_FOUND: { status: 404, title: '未找到该公示' },
  PUBLICITY_CLOSED: { status: 409, title: '不在公示期内，不能提出异议' },
  REAL_NAME_REQUIRED: { status: 422, title: '异议须实名提出' },
  RATE_LIMITED: { status: 429, title: '提交过于频繁，请稍后再试' },
  OBJECTION_NOT_FOUND: { status: 404, title: '未找到该异议' },
  ALREADY_RESOLVED: { status: 409, title: '该异议已处理' },
  DIRECTORY_ENTRY_NOT_FOUND: { status: 404, title: '未找到该名录条目' },
  MEMBER_NOT_ACTIVE: { status: 409, title: '该名录成员当前状态不允许此操作' },
  EVALUATION_NOT_FOUND: { status: 404, title: '未找到该动态评价' },
  EVALUATION_EXISTS: { status: 409, title: '该项目类别本年度的动态评价已存在' },
  EVALUATION_NOT_OPEN: { status: 409, title: '动态评价当前不受理自评报告' },
  NOT_EVALUATED: { status: 409, title: '该名录成员不在本次动态评价范围内' },
  ALREADY_GRADED: { status: 409, title: '该自评报告已有评价结果' },
  GRADING_NOT_OPEN: { status: 409, title: '动态评价当前不在待认定等级阶段' },
  GRADE_NOT_PENDING: { status: 409, title: '没有待工作人员认定的报告' },
  EVENT_NOT_FOUND: { status: 404, title: '未找到该活动' },
  INSTITUTION_NOT_FOUND: { status: 422, title: '未找到该单位' },
  PROJECT_NOT_FOUND: { status: 404, title: '未找到该项目' },
  EXTENSION_USED: { status: 409, title: '每个项目只能申请一次延期' },
  EXTENSION_NOT_PENDING: { status: 409, title: '没有待审批的延期申请' },
  PROJECT_REPORT_NOT_OPEN: { status: 409, title: '当前不受理该类报告' },
  PROJECT_CLOSED: { status: 409, title: '项目已结项、未通过结项或已撤项' },
  SHOWCASE_NOT_FOUND: { status: 404, title: '未找到该年度成果推广' },
  SHOWCASE_EXISTS: { status: 409, title: '该年度成果推广已启动' },
  NOMINATION_LIMIT: { status: 409, title: `每个单位至多推荐 ${NOMINATIONS_PER_INSTITUTION} 个案例` },
  NOMINATIONS_CLOSED: { status: 409, title: '案例推荐已截止' },
  SOURCE_NOT_ELIGIBLE: { status: 422, title: '该成果不能被推荐为典型案例' },
  ALREADY_NOMINATED: { status: 409, title: '该成果已被推荐' },
  NOT_INVITED: { status: 403, title: '不在该活动的邀请名单中' },
  EVENT_CLOSED: { status: 409, title: '活动已开始、已结束或已取消' },
  EVENT_NOT_HELD: { status: 409, title: '活动尚未举行，不能登记出席情况' },
  EVENT_TIME_INVALID: { status: 422, title: '活动时间无效' },
  NOT_DIRECTORY_PROGRAMME: { status: 409, title: '该项目类别不实行名录管理' },
  RECTIFICATION_NOT_OPEN: { status: 409, title: '当前没有待提交的整改报告' },
  APPEAL_PROCEDURAL_ONLY: { status: 422, title: '仅受理程序方面的申诉' },
  SCHEDULE_NOT_FOUND: { status: 404, title: '未找到该定时计划' },
  SCHEDULE_EXISTS: { status: 409, title: '该定时计划已存在' },
  OUTBOX_EMAIL_NOT_FOUND: { status: 404, title: '未找到该邮件' },
  OUTBOX_EMAIL_NOT_RESENDABLE: { status: 409, title: '该邮件正在等待发送或正在发送，不能重发' },
  /**
   * Accounts (issue 15). A development token (`npm run token`) presented to an API in production mode: people
   * sign in with accounts there.
   */
  DEVELOPMENT_TOKEN_REFUSED: { status: 401, title: '生产环境不接受开发令牌，请使用账号登录或个人访问令牌' },
  /** A browser session or token that ended: the account was disabled, its password reset, or the session expired. */
  /** The session or token no longer counts; its `detail` says why and what to do (sign in again, or ask an administrator). */
  SESSION_ENDED: { status: 401, title: '登录已失效' },
  /** Wrong email or password (the two are not told apart, so accounts cannot be enumerated). */
  SIGN_IN_FAILED: { status: 401, title: '电子邮箱或密码不正确，请核对后重新输入' },
  /** Staff sign in with a TOTP code as well. */
  SECOND_FACTOR_REQUIRED: { status: 401, title: '请输入身份验证器中的 6 位动态验证码' },
  SECOND_FACTOR_INVALID: { status: 401, title: '动态验证码不正确或已使用，请输入身份验证器中当前的验证码' },
  /** The account is disabled (said only after the right password). */
  ACCOUNT_DISABLED: { status: 403, title: '该账号已停用，如有疑问请联系管理服务中心' },
  /** The account has not set its password and enrolled its second factor yet (said only after the right password). */
  ACCOUNT_NOT_READY: { status: 403, title: '该账号尚未完成设置，请先通过邀请邮件中的链接设置密码' },
  /**
   * A cookie-authenticated write without the CSRF token of its session (`X-CSRF-Token` header or the form field
   * `_csrf`; `GET /api/session` gives it). Bearer-token requests need none.
   */
  CSRF_TOKEN_INVALID: { status: 403, title: '缺少或无效的 CSRF 令牌，请刷新页面后重试' },
  /**
   * A session opened by an expert's assignment link (issue 15, point 4) reaches only the assignments of its email
   * (view, accept/decline, scores) and its own session: anything else is refused, saying how to sign in fully.
   */
  ASSIGNMENT_LINK_ONLY: {
    status: 403,
    title: '通过评审任务链接登录的会话只能处理该链接所列的评审任务；使用其他功能请退出后在登录页以电子邮箱和密码登录',
  },
  /** An invitation or password-reset link that is unknown, used already, replaced by a newer one, or expired. */
  LINK_INVALID: { status: 410, title: '该链接已失效（已使用、已过期或已被新链接取代）' },
  /**
   * Sign-in through the province's identity provider (OIDC). The callback came without a sign-in this browser
   * started (no pending request in the session, or one older than 10 minutes) or with another `state`.
   */
  OIDC_STATE_INVALID: { status: 400, title: '统一身份认证登录请求已失效，请回到登录页重新发起' },
  /** The provider answered the sign-in with an error (the person cancelled, or it refused). */
  OIDC_PROVIDER_REFUSED: { status: 403, title: '统一身份认证未完成登录' },
  /** The provider's answer failed openid-client's checks (ID token, nonce, PKCE, code already used…). */
  OIDC_RESPONSE_INVALID: { status: 400, title: '统一身份认证的登录结果无法验证，请重新登录' },
  /** The identity names no account: neither its (issuer, sub) nor its verified email is an account's. */
  OIDC_NO_ACCOUNT: { status: 403, title: '统一身份认证的身份在本系统没有对应账号' },
  /** A first sign-in whose email the provider does not vouch for (`email_verified` not true) or does not give. */
  OIDC_EMAIL_UNVERIFIED: { status: 403, title: '统一身份认证未提供已验证的电子邮箱，无法匹配账号' },
  /** The account the email names is already linked to another identity at the provider. */
  OIDC_IDENTITY_CONFLICT: { status: 409, title: '该账号已关联另一个统一身份认证身份' },
  ACCOUNT_NOT_FOUND: { status: 404, title: '未找到该账号' },
  ACCOUNT_EXISTS: { status: 409, title: '该电子邮箱已有账号' },
  /**
   * An expert of the pool has one account (migration 019: `accounts.expert_id` unique, a disabled one included:
   * it is enabled again rather than replaced), so a review link signs in as that account and the audit names it.
   */
  EXPERT_ACCOUNT_EXISTS: { status: 409, title: '该专家已有账号' },
  /**
   * What the account's state does not allow: re-sending the invitation of an account already set up (its holder
   * resets the password instead) or disabled (enabled first).
   */
  ACCOUNT_STATE_CONFLICT: { status: 409, title: '账号当前状态不允许此操作' },
  /** An administrator disabling their own account: another administrator does it, so one always remains. */
  ACCOUNT_SELF_DISABLE: { status: 409, title: '不能停用本人账号，请由其他系统管理员操作' },
  /** Disabling the only enabled administrator: nobody could then administer accounts but the server's script. */
  LAST_ADMINISTRATOR: { status: 409, title: '不能停用最后一位系统管理员' },
  /**
   * A personal access token asked for with a bearer token (personal access or development): tokens are made from
   * a browser session only (password, and for staff the second factor), so a stolen token cannot mint others.
   */
  SESSION_REQUIRED: {
    status: 403,
    title: '个人访问令牌须在浏览器中登录后创建，请以电子邮箱和密码（工作人员另须动态验证码）登录后操作',
  },
  /** A real account import (not a dry run) with a problem in any row: nothing was written (the problems listed). */
  ACCOUNT_IMPORT_INVALID: { status: 422, title: '导入文件中有不符合要求的行，未导入任何账号' },
  /** An import file without the template's headers, without rows, or with too many rows. */
  ACCOUNT_IMPORT_FILE_INVALID: { status: 422, title: '导入文件不符合账号导入模板' },
  ACCESS_TOKEN_NOT_FOUND: { status: 404, title: '未找到该个人访问令牌' },
  /** An institution, enterprise or partnership of the reference data (issue 16) that does not exist. */
  REFERENCE_NOT_FOUND: { status: 404, title: '未找到该条基础数据' },
  /**
   * A new institution or enterprise whose id is taken, a name already used under the same parent (or by another
   * enterprise), or a partnership already recorded: the field is named.
   */
  REFERENCE_EXISTS: { status: 409, title: '该基础数据已存在' },
  /**
   * Deactivating an expert who still has open assignments (invited or accepted) without confirming that they are
   * replaced (`replaceOpenAssignments`), or in an import (which cannot replace them): the assignments are listed.
   */
  EXPERT_HAS_OPEN_ASSIGNMENTS: { status: 409, title: '该专家尚有未完成的评审任务，停用前须确认由其他专家替换' },
  /**
   * A reference change (an expert's unit or declared conflicts, a partnership) that would leave open assignments
   * breaking 回避, without staff confirming their replacement (`replaceOpenAssignments`): they are listed.
   */
  AVOIDANCE_BROKEN: { status: 409, title: '该修改将使未完成的评审任务违反回避规定，须确认由其他专家替换' },
  /** A real reference-data import (not a dry run) with a problem in any row: nothing was written (the problems listed). */
  REFERENCE_IMPORT_INVALID: { status: 422, title: '导入文件中有不符合要求的行，未导入任何数据' },
  /** A reference-data import file without the list's headers, without rows, or with too many rows. */
  REFERENCE_IMPORT_FILE_INVALID: { status: 422, title: '导入文件不符合该名单的导入格式' },
  /** Unknown, or not the caller's to read (the two are not told apart). */
  RECEIPT_NOT_FOUND: { status: 404, title: '未找到该回执' },
  /**
   * Ours, not the person's: PostgreSQL or Temporal unreachable or too slow, or a decision still being
   * recorded. Never a refusal; the answer carries Retry-After, and a retry with the same Idempotency-Key
   * gets the request's final answer.
   */
  SERVICE_UNAVAILABLE: { status: 503, title: '服务暂时不可用，请稍后重试' },
  /**
   * Ours, not the person's, but the request is safe: its receipt is kept (`update_receipts`) and will be
   * delivered and judged by its receipt time once the workflow engine is back; the answer carries `receiptId`
   * and Retry-After, and a retry with the same Idempotency-Key gets the final answer.
   */
  RECEIPT_KEPT: { status: 503, title: '请求已收到并留存，将自动处理' },
  INTERNAL: { status: 500, title: '服务器内部错误' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * Refusals that mean "not now": the same request will be taken once something in progress has finished (another
 * try under the same Idempotency-Key, a pending submission of the same application). Answered with Retry-After,
 * and never kept as a key's final answer, so the retry runs again.
 */
export const WAIT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IDEMPOTENCY_KEY_IN_USE',
  'SUBMISSION_IN_PROGRESS',
]);

/**
 * The refusal that means "busy, ask again shortly" (a run draining before it continues as new, a call still
 * being opened): the API retries it with backoff instead of answering it.
 */
export const BUSY_CODE = 'ROUND_BUSY' satisfies ErrorCode;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
