import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../platform/config.js';
import type pino from 'pino';
import { createLogger } from '../platform/logger.js';

/** What a bench run works in: its settings and logger, a scratch folder, and how to stop what it started. */
export interface BenchWorkspace {
  /** The test settings (`NODE_ENV=test`) over the environment. */
  config: Config;
  /** Warnings and errors unless LOG_LEVEL says otherwise. */
  logger: pino.Logger;
  /** A fresh folder under the system's temp folder, removed by `close`. */
  tmp: string;
  /** What to stop, in order (put what depends on a server before it: `unshift`). */
  stops: (() => Promise<unknown>)[];
  /** Runs every stop (errors ignored), then removes `tmp`. */
  close(): Promise<void>;
}

/**
 * Opens a bench run's workspace (`prefix`: the scratch folder's name start, e.g. `ronghe-bench-`). Interrupted
 * (SIGINT, SIGTERM), the run stops the servers it started before leaving, with exit code 130.
 */
export function openBenchWorkspace(prefix: string): BenchWorkspace {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(tmp, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Servers first, then their files.
    for (const stop of stops) await stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void close().then(() => process.exit(130)));
  }
  return { config, logger, tmp, stops, close };
}
