import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createDb } from '../db/knex.js';
import { loadConfig, loadDotEnv } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectTemporalClient } from '../platform/temporal.js';
import { AttachmentStore } from '../storage/attachments.js';
import { createApp, type ApiDeps } from './app.js';
import type { RouteEntry } from './route.js';

export interface RunningApi {
  server: Server;
  url: string;
  /** Every API route: method, path, access, link scope (`ApiRoutes.table`). */
  routes: readonly RouteEntry[];
  close(): Promise<void>;
}

/**
 * Starts the API on `config.api.port`: its rate limits first (their schema migrated, once per process and database
 * handle), then the HTTP server. `close` stops the server, then ends what the app holds (`createApp`'s `close`:
 * the session store's pool and prune timer, the rate limits' pools, its own SMTP transport). The database handle
 * and the Temporal client are the caller's.
 *
 * @throws the rate limits' migration or connection error; the server's listen error.
 */
export async function startApi(deps: ApiDeps): Promise<RunningApi> {
  const created = createApp(deps);
  await created.rateLimits.start();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = created.app.listen(deps.config.api.port, deps.config.api.host, () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: unknown) => {
    await created.close();
    throw err;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : deps.config.api.port;
  return {
    server,
    url: `http://${deps.config.api.host}:${port}`,
    routes: created.routes,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await created.close();
    },
  };
}

/** `npm run api`: one more API process against the configured services. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: !config.production && process.stdout.isTTY });
  if (!config.temporal.address || !config.database.url) {
    throw new Error('npm run api needs TEMPORAL_ADDRESS and DATABASE_URL (npm start sets them for its own API).');
  }
  const db = createDb(config.database.url, { logger });
  const temporal = await connectTemporalClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
  });
  const attachments = new AttachmentStore(config.attachments.dir, config.attachments.maxBytes);
  const api = await startApi({ config, db, temporal, attachments, logger });
  logger.info({ url: api.url }, 'API listening');
  const stop = async () => {
    await api.close();
    await temporal.connection.close();
    await db.destroy();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
