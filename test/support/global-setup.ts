import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { createDb, migrateLatest } from '../../db/knex.js';
import { seed } from '../../db/seed.js';
import { freePort } from '../../local-stack/ports.js';
import { startEmbeddedPostgres } from '../../local-stack/postgres.js';
import { resolveTemporalCli, resolveTemporalTestServer } from '../../local-stack/temporal-cli.js';
import { loadConfig } from '../../platform/config.js';
import { workflowsPath } from '../../worker.js';

export const TEMPLATE_DATABASE = 'ronghe_template';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    templateDatabase: string;
    temporalCliPath: string;
    temporalTestServerPath: string;
    workflowBundlePath: string;
  }
}

/**
 * Once per test run: one throwaway PostgreSQL cluster holding a migrated, seeded template database (each
 * test file clones its own copy), the Temporal binaries, and the workflow bundle. Everything is stopped and
 * removed afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-test-'));
  // PostgreSQL runs as `postgres` when we are root: it must reach its folder.
  fs.chmodSync(tmp, 0o755);

  const [temporalCliPath, temporalTestServerPath, postgres, bundle] = await Promise.all([
    resolveTemporalCli({ explicitPath: config.temporal.cliPath, cacheDir: config.cacheDir }),
    resolveTemporalTestServer({ explicitPath: config.temporal.testServerPath, cacheDir: config.cacheDir }),
    freePort().then((port) =>
      startEmbeddedPostgres({
        dataDir: path.join(tmp, 'postgres'),
        port,
        ephemeral: true,
        database: TEMPLATE_DATABASE,
      }),
    ),
    bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }),
  ]);

  const template = createDb(postgres.url, { poolMax: 2 });
  try {
    await migrateLatest(template);
    await seed(template);
  } finally {
    await template.destroy();
  }
  const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
  fs.writeFileSync(workflowBundlePath, bundle.code);

  project.provide('postgresAdminUrl', postgres.adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  project.provide('temporalCliPath', temporalCliPath);
  project.provide('temporalTestServerPath', temporalTestServerPath);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await postgres.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
}
