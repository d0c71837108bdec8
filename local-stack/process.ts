import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ServiceOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Append the service's output to this file (kept across runs, for `npm start`). */
  logFile?: string;
  /** Record the pid here, so a later start can clean up after a crash that skipped our shutdown. */
  pidFile?: string;
  /** Signal that asks the service to shut down cleanly (PostgreSQL: SIGINT is its "fast" shutdown). */
  stopSignal?: NodeJS.Signals;
}

const TAIL_LINES = 60;

/**
 * A child process the project started and owns. It runs in its own process group, so a Ctrl-C in the
 * terminal reaches only our orchestrator, which then stops services in order (worker, API, then the
 * servers they use).
 */
export class ManagedProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];
  private exitedFlag = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly options: ServiceOptions,
  ) {
    const log = options.logFile ? fs.createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    const collect = (chunk: Buffer) => {
      log?.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        log?.end();
        if (options.pidFile) fs.rmSync(options.pidFile, { force: true });
        resolve({ code, signal });
      });
    });
    if (options.pidFile && child.pid) fs.writeFileSync(options.pidFile, `${child.pid}\n`);
    liveProcesses.add(this);
    void this.exited.then(() => liveProcesses.delete(this));
  }

  static start(name: string, command: string, args: string[], options: ServiceOptions = {}): ManagedProcess {
    if (options.pidFile) stopLeftover(options.pidFile, command);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const managed = new ManagedProcess(name, child, options);
    child.once('error', (err) => managed.tail.push(`spawn error: ${err.message}`));
    return managed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** The last lines the service printed; shown when it fails to start. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Asks the service to stop, and kills it if it has not stopped after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running || !this.child.pid) return;
    signalGroup(this.child.pid, this.options.stopSignal ?? 'SIGTERM');
    const stopped = await Promise.race([
      this.exited.then(() => true),
      delay(graceMs, undefined, { ref: false }).then(() => false),
    ]);
    if (!stopped) {
      signalGroup(this.child.pid, 'SIGKILL');
      await this.exited;
    }
  }

  /** Last resort on process exit: no waiting is possible there. */
  killNow(): void {
    if (this.running && this.child.pid) signalGroup(this.child.pid, 'SIGKILL');
  }
}

const liveProcesses = new Set<ManagedProcess>();
process.once('exit', () => {
  for (const p of liveProcesses) p.killNow();
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * A service left running by an earlier run that was killed hard would hold our ports and data files. It is
 * stopped only when the pid still runs the same program, so a recycled pid is never touched.
 */
function stopLeftover(pidFile: string, command: string): void {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 1 && isAlive(pid) && commandLineOf(pid).includes(path.basename(command))) {
    signalGroup(pid, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
}

function commandLineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `probe` until it returns a value, the process exits, or the time is up. Errors name the service
 * and include the last lines it printed.
 */
export async function waitUntilReady<T>(
  service: ManagedProcess,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!service.running) {
      throw new Error(`${service.name} exited while starting. Its last output:\n${service.output()}`);
    }
    try {
      const result = await probe();
      if (result !== undefined) return result;
    } catch (err) {
      lastError = err;
    }
    await delay(100);
  }
  await service.stop(2_000);
  const reason = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
  throw new Error(
    `${service.name} did not become ready within ${timeoutMs / 1000}s${reason}. Its last output:\n${service.output()}`,
  );
}

export function pidFileFor(runDir: string, name: string): string {
  fs.mkdirSync(runDir, { recursive: true });
  return path.join(runDir, `${name}.pid`);
}
