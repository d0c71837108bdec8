import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { customSearchAttributes } from '../workflows/search-attributes.js';
import { ManagedProcess, waitUntilReady, type ServiceOptions } from './process.js';

export interface TemporalDevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  /** SQLite file that keeps histories across restarts; omitted → in memory (tests). */
  dbFile?: string;
  headless?: boolean;
  namespace?: string;
  process?: Pick<ServiceOptions, 'logFile' | 'pidFile'>;
}

export interface RunningTemporal {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` on loopback and waits until its frontend answers. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    'warn',
    ...(options.headless
      ? ['--headless']
      : ['--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch']),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...customSearchAttributes.flatMap((a) => ['--search-attribute', `${a.name}=${a.cliType}`]),
  ];
  const proc = ManagedProcess.start('Temporal dev server', options.cliPath, args, options.process);
  const address = `127.0.0.1:${options.port}`;
  await waitUntilReady(
    proc,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    60_000,
  );
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
  return {
    address,
    uiUrl: options.headless ? undefined : `http://127.0.0.1:${options.uiPort}`,
    namespace,
    process: proc,
    stop: () => proc.stop(15_000),
  };
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
const indexedValueType: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/**
 * Registers any of our search attributes the server lacks: an SQLite file from an older version, a test
 * server (which knows none of them), or a cluster set up by hand.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  let known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    known = new Set(Object.keys(existing.customAttributes ?? {}));
  } catch (err) {
    // The time-skipping test server cannot list them (gRPC UNIMPLEMENTED); it accepts adding them.
    if ((err as { code?: number }).code !== 12) throw err;
  }
  const missing = customSearchAttributes.filter((a) => !known.has(a.name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((a) => [a.name, indexedValueType[a.cliType]!])),
  });
}
