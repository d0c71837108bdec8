import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  ServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { errorCatalogue, isErrorCode, type ErrorCode } from '../domain/errors.js';
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

/** Failures coming back from Temporal, mapped onto the catalogue. `err.cause` carries an Update's refusal. */
export function fromTemporalError(err: unknown): AppError | undefined {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      return new AppError(cause.type, cause.message, detailsOf(cause));
    }
    return new AppError('REQUEST_REJECTED', cause?.message ?? err.message);
  }
  if (err instanceof WorkflowNotFoundError) return new AppError('WORKFLOW_NOT_FOUND', err.message);
  if (err instanceof WorkflowExecutionAlreadyStartedError) return new AppError('ALREADY_STARTED', err.message);
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: number } | undefined)?.code;
    // gRPC UNAVAILABLE (14) / DEADLINE_EXCEEDED (4): the cluster cannot be reached.
    if (code === 14 || code === 4) return new AppError('TEMPORAL_UNAVAILABLE', err.message);
  }
  return undefined;
}

function detailsOf(failure: ApplicationFailure): Record<string, unknown> {
  const first = failure.details?.[0];
  return first && typeof first === 'object' ? (first as Record<string, unknown>) : {};
}

function fromExpressError(err: unknown): AppError | undefined {
  const e = err as { type?: string; status?: number };
  if (e?.type === 'entity.parse.failed') return new AppError('MALFORMED_JSON', '请检查请求体的 JSON 格式');
  if (e?.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE');
  if (e?.status === 415 || e?.type === 'encoding.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE');
  return undefined;
}

function fromDatabaseError(err: unknown): AppError | undefined {
  const code = (err as { code?: string })?.code;
  if (code === 'ECONNREFUSED' || code === '57P01' || code === '57P03') return new AppError('DATABASE_UNAVAILABLE');
  return undefined;
}

function sendProblem(res: Parameters<RequestHandler>[1], problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `${req.method} ${req.path}`));
};

/** The one error middleware: everything leaves as application/problem+json. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known =
      err instanceof AppError ? err : (fromExpressError(err) ?? fromTemporalError(err) ?? fromDatabaseError(err));
    const appError = known ?? new AppError('INTERNAL');
    const requestId = requestIdOf(req);
    if (!known || appError.status >= 500) {
      logger.error({ err, requestId, path: req.originalUrl }, 'request failed');
    }
    sendProblem(res, {
      type: `https://ronghe.example/problems/${appError.code.toLowerCase().replaceAll('_', '-')}`,
      title: appError.title,
      status: appError.status,
      code: appError.code,
      ...(appError.detail ? { detail: appError.detail } : {}),
      instance: req.originalUrl,
      ...(requestId ? { requestId } : {}),
      ...appError.extra,
    });
  };
}
