import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from './migrations/index.js';

// DATE columns are calendar days ('YYYY-MM-DD'), not instants: keep them as strings so that no host time
// zone can shift them.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// BIGINT counts fit in a double for every figure this system keeps.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type Db = Knex;

export interface DbOptions {
  poolMax?: number;
  /**
   * Where knex's own warnings go (a connection that cannot be acquired while PostgreSQL is away, …): one line
   * each through this logger instead of a stack trace on the console.
   */
  logger?: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

/**
 * A knex pool on the PostgreSQL database at `url` (min 0, max `poolMax` connections, default 10), with the
 * migrations of `db/migrations/`; connect, query and pool waits are bounded (5 s, 60 s, 10 s).
 */
export function createDb(url: string, options: DbOptions = {}): Db {
  return knexFactory({
    client: 'pg',
    // A PostgreSQL that stalls rather than refuses must not hold callers forever: connecting gives up after 5 s,
    // a query after 60 s, waiting for a pooled connection after 10 s (each then a 503 in the API, a retry in an
    // activity).
    connection: {
      connectionString: url,
      application_name: 'ronghe',
      connectionTimeoutMillis: 5_000,
      query_timeout: 60_000,
    },
    acquireConnectionTimeout: 10_000,
    pool: { min: 0, max: options.poolMax ?? 10 },
    migrations: { migrationSource, tableName: 'knex_migrations' },
    ...(options.logger ? { log: knexLog(options.logger) } : {}),
  });
}

/** knex's log hooks, first line only (the rest is a stack trace). */
function knexLog(logger: NonNullable<DbOptions['logger']>): Knex.Config['log'] {
  const line = (message: unknown) => String(message).split('\n')[0]!;
  return {
    warn: (message: unknown) => logger.warn({ knex: true }, line(message)),
    error: (message: unknown) => logger.error({ knex: true }, line(message)),
    deprecate: (method: string, alternative: string) =>
      logger.warn({ knex: true }, `${method} is deprecated: ${alternative}`),
    debug: () => undefined,
  };
}

/** Applies every pending migration; returns the names applied now. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}

/** Whether the database answers a trivial query (the health check's probe). Rejects when it does not. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.raw('select 1');
}
