import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/support/). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
