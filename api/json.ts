import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';
import { parse as parseJsonTree, type ValueNode } from '@humanwhocodes/momoa';
import express, { type RequestHandler } from 'express';
import { declaredCharsetOf, repeatedCharsetZh } from '../platform/media-type.js';
import { AppError, readingBody } from './errors.js';

/**
 * The encodings a body may be declared in (WHATWG Encoding Standard names): UTF-8, which RFC 8259 §8.1 requires
 * of JSON exchanged between systems, UTF-16 (either byte order), and the encodings Chinese text is actually
 * written in, GBK and GB18030. Any of the labels the standard maps to them is accepted (`utf8`, `gb2312`,
 * `chinese`, `ucs-2`…); a single-byte charset such as ISO-8859-1 cannot carry Chinese at all, so a body declared
 * in one is refused, never decoded into mojibake.
 */
const ACCEPTED_ENCODINGS = new Set(['utf-8', 'utf-16le', 'utf-16be', 'gbk', 'gb18030']);

/**
 * The WHATWG encoding `label` names (`utf-8`, `utf-16le`, `utf-16be`, `gbk`, `gb18030`) when it is one of
 * `ACCEPTED_ENCODINGS`; `undefined` for any other label, known (iso-8859-1, big5) or not.
 */
export function acceptedEncoding(label: string): string | undefined {
  try {
    const encoding = new TextDecoder(label.trim()).encoding;
    return ACCEPTED_ENCODINGS.has(encoding) ? encoding : undefined;
  } catch {
    return undefined;
  }
}

/** The 415 for a body declared in a charset outside `ACCEPTED_ENCODINGS`, naming it. */
export function unsupportedCharset(charset: string): AppError {
  return new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    `不支持字符集 ${charset}：请以 UTF-8 编码发送（Content-Type: application/json; charset=utf-8，或不写 charset）`,
  );
}

/**
 * Decodes `bytes` in `charset` (a WHATWG Encoding label of `ACCEPTED_ENCODINGS`: utf-8, gbk, gb2312, gb18030,
 * utf-16le…) strictly. Throws `AppError` 400 `INVALID_ENCODING` when the bytes are not valid in that charset
 * (nothing is replaced by U+FFFD, so mojibake is never stored) and 415 `UNSUPPORTED_MEDIA_TYPE` for any other
 * charset (`unsupportedCharset`), known to the platform or not.
 */
export function decodeStrictly(bytes: Uint8Array, charset: string, what: string): string {
  const encoding = acceptedEncoding(charset);
  if (!encoding) throw unsupportedCharset(charset);
  const decoder = new TextDecoder(encoding, { fatal: true });
  try {
    return decoder.decode(bytes);
  } catch {
    const name = encoding === 'utf-8' ? 'UTF-8' : charset.toUpperCase();
    throw new AppError('INVALID_ENCODING', `${what}不是有效的 ${name} 编码，请以 UTF-8 编码发送`);
  }
}

/** How many times the request's head carries the header `name` (any case), counted in `req.rawHeaders`. */
export function headerCount(req: IncomingMessage, name: string): number {
  const lower = name.toLowerCase();
  return req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === lower).length;
}

/**
 * The charset a request's body is declared in (lower-cased; `undefined` when none), after checking that the
 * declaration is unambiguous: Node keeps the first of two `Content-Type` headers and the media-type parser the
 * first of two `charset` parameters, silently — which one the client meant cannot be known.
 *
 * @throws AppError 415 `UNSUPPORTED_MEDIA_TYPE` for two Content-Type headers or two charset parameters
 */
export function declaredCharset(req: IncomingMessage): string | undefined {
  if (headerCount(req, 'content-type') > 1) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type 请求头只能给出一次，请只保留一个');
  }
  const declared = declaredCharsetOf(req.headers['content-type'] ?? '');
  if ('repeated' in declared) throw new AppError('UNSUPPORTED_MEDIA_TYPE', repeatedCharsetZh(declared.repeated));
  return declared.charset;
}

/**
 * What PostgreSQL cannot store as text and UTF-8 cannot encode: U+0000 (NUL) and a lone UTF-16 surrogate
 * (`"\ud800"` in JSON). With the `u` flag a paired surrogate is one code point and does not match.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|\p{Cs}/u;

/** Whether PostgreSQL can store `text` and UTF-8 encode it (no U+0000, no lone surrogate; see `UNSTORABLE`). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * Refuses `text` holding U+0000 or a lone surrogate (see `UNSTORABLE`) with 400 `INVALID_ENCODING`, naming
 * `what` (a zh-CN description of where it was, e.g. 查询参数).
 */
export function assertStorableText(text: string, what: string): void {
  const found = UNSTORABLE.exec(text);
  if (!found) return;
  throw new AppError(
    'INVALID_ENCODING',
    found[0] === '\u0000'
      ? `${what}含有空字符（U+0000），无法保存`
      : `${what}含有不成对的 UTF-16 代理项（如 \\ud800），不是有效的 Unicode 文本`,
  );
}

/** The first string or key in `value` that `assertStorableText` refuses, with its JSON path (`a.b.0`). */
function findUnstorable(value: unknown, path: string[] = []): { path: string[]; text: string } | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? { path, text: value } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return { path: [...path, key], text: key };
    const found = findUnstorable(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * The bytes a percent-encoded URL component stands for (RFC 3986 §2.1): each `%XX` is the byte XX, every
 * other character its own code (a request line is ASCII: Node refuses other bytes with 400 before Express).
 */
function percentDecodedBytes(text: string): Buffer {
  return Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
}

/** A `%` not followed by two hex digits: `decodeURIComponent` (Express's path parameters) cannot read it. */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Refuses a request whose path or query string, once percent-decoded, is not UTF-8 (400 `INVALID_ENCODING`),
 * before anything reads `req.query` or `req.params` (Express decodes both leniently or throws a bare
 * URIError). Browsers and `URLSearchParams` always encode URLs as UTF-8 (WHATWG URL Standard); a
 * malformed escape in the path (`%zz`) is refused the same way, one in the query is read literally as
 * Express does.
 */
export const refuseNonUtf8Url: RequestHandler = (req, _res, next) => {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (MALFORMED_ESCAPE.test(path)) {
    return next(new AppError('INVALID_ENCODING', '请求路径中含有无效的百分号编码'));
  }
  try {
    assertStorableText(decodeStrictly(percentDecodedBytes(path), 'utf-8', '请求路径'), '请求路径');
    if (q !== -1) {
      assertStorableText(decodeStrictly(percentDecodedBytes(url.slice(q + 1)), 'utf-8', '查询参数'), '查询参数');
    }
  } catch (err) {
    return next(err);
  }
  next();
};

/**
 * Bare NaN, Infinity and -Infinity are not JSON, but a score sheet is exactly where a client sends them.
 * They are read as the strings "NaN", "Infinity" and "-Infinity", so validation can say clearly that a
 * finite number is expected (422) instead of rejecting the whole body as malformed.
 */
function quoteNonFiniteLiterals(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const match = /^-?(NaN|Infinity)/.exec(text.slice(i, i + 9));
    if (match && !/[\w.]/.test(text[i - 1] ?? '')) {
      out += JSON.stringify(match[0]);
      i += match[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/**
 * The first member name an object of `text` (valid JSON) repeats, with the JSON path of its object (`[]` for the
 * top level; list items by index), as `momoa` (@humanwhocodes/momoa, the parser of ESLint's JSON support) reads
 * the document: names compared as decoded (`"a\u0062"` repeats `"ab"`). `JSON.parse` keeps the last value of a
 * repeated name silently; RFC 8259 §4 leaves such a document's meaning to the reader, I-JSON (RFC 7493 §2.3)
 * forbids it.
 */
export function findRepeatedKey(text: string): { path: string[]; key: string } | undefined {
  const walk = (node: ValueNode, path: string[]): { path: string[]; key: string } | undefined => {
    if (node.type === 'Array') {
      for (const [i, element] of node.elements.entries()) {
        const found = walk(element.value, [...path, String(i)]);
        if (found) return found;
      }
    } else if (node.type === 'Object') {
      const seen = new Set<string>();
      for (const member of node.members) {
        const key = member.name.type === 'String' ? member.name.value : member.name.name;
        if (seen.has(key)) return { path, key };
        seen.add(key);
        const found = walk(member.value, [...path, key]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(parseJsonTree(text, { mode: 'json' }).body, []);
}

/**
 * The 413 of a JSON body above `limit` (API_BODY_LIMIT, e.g. '1mb'): the limit, and that files are not sent in
 * JSON but through the upload operation.
 */
function tooLarge(limit: string): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    `JSON 请求体不能超过 ${limit}：请精简内容；申报材料等附件不放在 JSON 中，请通过上传附件的操作（POST /api/applications/{applicationId}/attachments）单独上传`,
  );
}

/** The requests whose body `jsonBody` read (as bytes, to be decoded and parsed by it). */
const readHere = new WeakSet<IncomingMessage>();

/**
 * How deep objects and arrays may nest in a JSON body. No request of this API nests more than a few levels; a
 * body nested thousands deep (10 kB of `[`) would overflow the stack of a recursive reader (the repeated-key
 * check) — refused before any parser sees it.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of objects and arrays in `text` (brackets inside strings not counted), read in one pass
 * without recursion, stopping early once past `MAX_JSON_DEPTH`.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > MAX_JSON_DEPTH) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * JSON bodies, parsed with the tolerance above; anything else that is not JSON is a 400 `MALFORMED_JSON`, and an
 * object naming a member twice a 400 `DUPLICATE_JSON_KEY` naming it (`findRepeatedKey`: which of two values was
 * meant cannot be known, so neither is taken). The body is read as bytes and decoded here, strictly, in the
 * charset it declares (UTF-8 when none, RFC 8259): bytes that are not valid in it are a 400 `INVALID_ENCODING`;
 * a charset outside `ACCEPTED_ENCODINGS` (ISO-8859-1 included), two charset parameters or two Content-Type
 * headers a 415 `UNSUPPORTED_MEDIA_TYPE` naming what to send (`declaredCharset`). A body above `limit` is a 413
 * `PAYLOAD_TOO_LARGE` saying the limit and that attachments go through the upload operation.
 */
export function jsonBody(limit: string): RequestHandler[] {
  const types = ['application/json', 'application/*+json'];
  // Bytes, not body-parser's text: its decoding (iconv-lite) is lenient and knows other labels than WHATWG's.
  const reader = readingBody(express.raw({ type: types, limit }));
  return [
    // The declaration first, so that an ambiguous or refused charset is answered before the body is read.
    (req, _res, next) => {
      // req.is: null without a body (type-is's hasBody), false for another type.
      if (!req.is(types)) return next();
      try {
        const charset = declaredCharset(req);
        if (charset !== undefined && !acceptedEncoding(charset)) throw unsupportedCharset(charset);
      } catch (err) {
        return next(err);
      }
      next();
    },
    (req, res, next) => {
      reader(req, res, (err?: unknown) => {
        if (err === undefined && Buffer.isBuffer(req.body)) readHere.add(req);
        next(err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE' ? tooLarge(limit) : err);
      });
    },
    (req, _res, next) => {
      // Only the bytes read just above: a page's form reader (`formBody`) leaves a Buffer too.
      if (!readHere.has(req) || !Buffer.isBuffer(req.body)) return next();
      let text: string;
      try {
        text = decodeStrictly(req.body, declaredCharset(req) ?? 'utf-8', '请求体');
      } catch (err) {
        return next(err);
      }
      if (text.trim() === '') {
        req.body = undefined;
        return next();
      }
      if (nestingDepth(text) > MAX_JSON_DEPTH) {
        return next(new AppError('MALFORMED_JSON', `请求体的嵌套层级过深：对象和数组至多嵌套 ${MAX_JSON_DEPTH} 层`));
      }
      let parsed = text;
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        try {
          parsed = quoteNonFiniteLiterals(text);
          req.body = JSON.parse(parsed) as unknown;
        } catch {
          return next(new AppError('MALFORMED_JSON', '请检查请求体的 JSON 格式'));
        }
      }
      const repeated = findRepeatedKey(parsed);
      if (repeated) {
        const where = repeated.path.length > 0 ? `请求体 ${repeated.path.join('.')} 中` : '请求体中';
        return next(
          new AppError('DUPLICATE_JSON_KEY', `${where}字段 ${repeated.key} 出现了不止一次，同一字段只能给一个值`, {
            errors: [{ path: [...repeated.path, repeated.key].join('.'), message: '同一字段只能给一个值' }],
          }),
        );
      }
      const unstorable = findUnstorable(req.body);
      if (unstorable) {
        const where = unstorable.path.length > 0 ? `请求体字段 ${unstorable.path.join('.')} ` : '请求体';
        try {
          assertStorableText(unstorable.text, where);
        } catch (err) {
          return next(err);
        }
      }
      next();
    },
  ];
}
