import type { TimeCompression } from '../domain/compressed-time.js';
import { AppError } from './errors.js';
import { z } from './route.js';

/**
 * The optional `timeScale` body field of every route that starts a procedure (round, evaluation, schedule,
 * event, showcase): how many calendar seconds pass per wall second, 1 to 100 000 000. Only the OpenAPI text
 * differs between routes, so each passes its own.
 */
export function timeScaleField(doc: { description: string; example?: number }) {
  return z
    .number()
    .min(1)
    .max(100_000_000)
    .optional()
    .openapi({ title: '时间压缩倍数', ...doc });
}

/**
 * The time scale a launch asked for, or `undefined` for real time (absent or 1).
 *
 * @throws AppError `COMPRESSED_TIME_FORBIDDEN` when a scale other than 1 is asked for in production.
 */
export function requestedTimeScale(timeScale: number | undefined, production: boolean): number | undefined {
  if (timeScale !== undefined && timeScale !== 1 && production) {
    throw new AppError('COMPRESSED_TIME_FORBIDDEN', '压缩时间仅用于演示与测试');
  }
  return timeScale && timeScale !== 1 ? timeScale : undefined;
}

/**
 * The compression a launch at `origin` runs under (`domain/compressed-time.ts`), or `undefined` for real time.
 *
 * @throws AppError `COMPRESSED_TIME_FORBIDDEN` as {@link requestedTimeScale}.
 */
export function requestedCompression(
  timeScale: number | undefined,
  production: boolean,
  origin: Date,
): TimeCompression | undefined {
  const scale = requestedTimeScale(timeScale, production);
  return scale === undefined ? undefined : { origin: origin.toISOString(), scale };
}
