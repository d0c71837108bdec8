/**
 * `npm run migrate`: applies pending migrations and inserts missing reference data on DATABASE_URL (for a
 * database the project does not start itself, e.g. in docker-compose). `npm start` does this on its own.
 */
import { createDb, migrateLatest } from '../db/knex.js';
import { seed } from '../db/seed.js';
import { loadConfig, loadDotEnv } from '../platform/config.js';

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.database.url) throw new Error('npm run migrate needs DATABASE_URL.');
  const db = createDb(config.database.url);
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied ${applied.join(', ')}` : 'migrations: already up to date');
    const s = await seed(db);
    console.log(
      `reference data: ${s.programmes} programmes, ${s.institutions} institutions, ${s.experts} experts, calendar ${s.calendarYears} years`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
