import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadConfig, type Config } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** An API on a private database with no workflow engine behind it (see `startApiWithoutTemporal`). */
export interface ApiWithoutTemporal {
  config: Config;
  database: TestDatabase;
  api: RunningApi;
  /** The API's Temporal client (its server unreachable). */
  temporal: Client;
  /** The attachment store, in a temporary folder of its own (1 MiB per file). */
  attachments: AttachmentStore;
  /** Closes the API and the Temporal connection, drops the database, removes the attachments' folder. */
  stop(): Promise<void>;
}

/**
 * The API (development config, NODE_ENV=test, any port) on a private PostgreSQL database, with its Temporal
 * client pointed at a closed port: a route that reaches Temporal fails at once (503), never hangs on a real
 * cluster. For tests of what routes read and write in PostgreSQL, or refuse before reaching Temporal.
 */
export async function startApiWithoutTemporal(): Promise<ApiWithoutTemporal> {
  const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0' });
  const database = await createTestDatabase();
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-attachments-'));
  const attachments = new AttachmentStore(attachmentsDir, 1024 * 1024);
  const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '200ms' });
  const temporal = new Client({ connection, namespace: 'default' });
  const api = await startApi({
    config,
    db: database.db,
    temporal,
    attachments,
    logger: createLogger({ level: 'silent' }),
  });
  return {
    config,
    database,
    api,
    temporal,
    attachments,
    async stop() {
      await api.close();
      await connection.close();
      await database.drop();
      fs.rmSync(attachmentsDir, { recursive: true, force: true });
    },
  };
}
