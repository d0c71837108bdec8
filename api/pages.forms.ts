import express, { type Request } from 'express';
import { AppError, readingBody, type BodyReader } from './errors.js';
import { acceptedEncoding, declaredCharset, isStorableText } from './json.js';

/**
 * Reading what a browser, or a script, posts to a public HTML form. The page answers every post with a page
 * (never problem+json): what could be read is kept, so the form is re-rendered with the person's own text, and
 * every problem is said in zh-CN with what to fix.
 */

/** The objection form's fields (`api/pages.ts`), with the zh-CN labels its page shows. */
export const OBJECTION_FIELDS = {
  entryId: '异议所涉项目',
  name: '姓名',
  unit: '工作单位',
  onBehalfOfUnit: '以单位名义提出',
  phone: '联系电话',
  email: '电子邮箱',
  facts: '事实与理由',
  evidence: '证据材料',
  grounds: '异议理由的性质',
  idempotencyKey: '表单编号',
} as const;

export type ObjectionField = keyof typeof OBJECTION_FIELDS;

/** A form's fields: each field's name and the zh-CN label its page shows (the problems name fields by label). */
export type FormFields = Readonly<Record<string, string>>;

/** What the person typed, field by field (the first value of a repeated field), as text. */
export type Typed<F extends FormFields> = Partial<Record<keyof F & string, string>>;

/** What the person typed into the objection form. */
export type TypedForm = Typed<typeof OBJECTION_FIELDS>;

/**
 * A post read as far as it could be: the values kept, and when the post itself is wrong, the HTTP status to
 * answer with (400 not UTF-8 or not parseable, 415 not a form, 422 repeated or non-text fields) and the
 * problems in zh-CN.
 */
export interface ReadForm<F extends FormFields = typeof OBJECTION_FIELDS> {
  values: Typed<F>;
  refusal?: { status: 400 | 415 | 422; problems: string[] };
}

/**
 * The reader of a form post: any content type, as bytes, at most `limit` (e.g. '16kb'), for `readForm` to read.
 * Its refusals are the catalogue's (`readingBody`): 413 `PAYLOAD_TOO_LARGE`, 415 `UNSUPPORTED_MEDIA_TYPE`, 400
 * `BODY_UNREADABLE`.
 */
export function formBody(limit: string): BodyReader {
  return readingBody(express.raw({ type: () => true, limit }));
}

/** The content types a browser's form sends and this page takes. */
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Pairs of an `application/x-www-form-urlencoded` body; `undefined` when a %-escape is not UTF-8. */
function urlencodedPairs(text: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const at = part.indexOf('=');
    const [rawName, rawValue] = at < 0 ? [part, ''] : [part.slice(0, at), part.slice(at + 1)];
    try {
      pairs.push([decodeURIComponent(rawName.replaceAll('+', ' ')), decodeURIComponent(rawValue.replaceAll('+', ' '))]);
    } catch {
      return undefined;
    }
  }
  return pairs;
}

/** `name=value` lines of a `text/plain` form post (the browser's enctype=text/plain), best effort. */
function plainTextPairs(text: string): [string, unknown][] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

/** Keeps the first text value of each of the form's fields; notes repeated and non-text fields. */
function collect<F extends FormFields>(
  fields: F,
  pairs: Iterable<[string, unknown]>,
): { values: Typed<F>; problems: string[] } {
  const values: Record<string, string> = {};
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [name, value] of pairs) {
    if (!Object.hasOwn(fields, name)) continue;
    const label = fields[name]!;
    if (seen.has(name)) {
      problems.push(`${label}只能填写一项`);
      continue;
    }
    seen.add(name);
    if (typeof value === 'string') values[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') {
      values[name] = String(value);
      problems.push(`${label}应为文字`);
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      // A JSON list (evidence written as a list): kept one per line, but the post is still refused below.
      values[name] = value.join('\n');
      problems.push(`${label}应为文字`);
    } else problems.push(value instanceof Blob ? `${label}应为文字，不能上传文件` : `${label}应为文字`);
  }
  return { values: values as Typed<F>, problems: [...new Set(problems)] };
}

function hasReplacementCharacter(values: Record<string, string | undefined>): boolean {
  return Object.values(values).some((v) => v?.includes('\uFFFD'));
}

/** A NUL character (or a lone surrogate): no text field can store it, and no person types it. */
function hasUnstorable(values: Record<string, string | undefined>): boolean {
  return Object.values(values).some((v) => v !== undefined && !isStorableText(v));
}

const NOT_UTF8 = '提交的内容不是有效的 UTF-8 编码文字，请在网页上重新填写后提交';
const HAS_NUL = '提交的内容含有无法保存的控制字符（NUL），请在网页上重新填写后提交';
const NOT_A_FORM =
  '本页面只受理网页表单提交（application/x-www-form-urlencoded 或 multipart/form-data），请在本页面填写后提交';

/**
 * Reads the raw body of a post to a public form (`req.body`, a Buffer from `express.raw`, or nothing) whatever
 * its content type, keeping only `fields` (name → zh-CN label; other names are ignored): an urlencoded or
 * multipart form is read strictly as UTF-8; an empty post is an empty form; JSON and text/plain are read as far
 * as they go, to keep the values, and refused with 415; a charset other than UTF-8 (any WHATWG label of it is
 * UTF-8), two charset parameters or two Content-Type headers are refused with 415; bytes
 * that are not UTF-8 and NUL are refused with 400; a repeated or non-text field with 422. Used by the objection
 * form (`api/pages.ts`) and the account pages (`api/pages.accounts.ts`). Never throws.
 */
export async function readForm<F extends FormFields>(req: Request, fields: F): Promise<ReadForm<F>> {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (raw.length === 0) return { values: {} };
  const contentType = req.headers['content-type'] ?? '';
  let charset: string | undefined;
  try {
    // The JSON API's reading of the declaration (`declaredCharset`): two Content-Type headers or two charsets
    // are refused, not resolved by taking the first.
    charset = declaredCharset(req);
  } catch (err) {
    return {
      values: {},
      refusal: { status: 415, problems: [`${err instanceof AppError ? err.detail : ''}（在网页上填写后提交即可）`] },
    };
  }
  const form = req.is(FORM_TYPES);
  let text: string | undefined;
  try {
    text = utf8.decode(raw);
  } catch {
    text = undefined;
  }
  const refused = (status: 400 | 415 | 422, problems: string[], values: Typed<F> = {}): ReadForm<F> => ({
    values,
    refusal: { status, problems },
  });

  // A browser encodes a form as its page (UTF-8) and names no charset; any label of UTF-8 is taken (utf8,
  // unicode-1-1-utf-8: the JSON API's `acceptedEncoding`), every other charset is refused — GBK included: the
  // form's %-escapes would have to be read in it.
  if (charset !== undefined && acceptedEncoding(charset) !== 'utf-8') {
    return refused(415, [`不支持字符集 ${charset}，请使用 UTF-8（在网页上填写后提交即可）`]);
  }
  if (form === 'application/x-www-form-urlencoded') {
    const pairs = text === undefined ? undefined : urlencodedPairs(text);
    if (!pairs) return refused(400, [NOT_UTF8]);
    const { values, problems } = collect(fields, pairs);
    if (hasUnstorable(values)) return refused(400, [HAS_NUL]);
    return problems.length ? refused(422, problems, values) : { values };
  }
  if (form === 'multipart/form-data') {
    let data: FormData;
    try {
      data = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch {
      return refused(400, ['表单内容不完整或格式有误，请在本页面重新填写后提交']);
    }
    const { values, problems } = collect(fields, data.entries());
    if (hasReplacementCharacter(values)) return refused(400, [NOT_UTF8], values);
    if (hasUnstorable(values)) return refused(400, [HAS_NUL]);
    return problems.length ? refused(422, problems, values) : { values };
  }
  // Not a form: keep what can be read, say how to send it.
  if (text === undefined) return refused(400, [NOT_UTF8]);
  if (req.is(['json', '+json'])) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const pairs = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
    return refused(415, [NOT_A_FORM], collect(fields, pairs).values);
  }
  return refused(415, [NOT_A_FORM], req.is('text/plain') ? collect(fields, plainTextPairs(text)).values : {});
}
