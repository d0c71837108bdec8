import { zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * Validation messages as an official would write them (issue 14, point 12): each zod issue becomes one zh-CN
 * sentence that names the field by its label and says what is needed (`活动名称至少 4 个字`, `请填写截止时间`).
 *
 * A field's label is the `title` of its schema's OpenAPI metadata (`.openapi({ title: '活动名称' })`), the same
 * text the OpenAPI document shows as the property's `title`. Array items are named by position
 * (`第 1 个项目成员的姓名`); a field inside an object is named after the object (`项目负责人的工号`).
 *
 * zod's own wording never reaches a person: `parseOptions` makes zod write a marker instead of a message for
 * every issue whose schema gave none, and `describeIssues` writes those sentences itself. A message a schema
 * gives (already zh-CN: `请说明理由`, `应为有效日期 YYYY-MM-DD`) is kept, after the label where it does not
 * name the field already.
 */

/** What zod writes for an issue whose schema gave no message of its own (see `parseOptions`). */
const NO_MESSAGE = '\u0000';

/** The options to parse a request with: every issue keeps its input, and zod writes no text of its own. */
export const parseOptions: z.core.ParseContext<z.core.$ZodIssue> = {
  reportInput: true,
  error: () => NO_MESSAGE,
};

/** One refused field, as problem+json's `errors[]` lists it. */
export interface FieldError {
  /** The JSON path (`presenters.0`, `rules.limits.perApplicant`); '' for the whole body, query or path. */
  path: string;
  /** The sentence (zh-CN). */
  message: string;
  /** The field's zh-CN label with its position (`第 1 个项目成员的姓名`), when the field has one. */
  label?: string;
}

type Schema = z.core.$ZodType;

/** The zh-CN label (`title` metadata) a schema or one of its wrappers (optional, default, pipe…) carries. */
function labelOf(schema: Schema): string | undefined {
  for (let s: Schema | undefined = schema; s; s = unwrapOnce(s)) {
    const title = metadataOf(s)?.title;
    if (typeof title === 'string' && title) return title;
  }
  return undefined;
}

/** The OpenAPI example a schema or one of its wrappers carries, if any (shown after a format message). */
function exampleOf(schema: Schema): unknown {
  for (let s: Schema | undefined = schema; s; s = unwrapOnce(s)) {
    const example = metadataOf(s)?.example;
    if (example !== undefined) return example;
  }
  return undefined;
}

function metadataOf(schema: Schema): Record<string, unknown> | undefined {
  const openapi: Record<string, unknown> | undefined = zodToOpenAPIRegistry.get(schema as never);
  const meta: Record<string, unknown> | undefined = z.globalRegistry.get(schema);
  return openapi || meta ? { ...meta, ...openapi } : undefined;
}

/** The schema a wrapper (optional, nullable, default, readonly, pipe, lazy…) validates with; undefined for others. */
function unwrapOnce(schema: Schema): Schema | undefined {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return def.innerType as Schema;
    case 'pipe': {
      const input = def.in as Schema;
      // A preprocess (transform → schema) validates with its output side; a transform with its input side.
      return input._zod.def.type === 'transform' ? (def.out as Schema) : input;
    }
    case 'lazy':
      return (def.getter as () => Schema)();
    default:
      return undefined;
  }
}

/** The schemas a value at `key` inside `schema` is validated by (several for a union). */
function childrenAt(schema: Schema, key: PropertyKey): Schema[] {
  let s = schema;
  for (let inner = unwrapOnce(s); inner; inner = unwrapOnce(s)) s = inner;
  const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'object': {
      const field = (def.shape as Record<string, Schema>)[String(key)];
      return field ? [field] : [];
    }
    case 'array':
      return typeof key === 'number' ? [def.element as Schema] : [];
    case 'tuple':
      return typeof key === 'number' ? [((def.items as Schema[])[key] ?? def.rest) as Schema].filter(Boolean) : [];
    case 'record':
      return [def.valueType as Schema];
    case 'union':
      return (def.options as Schema[]).flatMap((o) => childrenAt(o, key));
    case 'intersection':
      return [...childrenAt(def.left as Schema, key), ...childrenAt(def.right as Schema, key)];
    default:
      return [];
  }
}

/**
 * How a person calls the value at `path` inside `root`: the labels along the path, array items by position
 * (`第 2 个展示单位`, `第 1 个项目成员的姓名`) and fields inside objects after the object (`项目负责人的工号`).
 * Undefined at the root. A step without a label is named by its JSON key, so nothing is silently dropped
 * (the guard test `test/unit/api.messages.test.ts` keeps every request field labelled).
 */
export function labelAt(root: Schema, path: readonly PropertyKey[]): string | undefined {
  let schemas: Schema[] = [root];
  // The phrase is `${container}的${leaf}`: the position goes with the list it counts in (规则调整的第 1 个提醒日).
  let container: string | undefined;
  let leaf: string | undefined;
  for (const key of path) {
    const next = schemas.flatMap((s) => childrenAt(s, key));
    if (typeof key === 'number') {
      // An item is named by the list's label and its position (from 1): 第 2 个展示单位.
      leaf = `第 ${key + 1} 个${leaf ?? '项'}`;
    } else {
      if (leaf !== undefined) container = container ? `${container}的${leaf}` : leaf;
      leaf = next.map(labelOf).find(Boolean) ?? String(key);
    }
    schemas = next;
  }
  return container ? `${container}的${leaf}` : leaf;
}

/** Where a request's part stands in a sentence that has no field to name (unknown keys at the top level). */
export type RequestPart = '请求体' | '查询参数' | '路径';

/**
 * The sentences for a failed parse of `root` (one request part): one per issue (one per unknown key), each
 * with its JSON path and label.
 */
export function describeIssues(root: Schema, issues: readonly z.core.$ZodIssue[], part: RequestPart): FieldError[] {
  return tightestBounds(issues).flatMap((issue) => describeIssue(root, issue, part));
}

/**
 * The issues with one bound per field and side: a value beyond several maxima (an integer's safe range and the
 * schema's own `.max(500)`) is told only the tightest (`每页条数不能大于 500`), not every bound it passed.
 */
function tightestBounds(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const tightest = new Map<string, z.core.$ZodIssue>();
  const keyOf = (issue: z.core.$ZodIssue) => `${issue.code}\u0000${issue.path.map(String).join('.')}`;
  const bound = (issue: z.core.$ZodIssue) =>
    Number(issue.code === 'too_big' ? issue.maximum : issue.code === 'too_small' ? issue.minimum : NaN);
  for (const issue of issues) {
    if (issue.code !== 'too_big' && issue.code !== 'too_small') continue;
    const kept = tightest.get(keyOf(issue));
    const tighter =
      issue.code === 'too_big' ? bound(issue) < bound(kept ?? issue) : bound(issue) > bound(kept ?? issue);
    if (!kept || tighter) tightest.set(keyOf(issue), issue);
  }
  return issues.filter(
    (issue) => (issue.code !== 'too_big' && issue.code !== 'too_small') || tightest.get(keyOf(issue)) === issue,
  );
}

const MISSING_CODES = new Set<string>(['invalid_type', 'invalid_value', 'invalid_format', 'invalid_union']);

function describeIssue(root: Schema, issue: z.core.$ZodIssue, part: RequestPart): FieldError[] {
  const path = issue.path.map(String).join('.');
  const label = labelAt(root, issue.path);
  const named = label ?? part;
  const field = (message: string): FieldError[] => [{ path, message, ...(label ? { label } : {}) }];
  if (issue.message !== NO_MESSAGE) {
    return field(withLabel(label, labelAt(root, issue.path.slice(0, -1)), issue.message));
  }
  // A field left out (an enum, a union, a format as much as a plain type): say so, not what it should look like.
  if (issue.input === undefined && MISSING_CODES.has(issue.code)) return field(`请填写${named}`);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        message: `${named}中没有“${key}”这一项，请删去（字段名区分大小写）`,
      }));
    case 'invalid_union': {
      // A discriminated union whose discriminator (`kind`) names none of its options: the path is the
      // discriminator's, the input the whole object.
      const discriminator = (issue as { discriminator?: unknown }).discriminator;
      const options = (issue as { options?: unknown }).options;
      if (typeof discriminator === 'string' && Array.isArray(options) && issue.errors.length === 0) {
        const input: unknown = issue.input;
        const value = input && typeof input === 'object' ? (input as Record<string, unknown>)[discriminator] : input;
        if (value === undefined) return field(`请填写${named}`);
        return field(oneOf(named, options, namesAt(root, issue.path)));
      }
      // The alternative that came closest (fewest problems) says what to fix; none at all: say it plainly.
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
      if (closest && closest.length > 0) {
        return closest.flatMap((inner) =>
          describeIssue(root, { ...inner, path: [...issue.path, ...inner.path] }, part),
        );
      }
      return field(`${named}不符合要求`);
    }
    case 'invalid_key': {
      // A record's key (its path ends with the key): 年度指标中的名称“…”不能超过 60 个字.
      const container = labelAt(root, issue.path.slice(0, -1)) ?? part;
      const key = `${container}中的名称“${String(issue.path.at(-1))}”`;
      const inner = issue.issues[0];
      if (!inner) return field(`${key}不符合要求`);
      return field(inner.message === NO_MESSAGE ? sentence(key, inner, undefined) : `${key}${inner.message}`);
    }
    case 'invalid_value':
      return field(oneOf(named, issue.values, namesAt(root, issue.path)));
    default:
      return field(sentence(named, issue, schemaAt(root, issue.path)));
  }
}

/**
 * The sentence for a value outside a fixed set (an enum, a literal, a discriminator): the allowed values, each
 * with its zh-CN name where the schema gives one (`names`): `计划类别应为以下之一：round（年度申报）、evaluation（年度动态评价）`.
 */
function oneOf(named: string, values: readonly unknown[], names: ReadonlyMap<string, string>): string {
  const each = values.map((v) => {
    const name = typeof v === 'string' ? names.get(v) : undefined;
    return name ? `${shown(v)}（${name}）` : shown(v);
  });
  return each.length === 1 ? `${named}只能为 ${each[0]}` : `${named}应为以下之一：${each.join('、')}`;
}

/**
 * The zh-CN names of the fixed values allowed at `path`, from the OpenAPI `description` of the schemas there
 * (an enum's, or each option's discriminator literal), in the form the API's documents use for them:
 * `round 年度申报；evaluation 年度动态评价` (value, a space, its name; entries separated by `；`), or, on a
 * literal, its name alone. Values without a name are left out.
 */
function namesAt(root: Schema, path: readonly PropertyKey[]): Map<string, string> {
  let schemas: Schema[] = [root];
  for (const key of path) schemas = schemas.flatMap((s) => childrenAt(s, key));
  const names = new Map<string, string>();
  for (const schema of schemas) {
    let description: unknown;
    let literal: unknown[] = [];
    for (let s: Schema | undefined = schema; s; s = unwrapOnce(s)) {
      description ??= metadataOf(s)?.description;
      const def = s._zod.def as unknown as { type: string; values?: unknown[] };
      if (def.type === 'literal') literal = def.values ?? [];
    }
    if (typeof description !== 'string') continue;
    // A lead-in before the list (`异议理由的性质：substantive 实体问题；…`) is not an entry.
    const entries = description
      .replace(/^[^；;]*?：(?=\s*[\w.-]+\s)/, '')
      .split(/[；;]/)
      .map((e) => /^\s*([\w.-]+)\s+(\S[^（(]*?)\s*(?:[（(].*)?$/.exec(e));
    if (entries.every((m) => m)) {
      for (const m of entries) if (!names.has(m![1]!)) names.set(m![1]!, m![2]!);
    } else if (literal.length === 1 && typeof literal[0] === 'string' && !/[；;]/.test(description)) {
      names.set(literal[0], description.trim());
    }
  }
  return names;
}

/** The sentence for an issue zod wrote no message for, about the value called `named` (checked by `schema`). */
function sentence(named: string, issue: z.core.$ZodIssue, schema: Schema | undefined): string {
  switch (issue.code) {
    case 'invalid_type':
      return invalidType(named, issue);
    case 'too_small':
      return tooSmall(named, issue);
    case 'too_big':
      return tooBig(named, issue);
    case 'invalid_format':
      return invalidFormat(named, issue, schema);
    case 'not_multiple_of':
      return `${named}应为 ${String(issue.divisor)} 的整数倍`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `${named}只能为 ${shown(issue.values[0])}`
        : `${named}应为以下之一：${issue.values.map(shown).join('、')}`;
    case 'invalid_element':
      return `${named}中有不符合要求的项`;
    default:
      // custom without a message, and anything zod adds later.
      return `${named}不符合要求`;
  }
}

/**
 * A message a schema wrote (a refinement's, a custom minimum's) after the field's label (`label`), unless it
 * already names the field; a request to the person (`请说明调整理由`) after the item it is about (`container`,
 * e.g. `第 2 个名单调整：请说明调整理由`) when the field is inside a list or an object.
 */
function withLabel(label: string | undefined, container: string | undefined, message: string): string {
  if (!label || message.includes(label)) return message;
  if (message.startsWith('请')) return container ? `${container}：${message}` : message;
  // `不能为空` after a label reads as a missing field: 请填写….
  if (message === '不能为空') return `请填写${label}`;
  return `${label}${message}`;
}

function schemaAt(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let schemas: Schema[] = [root];
  for (const key of path) schemas = schemas.flatMap((s) => childrenAt(s, key));
  return schemas[0];
}

const TYPE_ZH: Record<string, string> = {
  string: '文字',
  number: '数字',
  int: '整数',
  bigint: '整数',
  boolean: '布尔值（true 或 false）',
  array: '列表（JSON 数组）',
  object: 'JSON 对象',
  date: '日期',
};

function invalidType(named: string, issue: z.core.$ZodIssueInvalidType): string {
  if (issue.input === null) return `${named}不能为 null，不填时请省略该项`;
  if (issue.expected === 'never') return `${named}不应填写`;
  const expected = TYPE_ZH[issue.expected];
  // A space between Chinese and a Latin word, as zh-CN typesetting has it: 应为 JSON 对象.
  return expected ? `${named}应为${/^[A-Za-z]/.test(expected) ? ' ' : ''}${expected}` : `${named}的类型不正确`;
}

function tooSmall(named: string, issue: z.core.$ZodIssueTooSmall): string {
  const n = Number(issue.minimum);
  switch (issue.origin) {
    case 'string':
      if (issue.exact) return `${named}应为 ${n} 个字`;
      return n <= 1 ? `请填写${named}` : `${named}至少 ${n} 个字`;
    case 'array':
    case 'set':
      if (issue.exact) return `${named}应为 ${n} 项`;
      return `${named}至少选择 ${n} 项`;
    case 'date':
      return `${named}不能早于 ${new Date(n).toISOString()}`;
    case 'file':
      return `${named}不能小于 ${n} 字节`;
    default:
      return issue.inclusive === false ? `${named}应大于 ${n}` : `${named}不能小于 ${n}`;
  }
}

function tooBig(named: string, issue: z.core.$ZodIssueTooBig): string {
  const n = Number(issue.maximum);
  switch (issue.origin) {
    case 'string':
      return issue.exact ? `${named}应为 ${n} 个字` : `${named}不能超过 ${n} 个字`;
    case 'array':
    case 'set':
      return issue.exact ? `${named}应为 ${n} 项` : `${named}最多 ${n} 项`;
    case 'date':
      return `${named}不能晚于 ${new Date(n).toISOString()}`;
    case 'file':
      return `${named}不能超过 ${n} 字节`;
    default:
      return issue.inclusive === false ? `${named}应小于 ${n}` : `${named}不能大于 ${n}`;
  }
}

function invalidFormat(named: string, issue: z.core.$ZodIssueInvalidStringFormat, schema: Schema | undefined): string {
  const example = schema ? exampleOf(schema) : undefined;
  const like = typeof example === 'string' && example ? `，如 ${example}` : '';
  switch (issue.format) {
    case 'email':
      return `${named}格式不正确，应为单个邮箱地址（如 name@example.com）`;
    case 'datetime':
      return `${named}应为带时区的日期时间，如 ${typeof example === 'string' && example ? example : '2027-03-31T17:00:00+08:00'}`;
    case 'date':
      return `${named}应为日期，如 ${typeof example === 'string' && example ? example : '2027-03-31'}`;
    case 'time':
      return `${named}应为时刻，如 17:00:00`;
    case 'uuid':
    case 'guid':
      return `${named}格式不正确，应为 UUID 编号${like || '，如 3f2b9c4e-7d1a-4e8b-9a0c-5b6d7e8f9a01'}`;
    case 'url':
      return `${named}应为网址${like}`;
    case 'starts_with':
      return `${named}应以“${(issue as z.core.$ZodIssueStringStartsWith).prefix}”开头`;
    case 'ends_with':
      return `${named}应以“${(issue as z.core.$ZodIssueStringEndsWith).suffix}”结尾`;
    case 'includes':
      return `${named}应包含“${(issue as z.core.$ZodIssueStringIncludes).includes}”`;
    default:
      return `${named}格式不正确${like}`;
  }
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
