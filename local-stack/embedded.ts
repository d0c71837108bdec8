import path from 'node:path';
import { isReachableByOtherUsers } from './postgres.js';

/**
 * Where the embedded PostgreSQL cluster keeps its data. PostgreSQL never runs as root: as root it runs as
 * the `postgres` user, which cannot reach a home folder like /root (mode 0700). Then the cluster lives in
 * /var/lib/ronghe instead, which survives restarts just the same.
 */
export function postgresDataDir(dataDir: string): string {
  const preferred = path.join(dataDir, 'postgres');
  if (process.getuid?.() !== 0 || isReachableByOtherUsers(preferred)) return preferred;
  return '/var/lib/ronghe/postgres';
}
