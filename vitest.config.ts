import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native bridge must not run in worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Generous: waits inside a test are bounded by the stack's idleness (test/support/wait.ts), not by this.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // End-to-end files mostly wait on their own servers; two at a time suit a 2-core machine.
    maxWorkers: 2,
  },
});
