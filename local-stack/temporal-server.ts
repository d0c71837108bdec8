import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../platform/temporal.js';
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
