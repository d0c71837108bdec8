import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in infra/). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function ensureDir(dir: string, mode?: number): string {
  fs.mkdirSync(dir, { recursive: true, ...(mode === undefined ? {} : { mode }) });
  if (mode !== undefined) fs.chmodSync(dir, mode);
  return dir;
}
