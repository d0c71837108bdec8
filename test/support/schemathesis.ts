import { spawn } from 'node:child_process';
import path from 'node:path';
import { pipInstallOnce, readPinnedRequirements } from '../../local-stack/pip.js';
import { loadConfig } from '../../platform/config.js';
import { projectRoot } from './paths.js';

/** The pins of schemathesis and everything it brings (`--no-deps`: nothing unpinned is installed). */
export const SCHEMATHESIS_REQUIREMENTS = path.join(projectRoot, 'test', 'contract', 'requirements.txt');

/**
 * schemathesis, installed from PyPI into the project's cache folder on first use (pinned by
 * `test/contract/requirements.txt`, like the Temporal wheels and openpyxl).
 *
 * @returns the folder to put on PYTHONPATH
 */
export async function installSchemathesis(): Promise<string> {
  const requirements = readPinnedRequirements(SCHEMATHESIS_REQUIREMENTS);
  const version = requirements.find((r) => r.startsWith('schemathesis=='))!.split('==')[1]!;
  return pipInstallOnce({
    target: path.join(loadConfig({ ...process.env, NODE_ENV: 'test' }).cacheDir, 'python', `schemathesis-${version}`),
    requirements,
    marker: path.join('schemathesis', '__init__.py'),
    source: path.relative(projectRoot, SCHEMATHESIS_REQUIREMENTS),
  });
}

export interface SchemathesisRun {
  /** The exit code (0: no failure). */
  code: number | null;
  /** stdout and stderr together, colourless. */
  output: string;
}

/**
 * Runs `schemathesis --config-file <configFile> run <args>` (Python's module, from `installSchemathesis()`'s folder) in the project root,
 * with `env` added to this process's environment.
 */
export async function runSchemathesis(
  pythonPath: string,
  configFile: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<SchemathesisRun> {
  const child = spawn(
    'python3',
    ['-m', 'schemathesis.cli', '--config-file', configFile, 'run', '--no-color', ...args],
    {
      cwd: projectRoot,
      env: { ...process.env, ...env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1', COLUMNS: '160' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}
