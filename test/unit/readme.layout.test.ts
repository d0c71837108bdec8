import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/paths.js';

/** The paths the README's "How the code is laid out" block names at the start of its lines (`workflows/`, `worker.ts`). */
function readmeLayout(): string[] {
  const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const section = readme.split('## How the code is laid out')[1]!.split('\n## ')[0]!;
  const block = section.split('```')[1]!;
  return block
    .split('\n')
    .map((line) => /^(\S+)\s/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** What git tracks, as paths relative to the repository root. */
function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files'], { cwd: projectRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('the README’s layout section', () => {
  it('when compared with git ls-files, then it names every top-level folder and each name it gives exists', () => {
    const files = trackedFiles();
    const named = readmeLayout();
    const topFolders = new Set(
      files.filter((f) => f.includes('/') && !f.startsWith('.')).map((f) => f.split('/')[0] + '/'),
    );
    const namedTopFolders = new Set(named.filter((n) => n.endsWith('/') && n.split('/').length === 2));
    expect([...namedTopFolders].sort()).toEqual([...topFolders].sort());
    for (const name of named) {
      const exists = name.endsWith('/') ? files.some((f) => f.startsWith(name)) : files.includes(name);
      expect(exists, `README names ${name}`).toBe(true);
    }
  });
});
