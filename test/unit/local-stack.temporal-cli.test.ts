import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveTemporalCli, TEMPORAL_CLI_WHEEL } from '../../local-stack/temporal-cli.js';

let tmp: string;
const originalPath = process.env.PATH;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-cli-'));
});

afterEach(() => {
  process.env.PATH = originalPath;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function executable(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\necho fake\n', { mode: 0o755 });
  return file;
}

describe('resolving the Temporal CLI', () => {
  it('prefers TEMPORAL_CLI_PATH, and names the variable when it points nowhere', async () => {
    const cli = executable(path.join(tmp, 'custom', 'temporal'));
    await expect(resolveTemporalCli({ explicitPath: cli, cacheDir: tmp })).resolves.toBe(cli);
    await expect(resolveTemporalCli({ explicitPath: path.join(tmp, 'missing'), cacheDir: tmp })).rejects.toThrow(
      /TEMPORAL_CLI_PATH/,
    );
  });

  it('then takes `temporal` from PATH', async () => {
    const cli = executable(path.join(tmp, 'bin', 'temporal'));
    process.env.PATH = path.join(tmp, 'bin');
    await expect(resolveTemporalCli({ cacheDir: path.join(tmp, 'cache') })).resolves.toBe(cli);
  });

  it('then reuses the copy installed in the cache on an earlier run', async () => {
    process.env.PATH = path.join(tmp, 'empty');
    const cached = executable(
      path.join(tmp, 'cache', `${TEMPORAL_CLI_WHEEL.name}-${TEMPORAL_CLI_WHEEL.version}`, 'bin', 'temporal'),
    );
    await expect(resolveTemporalCli({ cacheDir: path.join(tmp, 'cache') })).resolves.toBe(cached);
  });

  it('when neither the CLI nor Python is available, then it says how to install the CLI', async () => {
    process.env.PATH = path.join(tmp, 'empty');
    await expect(resolveTemporalCli({ cacheDir: path.join(tmp, 'cache') })).rejects.toThrow(
      /Install the Temporal CLI[\s\S]*TEMPORAL_CLI_PATH/,
    );
  });
});
