import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { errorCatalogue, isErrorCode, WAIT_CODES, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../platform/logger.js';
import { requestIdOf } from './request.js';

/** The one typed error of the API: an HTTP status, a stable code and a zh-CN title (from the catalogue). */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? errorCatalogue[code].title);
    this.status = errorCatalogue[code].status;
    this.title = errorCatalogue[code].title;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId?: string;
  [extra: string]: unknown;
}

/**
 * Failures coming back from Temporal, mapped onto the catalogue. `err.cause` carries an Update's refusal; only a
 * catalogue code is a refusal of the person's request — any other failure, and an unreachable or slow cluster,
 * is `SERVICE_UNAVAILABLE` (503).
 */
export function fromTemporalError(err: unknown): AppError | undefined {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return new AppError(cause.type, cause.message, detailsOf(cause));
    }
    // Rejected before any handler ran: this workflow does not take that Update (a final answer, not ours).
    if (cause instanceof ApplicationFailure && cause.message.startsWith('No registered handler for update')) {
      return new AppError('UPDATE_NOT_SUPPORTED', '该流程不受理此项操作');
    }
    return new AppError('SERVICE_UNAVAILABLE', '处理暂未完成，请稍后重试');
  }
  if (err instanceof WorkflowNotFoundError) return new AppError('WORKFLOW_NOT_FOUND', err.message);
  if (err instanceof WorkflowExecutionAlreadyStartedError) return new AppError('ALREADY_STARTED', err.message);
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new AppError('SERVICE_UNAVAILABLE', '流程引擎响应超时，请稍后重试');
  }
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: number } | undefined)?.code;
    // gRPC UNAVAILABLE (14) / DEADLINE_EXCEEDED (4) / CANCELLED (1): the cluster cannot be reached in time.
    if (code === 14 || code === 4 || code === 1) return new AppError('SERVICE_UNAVAILABLE', '流程引擎暂时不可用');
  }
  return undefined;
}

function detailsOf(failure: ApplicationFailure): Record<string, unknown> {
  const first = failure.details?.[0];
  return first && typeof first === 'object' ? (first as Record<string, unknown>) : {};
}

/**
 * What body-parser's readers (`express.text`, `express.raw`) refuse, as the catalogue's code: 413
 * `PAYLOAD_TOO_LARGE`; 415 `UNSUPPORTED_MEDIA_TYPE` (a Content-Encoding or charset nobody knows); any other 4xx
 * `BODY_UNREADABLE` (the connection ended early, a size that does not match Content-Length, bytes not compressed
 * as their Content-Encoding says — body-parser passes zlib's own error on with status 400). A 5xx is the
 * reader's own failure and passes on unchanged, to be logged and answered `INTERNAL`.
 */
export function bodyReaderError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return err;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE');
  if (status === 415)
    return new AppError('UNSUPPORTED_MEDIA_TYPE', '不支持该请求体的内容编码（Content-Encoding）或字符集');
  return new AppError(
    'BODY_UNREADABLE',
    '请重新发送完整的请求；如声明了 Content-Encoding（gzip、deflate、br），请求体须按其压缩，否则请去掉该请求头',
  );
}

/** A body-parser reader (`express.text(…)`, `express.raw(…)`) as Connect middleware. */
export type BodyReader = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * A body reader whose refusals are the catalogue's (`bodyReaderError`), so every route and page answers a
 * truncated, oversized or wrongly compressed body the same way.
 */
export function readingBody(reader: BodyReader): BodyReader {
  return (req, res, next) => {
    reader(req, res, (err?: unknown) => (err === undefined ? next() : next(bodyReaderError(err))));
  };
}

/** Node's socket errors and PostgreSQL's connection-exception and shutdown SQLSTATEs. */
const UNREACHABLE_DATABASE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/**
 * PostgreSQL unreachable or too slow: a socket error, a connection-exception SQLSTATE (class 08), a shutdown,
 * knex's pool giving up (`KnexTimeoutError`), or pg's "Connection terminated".
 */
function fromDatabaseError(err: unknown): AppError | undefined {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const unreachable =
    UNREACHABLE_DATABASE_CODES.has(code) ||
    code.startsWith('08') ||
    e?.name === 'KnexTimeoutError' ||
    (typeof e?.message === 'string' && /Connection terminated|connect ECONNREFUSED/.test(e.message));
  return unreachable ? new AppError('SERVICE_UNAVAILABLE', '数据库暂时不可用') : undefined;
}

/**
 * A value that names a record PostgreSQL does not have (SQLSTATE 23503 foreign_key_violation), or an id that is
 * not of its column's type (22P02 invalid_text_representation, e.g. not a UUID): the request's, not ours, so 422.
 * A safety net only: routes look references up before writing and name the field (`referencesNotFound`).
 */
function fromConstraintError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '23503') return new AppError('VALIDATION_FAILED', '请求中引用的记录不存在，请核对各项编号');
  if (code === '22P02') return new AppError('VALIDATION_FAILED', '请求中的编号格式不正确，请核对');
  return undefined;
}

/**
 * The refusal of fields that name records that do not exist (or are empty): 422 (`VALIDATION_FAILED` unless the
 * catalogue has a closer code, e.g. `INSTITUTION_NOT_FOUND`), saying in zh-CN which fields (detail: the messages
 * joined by '；'), with each field's JSON path in `errors[].path` as schema validation does.
 *
 * @param missing one per field: `path` the JSON path in the request (`showcaseId`, `members.0.institutionId`),
 *   `message` zh-CN naming the field by its label (`所属年度成果推广 showcase-2031 不存在`)
 */
export function referencesNotFound(
  missing: readonly { path: string; message: string }[],
  code: Extract<ErrorCode, 'VALIDATION_FAILED' | 'INSTITUTION_NOT_FOUND'> = 'VALIDATION_FAILED',
): AppError {
  return new AppError(code, missing.map((m) => m.message).join('；'), { errors: missing });
}

/** Seconds a client is asked to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `${req.method} ${req.path}`));
};

/** The problem+json an error is answered with, and whether it was one the catalogue knows. */
export function problemFor(err: unknown, req: Request): { problem: Problem; known: boolean } {
  const known =
    err instanceof AppError ? err : (fromTemporalError(err) ?? fromDatabaseError(err) ?? fromConstraintError(err));
  const appError = known ?? new AppError('INTERNAL');
  const requestId = requestIdOf(req);
  return {
    known: known !== undefined,
    problem: {
      type: `https://ronghe.example/problems/${appError.code.toLowerCase().replaceAll('_', '-')}`,
      title: appError.title,
      status: appError.status,
      code: appError.code,
      ...(appError.detail ? { detail: appError.detail } : {}),
      instance: req.originalUrl,
      ...(requestId ? { requestId } : {}),
      ...appError.extra,
    },
  };
}

/**
 * An Update that failed without a refusal of the person's request (`SERVICE_UNAVAILABLE`): Temporal keeps
 * that outcome under the Update id, so a retry must use a new one.
 */
export function isUpdateFailedWithoutRefusal(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && fromTemporalError(err)?.code === 'SERVICE_UNAVAILABLE';
}

/** Sends a problem+json answer (with Retry-After on a 503). */
export function sendProblem(res: Response, problem: Problem): void {
  if (problem.status === 503 || WAIT_CODES.has(problem.code)) {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  }
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/**
 * Whether `path` (the request's path, without its query) is one of the API's rather than a page's: everything
 * under `/api/`, the document `/openapi.json`, and the one operation the document lists outside `/api/`
 * (`/healthz`). Every other path — the public pages, the account and assignment-link pages, the docs, an
 * unknown address typed into a browser — is a page's.
 */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/openapi.json' || path === '/healthz';
}

/** Answers a page's error as a zh-CN HTML page (`errorPage`, api/pages.ts), with the problem's status. */
export type ErrorPage = (res: Response, problem: Problem) => void;

/**
 * The one error middleware. An API path (`isApiPath`) is answered with application/problem+json; a page's path
 * with `page` (a zh-CN HTML page keeping the status: a browser shows a page, not JSON), when given. A 503 carries
 * Retry-After either way.
 */
export function errorHandler(logger: Logger, page?: ErrorPage): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const { problem, known } = problemFor(err, req);
    if (!known || problem.status >= 500) {
      logger.error({ err, requestId: problem.requestId, path: req.originalUrl }, 'request failed');
    }
    if (page && !isApiPath(req.path)) {
      if (problem.status === 503 || WAIT_CODES.has(problem.code)) {
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      }
      return page(res, problem);
    }
    sendProblem(res, problem);
  };
}
