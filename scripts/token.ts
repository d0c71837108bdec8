/**
 * `npm run -s token -- staff | expert <expertId> | applicant <institutionId>` prints a signed token for
 * trying the API with curl. It signs with TOKEN_SECRET, or the development secret the local stack uses.
 *
 * An expert or applicant token must name a record that exists: the script looks the expert or institution up
 * in DATABASE_URL, or else in the embedded PostgreSQL `npm start` runs (POSTGRES_PORT), and refuses (exit 1)
 * one that is not there — the API would refuse its token with 401. Staff have no table: any staff id is signed.
 */
import { signToken } from '../api/auth.js';
import { createDb } from '../db/knex.js';
import { principalRecordExists, type PrincipalRecord } from '../db/repositories/principals.js';
import { embeddedPostgresUrl } from '../local-stack/postgres.js';
import { loadConfig, loadDotEnv } from '../platform/config.js';

const usage = `usage: npm run -s token -- staff [staffId]
       npm run -s token -- expert <expertId>        (e.g. exp-001)
       npm run -s token -- applicant <institutionId> (e.g. zzu, zzu-cs)`;

/** @throws Error saying why, when the record is not in the database or the database cannot be reached. */
async function assertExists(databaseUrl: string, record: PrincipalRecord): Promise<void> {
  // knex's own warnings would go to stdout, where `TOKEN=$(npm run -s token …)` reads the token: the script
  // reports the failure itself, on stderr.
  const quiet = { warn: () => undefined, error: () => undefined };
  const db = createDb(databaseUrl, { poolMax: 1, logger: quiet });
  try {
    let exists: boolean;
    try {
      exists = await principalRecordExists(db, record);
    } catch (err) {
      throw new Error(
        `cannot check ${record.kind} ${record.id}: the database is not reachable (${err instanceof Error ? err.message : String(err)}). ` +
          'Start the stack (npm start) or set DATABASE_URL.',
        { cause: err },
      );
    }
    if (!exists) {
      throw new Error(
        record.kind === 'institution'
          ? `no institution "${record.id}": an applicant token must name a university or college in the institutions table (e.g. zzu, zzu-cs)`
          : `no expert "${record.id}": an expert token must name an expert in the experts table (e.g. exp-001)`,
      );
    }
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const [role, id] = process.argv.slice(2);
  loadDotEnv();
  const config = loadConfig();
  if (role === 'staff') {
    console.log(await signToken({ role, id: id ?? 'dev' }, config.auth.secret, config.auth.ttl));
    return;
  }
  if ((role === 'expert' || role === 'applicant') && id) {
    await assertExists(config.database.url ?? embeddedPostgresUrl(config.database.port), {
      kind: role === 'expert' ? 'expert' : 'institution',
      id,
    });
    console.log(await signToken({ role, id }, config.auth.secret, config.auth.ttl));
    return;
  }
  console.error(usage);
  process.exit(2);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
