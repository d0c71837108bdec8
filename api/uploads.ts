import { Readable } from 'node:stream';
import type { Request } from 'express';
import { IMPORT_MAX_BYTES, ImportFileRejected, XLSX_CONTENT_TYPE } from '../services/spreadsheet.js';
import type { ErrorCode } from '../domain/errors.js';
import { AppError } from './errors.js';
import { z, type JsonResult } from './route.js';

/** An uploaded file's body, at most `IMPORT_MAX_BYTES` (413 PAYLOAD_TOO_LARGE above it, read or declared). */
export async function readUpload(req: Request): Promise<Buffer> {
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `导入文件不得超过 ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  if (Number(req.headers['content-length'] ?? 0) > IMPORT_MAX_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > IMPORT_MAX_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads the uploaded file with `read`, answering a file that cannot be read as a sheet: 413 PAYLOAD_TOO_LARGE,
 * 415 UNSUPPORTED_MEDIA_TYPE, or `sheetCode` (422) for a sheet whose shape is not the template's.
 */
export async function readUploadedSheet<S>(
  req: Request,
  read: (bytes: Buffer, contentType: string) => Promise<S>,
  sheetCode: ErrorCode,
): Promise<S> {
  const bytes = await readUpload(req);
  try {
    return await read(bytes, req.headers['content-type'] ?? '');
  } catch (err) {
    if (err instanceof ImportFileRejected) {
      if (err.reason === 'too_large') throw new AppError('PAYLOAD_TOO_LARGE', err.message);
      if (err.reason === 'media_type') throw new AppError('UNSUPPORTED_MEDIA_TYPE', err.message);
      throw new AppError(sheetCode, err.message);
    }
    throw err;
  }
}

/** The documented answer of a route that sends an XLSX workbook. */
export const XLSX_RESPONSE = {
  description: 'XLSX 工作簿',
  schema: z.string().openapi({ format: 'binary' }),
  contentType: XLSX_CONTENT_TYPE,
};

/** An XLSX workbook sent as a download named `fileName` (ASCII) and `fileNameZh` (RFC 5987, for browsers). */
export function xlsxDownload(bytes: Buffer, fileName: string, fileNameZh: string): JsonResult {
  return {
    status: 200,
    headers: {
      'Content-Type': XLSX_CONTENT_TYPE,
      'Content-Disposition': `attachment; filename="${fileName}"; filename*=UTF-8''${encodeURIComponent(fileNameZh)}`,
    },
    stream: Readable.from([bytes]),
  };
}
