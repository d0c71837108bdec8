import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db } from '../../db/knex.js';

export interface TestDatabase {
  db: Db;
  url: string;
  /**
   * Rows written so far, as PostgreSQL's statistics report them: it grows while the worker and the API do
   * work, so waits measure idleness instead of wall-clock time (see `reportProgressWith`).
   */
  writes(): Promise<number>;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A private copy of the migrated, seeded template database, for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const template = inject('templateDatabase');
  await admin((c) => c.query(`create database ${c.escapeIdentifier(name)} template ${c.escapeIdentifier(template)}`));
  const url = inject('postgresAdminUrl').replace(/\/postgres$/, `/${name}`);
  const db = createDb(url, { poolMax: 20 });
  return {
    db,
    url,
    async writes() {
      const rows = await db.raw<{ rows: { n: string }[] }>(
        'select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as n from pg_stat_user_tables',
      );
      return Number(rows.rows[0]!.n);
    },
    async drop() {
      await db.destroy();
      await admin((c) => c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`));
    },
  };
}
