/**
 * Every error code a person can meet, with its HTTP status and zh-CN title. Workflows refuse with
 * `ApplicationFailure` whose `type` is one of these codes; the API maps codes to problem+json through this
 * one table.
 */
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 422, title: '请求内容不符合要求' },
  MALFORMED_JSON: { status: 400, title: '请求体不是有效的 JSON' },
  PAYLOAD_TOO_LARGE: { status: 413, title: '请求体过大' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: '不支持的内容类型' },
  UNAUTHENTICATED: { status: 401, title: '未登录或令牌无效' },
  FORBIDDEN: { status: 403, title: '无权执行此操作' },
  NOT_FOUND: { status: 404, title: '未找到请求的资源' },
  ROUND_NOT_FOUND: { status: 404, title: '未找到该申报批次' },
  WORKFLOW_NOT_FOUND: { status: 404, title: '未找到相应的流程' },
  PROGRAMME_NOT_FOUND: { status: 404, title: '未找到该项目类别' },
  ROUND_EXISTS: { status: 409, title: '该项目类别本年度的申报批次已存在' },
  ALREADY_STARTED: { status: 409, title: '相应流程已经启动' },
  PROGRAMME_NOT_OPEN_FOR_ROUNDS: { status: 409, title: '该项目类别不通过年度申报批次遴选' },
  COMPRESSED_TIME_FORBIDDEN: { status: 403, title: '生产环境不允许压缩时间' },
  DEADLINE_INVALID: { status: 422, title: '截止日期无效' },
  CALENDAR_INVALID: { status: 422, title: '节假日安排数据无效' },
  CALENDAR_YEAR_UNSUPPORTED: { status: 422, title: '不支持该年份的日历计算' },
  REQUEST_REJECTED: { status: 409, title: '流程拒绝了该请求' },
  TEMPORAL_UNAVAILABLE: { status: 503, title: '流程引擎暂时不可用' },
  DATABASE_UNAVAILABLE: { status: 503, title: '数据库暂时不可用' },
  INTERNAL: { status: 500, title: '服务器内部错误' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
