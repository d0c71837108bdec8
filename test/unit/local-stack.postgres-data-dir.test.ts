import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresDataDir } from '../../local-stack/embedded.js';

const asRoot = process.getuid?.() === 0;
const made: string[] = [];
const tmp = (mode: number) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-pgdir-'));
  fs.chmodSync(dir, mode);
  made.push(dir);
  return dir;
};
afterEach(() => made.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('where the embedded PostgreSQL keeps a data folder’s cluster', () => {
  it('when the postgres user can reach the data folder, then the cluster is inside it', () => {
    const dataDir = path.join(tmp(0o755), 'data');
    expect(postgresDataDir(dataDir, tmp(0o755))).toBe(path.join(dataDir, 'postgres'));
  });

  it.skipIf(!asRoot)(
    'when root’s data folders are unreachable, then each gets its own cluster and none is shared',
    () => {
      const home = tmp(0o700);
      const clusters = tmp(0o755);
      const a = postgresDataDir(path.join(home, 'a'), clusters);
      const b = postgresDataDir(path.join(home, 'b'), clusters);
      expect(a).not.toBe(b);
      expect(a.startsWith(clusters + path.sep) && b.startsWith(clusters + path.sep)).toBe(true);
      expect(postgresDataDir(path.join(home, 'a'), clusters)).toBe(a);
      expect(fs.readFileSync(path.join(path.dirname(a), 'data-dir'), 'utf8').trim()).toBe(path.join(home, 'a'));

      fs.writeFileSync(path.join(path.dirname(a), 'data-dir'), '/somebody/else\n');
      expect(() => postgresDataDir(path.join(home, 'a'), clusters)).toThrow(/never shared/);
    },
  );
});
