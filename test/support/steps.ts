import { it } from 'vitest';

/** A step's bound: a stage of a story on a loaded runner (the waits inside are bounded by idleness). */
const STEP_TIMEOUT_MS = 300_000;

/**
 * Named steps of one story sharing state (vitest runs a file's tests in order). A failing step names the
 * stage that broke; the steps after it are skipped (they would only fail for the same reason), so the first
 * failure is the one reported.
 */
export function storySteps(): (name: string, run: () => Promise<void>, timeoutMs?: number) => void {
  let failed: string | undefined;
  return (name, run, timeoutMs = STEP_TIMEOUT_MS) => {
    it(
      name,
      async (ctx) => {
        if (failed) ctx.skip(`skipped: the earlier step "${failed}" failed`);
        ctx.onTestFailed(() => {
          failed ??= name;
        });
        await run();
      },
      timeoutMs,
    );
  };
}
