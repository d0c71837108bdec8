/**
 * `npm run account -- admin <email> <name>` creates the first staff administrator account and sends (and prints)
 * its invitation link: open it to set the password and enrol the authenticator app, then sign in at
 * /account/sign-in and create every other account through the API (`POST /api/accounts`).
 *
 * It writes to DATABASE_URL, or else the embedded PostgreSQL `npm start` runs (POSTGRES_PORT); the email goes
 * through the outbox to SMTP_URL, or else the local mail sink (SMTP_PORT). Links point at PUBLIC_BASE_URL, or
 * else http://API_HOST:API_PORT. Refuses (exit 1) when an enabled administrator exists already, or the email
 * has an account.
 */
import { createDb, type Db } from '../db/knex.js';
import { embeddedPostgresUrl } from '../local-stack/postgres.js';
import { Outbox } from '../mail/outbox.js';
import { createSmtpTransport } from '../mail/transport.js';
import { loadConfig, loadDotEnv, type Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { createAccount, normaliseEmail } from '../services/accounts.js';

const usage = 'usage: npm run account -- admin <email> <name>   (e.g. admin wang@ronghe.example 王老师)';

/** The actor the bootstrap writes into the audit trail. */
export const BOOTSTRAP_ACTOR = 'system:bootstrap';

/**
 * Creates the first administrator and sends the invitation; returns the invitation link.
 *
 * @throws Error when the email is not a single mailbox, has an account, or an enabled administrator exists.
 */
export async function bootstrapAdministrator(
  deps: { db: Db; outbox: Outbox; baseUrl: string; clock?: () => Date },
  email: string,
  name: string,
): Promise<{ accountId: string; url: string; expiresAt: Date }> {
  const normalised = normaliseEmail(email);
  if (!normalised) throw new Error(`"${email}" is not a single email address`);
  const existing: unknown = await deps
    .db('accounts')
    .where({ kind: 'staff', staff_role: 'administrator' })
    .whereNull('disabled_at')
    .first('id');
  if (existing) throw new Error('an administrator account exists already: create accounts through POST /api/accounts');
  const created = await createAccount(
    { db: deps.db, outbox: deps.outbox, clock: deps.clock ?? (() => new Date()) },
    { kind: 'staff', staffRole: 'administrator', email: normalised, name },
    { actor: BOOTSTRAP_ACTOR, role: 'system' },
    deps.baseUrl,
  );
  if (!created) throw new Error(`${normalised} has an account already`);
  return { accountId: created.account.id, url: created.invitation.url, expiresAt: created.invitation.expiresAt };
}

async function main(): Promise<void> {
  const [what, email, ...nameParts] = process.argv.slice(2);
  const name = nameParts.join(' ').trim();
  if (what !== 'admin' || !email || !name) {
    console.error(usage);
    process.exit(2);
  }
  loadDotEnv();
  const config: Config = loadConfig();
  const db = createDb(config.database.url ?? embeddedPostgresUrl(config.database.port), { poolMax: 2 });
  const transport = createSmtpTransport(config.smtp.url ?? `smtp://127.0.0.1:${config.smtp.port}`);
  const logger = createLogger({ level: 'silent' });
  const outbox = new Outbox(db, transport, config.smtp.from, logger, {}, {}, config.letterhead);
  const baseUrl = (config.api.publicBaseUrl ?? `http://${config.api.host}:${config.api.port}`).replace(/\/+$/, '');
  try {
    const { url, expiresAt } = await bootstrapAdministrator({ db, outbox, baseUrl }, email, name);
    console.log(
      `Administrator ${email} created. The invitation email was sent; its link (valid until ${expiresAt.toISOString()}):`,
    );
    console.log(url);
    console.log(
      'Open it to set the password and enrol the authenticator app, then sign in at ' + `${baseUrl}/account/sign-in`,
    );
  } finally {
    transport.close();
    await db.destroy();
  }
}

if (process.argv[1]?.endsWith('account.ts')) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
