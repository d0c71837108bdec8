import { programmeKeys, type ProgrammeKey } from '../domain/programmes.js';
import { z } from './route.js';

/** Request schemas several routes share; a route adds its own OpenAPI example where it documents one. */

/** A round's id in a path: `round-<programme>-<year>` (`domain/workflow-ids.ts`). */
export const RoundIdSchema = z
  .string()
  .regex(/^round-[a-z_]+-\d{4}$/)
  .openapi({ title: '申报批次编号', example: 'round-demo_college-2027' });

/** The path parameters of a route under `/api/rounds/:roundId`. */
export const RoundParams = z.object({ roundId: RoundIdSchema });

/** A UUID as the database writes it (any version), case-insensitive: ids in paths and hidden form fields. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One of the programme keys of `domain/programmes.ts`. */
export const ProgrammeKeySchema = z
  .enum(programmeKeys as [ProgrammeKey, ...ProgrammeKey[]])
  .openapi({ title: '项目类别' });

/**
 * Canonical decimal integers only: no sign but `-` (and no `-0`), no leading zeros, spaces, `0x`, exponents
 * or fractions.
 */
const DECIMAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;

interface IntegerRange {
  /** Inclusive bounds. */
  min: number;
  max?: number;
}

/**
 * An integer in a query string or a path (which arrive as text), read strictly: only a canonical decimal
 * (`100`, `-3`) is a number; `0x10`, `1e2`, `+5`, ` 5`, `5.0`, `05` and repeated parameters are refused with
 * 422 naming the parameter by its label (the caller's `.openapi({ title })`), where `z.coerce.number()` (`Number()`) would read them as numbers. An empty
 * value (`limit=`) counts as absent: the default applies, or the parameter is optional, or it is missing.
 * Documented in OpenAPI as `type: integer` with the bounds (and the default).
 */
export function queryInteger(range: IntegerRange & { default: number }): z.ZodType<number>;
export function queryInteger(range: IntegerRange & { optional: true }): z.ZodType<number | undefined>;
export function queryInteger(range: IntegerRange): z.ZodType<number>;
export function queryInteger(
  range: IntegerRange & { default?: number; optional?: boolean },
): z.ZodType<number | undefined> {
  let number = z.number().int().min(range.min);
  if (range.max !== undefined) number = number.max(range.max);
  const inner =
    range.default !== undefined ? number.default(range.default) : range.optional ? number.optional() : number;
  return z.preprocess((value, ctx) => {
    if (value === '' || value === undefined) return undefined;
    if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) return Number(value);
    ctx.addIssue({
      code: 'custom',
      message: Array.isArray(value)
        ? '只能给出一次'
        : `须为十进制整数（如 ${range.default ?? range.min}），不接受 ${JSON.stringify(value)}`,
      input: value,
    });
    return z.NEVER;
  }, inner);
}
