import {
  NOT_IN_ONE_LINE,
  NOT_IN_TEXT,
  ONE_LINE_RULE_ZH,
  TEXT_RULE_ZH,
  VISIBLE_CHARACTER,
  VISIBLE_RULE_ZH,
} from '../domain/people.js';
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
  /** Inclusive bounds; `max` defaults to Number.MAX_SAFE_INTEGER (zod's integers go no further). */
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
  // zod's integers stop at Number.MAX_SAFE_INTEGER; say so in the document when the range names no upper bound.
  number = number.max(range.max ?? Number.MAX_SAFE_INTEGER);
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

const YEAR_1901_2099 = '(19(0[1-9]|[1-9][0-9])|20[0-9]{2})';
const LEAP_YEAR_1901_2099 = '(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26]))';
/** Every day of 1901–2099 and nothing else: 29 February in leap years only (2000 is one). */
const DAY_1901_2099 = new RegExp(
  `^(${YEAR_1901_2099}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)` +
    `|${LEAP_YEAR_1901_2099}-02-29)$`,
);

/**
 * A calendar day `YYYY-MM-DD` of a year the calendar computes (1901–2099: the lunar data of
 * `domain/calendar`), refused otherwise with 422 naming the field. The whole rule is one pattern (month
 * lengths and leap years included), so the document states it and a generated client sends only days the API
 * accepts.
 */
export const DaySchema = z
  .string()
  .regex(DAY_1901_2099, '应为 1901—2099 年间的有效日期 YYYY-MM-DD')
  .openapi({ format: 'date', example: '2026-09-30' });

/**
 * The OpenAPI `pattern` of text holding no character of the class `refused` and at least `min` (≥ 1) characters
 * long once trimmed: two kept (not blank) characters at least `min` apart.
 */
export function cleanTextPattern(min: number, refused: string = NOT_IN_TEXT): string {
  // No lookahead: a generator (schemathesis, hypothesis) builds strings from the pattern's parts directly.
  const inside = `[^${refused}]`;
  const kept = `[^\\s${refused}]`;
  const core = min <= 1 ? kept : `${kept}${inside}{${min - 2},}${kept}`;
  return `^${inside}*${core}${inside}*$`;
}

/**
 * Text trimmed before it is checked, `min`–`max` characters once trimmed (`message` when too short), on one or
 * several lines but without control or invisible characters (`NOT_IN_TEXT`, 422 naming the field). The document
 * states both in one `pattern` (`cleanTextPattern`: no such character anywhere, two kept characters at least `min`
 * apart), since `minLength` alone would let blanks through.
 */
export function trimmedText(min: number, max: number, message?: string): z.ZodString {
  return z
    .string()
    .trim()
    .min(min, message)
    .max(max)
    .regex(new RegExp(`^[^${NOT_IN_TEXT}]*$`), TEXT_RULE_ZH)
    .openapi({ pattern: cleanTextPattern(min) });
}

/**
 * Text that may be empty (a draft's field), at most `max` characters once trimmed, without control or invisible
 * characters; `oneLine` also without line breaks (`NOT_IN_ONE_LINE`). 422 naming the field otherwise.
 */
export function draftText(max: number, { oneLine }: { oneLine: boolean }): z.ZodString {
  const refused = oneLine ? NOT_IN_ONE_LINE : NOT_IN_TEXT;
  return z
    .string()
    .trim()
    .max(max)
    .regex(new RegExp(`^[^${refused}]*$`), oneLine ? ONE_LINE_RULE_ZH : TEXT_RULE_ZH)
    .openapi({ pattern: `^[^${refused}]*$` });
}

/**
 * One line of text (a person's name, a label): trimmed, `min` (≥ 1)–`max` characters once trimmed, and no line
 * break, other control character or invisible format character inside (`NOT_IN_ONE_LINE`, domain/people.ts: a
 * zero-width space or a BOM makes a name that shows as nothing, or as another's), refused with 422 naming the field — text such a field carries goes
 * into an email's greeting or a header-like line, where a line break would start another line. The document
 * states both rules in one anchored `pattern` (stricter than the API only on blanks and breaks at either end,
 * which the API trims).
 */
export function oneLineText(min: number, max: number, message?: string): z.ZodString {
  const kept = `[^\\s${NOT_IN_ONE_LINE}]`;
  const inside = `[^${NOT_IN_ONE_LINE}]`;
  // The first character kept is a visible one (the document's way of saying "something that shows", without a
  // lookahead a generator cannot build from).
  const core = min <= 1 ? VISIBLE_CHARACTER : `${VISIBLE_CHARACTER}${inside}{${min - 2},}${kept}`;
  return z
    .string()
    .trim()
    .min(min, message)
    .max(max)
    .regex(new RegExp(`^[^${NOT_IN_ONE_LINE}]*$`), { error: ONE_LINE_RULE_ZH, abort: true })
    .regex(new RegExp(VISIBLE_CHARACTER), VISIBLE_RULE_ZH)
    .openapi({ pattern: `^${inside}*${core}${inside}*$` });
}

/**
 * The `dryRun` query parameter of an import: `true` (the default) only checks and reports, `false` writes.
 * A string enum, as a query carries text; compare with `!== 'false'`.
 */
export const DryRunParam = z
  .enum(['true', 'false'])
  .default('true')
  .openapi({ title: '试导入', description: '缺省 true：只检查，不写入' });
