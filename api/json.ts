import express, { type RequestHandler } from 'express';
import { AppError } from './errors.js';

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

/** JSON bodies, parsed with the tolerance above; anything else that is not JSON is a 400. */
export function jsonBody(limit: string): RequestHandler[] {
  return [
    express.text({ type: ['application/json', 'application/*+json'], limit }),
    (req, _res, next) => {
      if (typeof req.body !== 'string') return next();
      const text = req.body;
      if (text.trim() === '') {
        req.body = undefined;
        return next();
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        try {
          req.body = JSON.parse(quoteNonFiniteLiterals(text)) as unknown;
        } catch {
          return next(new AppError('MALFORMED_JSON', '请检查请求体的 JSON 格式'));
        }
      }
      next();
    },
  ];
}
