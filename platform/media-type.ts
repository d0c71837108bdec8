/**
 * Reading a `Content-Type` header's parameters strictly, for the JSON reader (api/json.ts) and the spreadsheet
 * import (services/spreadsheet.ts) alike: a repeated `charset` is reported, never resolved by taking the first.
 */

/**
 * The parameters of a media type (`application/json; charset=gbk`) in order, names lower-cased, values unquoted
 * (RFC 9110 §5.6.6: a quoted string's `\x` is `x`). A repeated parameter is kept twice.
 */
export function mediaTypeParameters(header: string): { name: string; value: string }[] {
  const params: { name: string; value: string }[] = [];
  const pattern = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const [, name = '', raw = ''] of header.matchAll(pattern)) {
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw.trim();
    params.push({ name: name.toLowerCase(), value });
  }
  return params;
}

/**
 * The charset `header` declares, lower-cased (`undefined` when none), or `repeated` with every value when it
 * declares more than one — which one the sender meant cannot be known.
 */
export function declaredCharsetOf(header: string): { charset: string | undefined } | { repeated: string[] } {
  const charsets = mediaTypeParameters(header)
    .filter((p) => p.name === 'charset')
    .map((p) => p.value);
  return charsets.length > 1 ? { repeated: charsets } : { charset: charsets[0]?.toLowerCase() };
}

/** What a sender declaring `charsets` (two or more) is told, zh-CN. */
export function repeatedCharsetZh(charsets: readonly string[]): string {
  return `Content-Type 中的字符集（charset）只能给出一次，收到 ${charsets.join('、')}：请只保留一个，建议 charset=utf-8`;
}
