import { setTimeout as delay } from 'node:timers/promises';

/**
 * How long a wait may see no progress at all before it gives up. A wait is not bounded by how long the
 * machine takes (a loaded 2-core runner is slow) but by how long the system stays idle while the condition
 * is still false: as long as the stack reports progress (see `reportProgressWith`), the wait goes on, up
 * to `WAIT_CAP_MS`.
 */
export const IDLE_BOUND_MS = 60_000;
/** The hard cap of any one wait, progress or not: a stuck test still ends, with the condition named. */
export const WAIT_CAP_MS = 10 * 60_000;

/** Something that changes whenever the stack under test does work (e.g. rows written by the worker). */
export type ProgressProbe = () => Promise<unknown>;

let stackProgress: ProgressProbe | undefined;

/**
 * The stack a test file started says how to observe its progress; every wait in that file (each file runs in
 * its own process) then extends its bound while the stack is still working.
 */
export function reportProgressWith(probe: ProgressProbe | undefined): void {
  stackProgress = probe;
}

/** The probe the current test file's stack reported, if any. */
export function currentProgress(): ProgressProbe | undefined {
  return stackProgress;
}

export interface WaitOptions {
  /** What is awaited, for the failure message. */
  what?: string;
  /** The idle bound: how long without progress (or at all, when nothing reports progress). */
  timeoutMs?: number;
  /** Overrides the stack's progress probe for this wait. */
  progress?: ProgressProbe;
}

/**
 * Polls until `probe` returns something other than undefined. Gives up after `timeoutMs` without progress
 * (the stack's probe, or `options.progress`, read every poll), or after `WAIT_CAP_MS` in all.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  { what = 'condition', timeoutMs = IDLE_BOUND_MS, progress = stackProgress }: WaitOptions = {},
): Promise<T> {
  const started = Date.now();
  let idleSince = started;
  let lastProgress = progress ? await readProgress(progress) : undefined;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    const now = Date.now();
    if (progress) {
      const seen = await readProgress(progress);
      if (seen !== lastProgress) {
        lastProgress = seen;
        idleSince = now;
      }
    }
    if (now - idleSince > timeoutMs || now - started > WAIT_CAP_MS) {
      const reason = now - started > WAIT_CAP_MS ? `${WAIT_CAP_MS} ms in all` : `${timeoutMs} ms without progress`;
      throw new Error(
        `gave up after ${reason} waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    }
    await delay(200);
  }
}

async function readProgress(progress: ProgressProbe): Promise<string> {
  try {
    return JSON.stringify(await progress());
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
