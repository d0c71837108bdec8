import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isReachableByOtherUsers } from './postgres.js';

/** Where clusters of data folders the `postgres` user cannot reach are kept, one per data folder. */
const ROOT_CLUSTERS_DIR = '/var/lib/ronghe';

/**
 * Where the embedded PostgreSQL cluster of a data folder (`RONGHE_DATA_DIR`) keeps its data.
 *
 * Normally `<dataDir>/postgres`. PostgreSQL never runs as root: as root it runs as the `postgres` user, which
 * cannot enter a home folder like /root (mode 0700). Then the cluster lives in
 * `/var/lib/ronghe/<first 12 hex of sha256(dataDir)>/postgres` — one cluster per data folder, so two data
 * folders never share one — and a file `data-dir` beside it names the data folder it belongs to.
 *
 * @throws Error when that cluster folder is marked as another data folder's (it is never shared).
 */
export function postgresDataDir(dataDir: string, clustersDir = ROOT_CLUSTERS_DIR): string {
  const owner = path.resolve(dataDir);
  const preferred = path.join(owner, 'postgres');
  if (process.getuid?.() !== 0 || isReachableByOtherUsers(preferred)) return preferred;
  const home = path.join(clustersDir, crypto.createHash('sha256').update(owner).digest('hex').slice(0, 12));
  const marker = path.join(home, 'data-dir');
  fs.mkdirSync(home, { recursive: true, mode: 0o755 });
  if (fs.existsSync(marker)) {
    const recorded = fs.readFileSync(marker, 'utf8').trim();
    if (recorded !== owner) {
      throw new Error(`${home} holds the PostgreSQL cluster of ${recorded}, not of ${owner}; it is never shared`);
    }
  } else {
    fs.writeFileSync(marker, owner + '\n');
  }
  return path.join(home, 'postgres');
}
