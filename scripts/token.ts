/**
 * `npm run -s token -- staff | expert <expertId> | applicant <institutionId>` prints a signed token for
 * trying the API with curl. It signs with TOKEN_SECRET, or the development secret the local stack uses.
 */
import { signToken } from '../api/auth.js';
import { loadConfig, loadDotEnv } from '../platform/config.js';

const usage = `usage: npm run -s token -- staff [staffId]
       npm run -s token -- expert <expertId>        (e.g. exp-001)
       npm run -s token -- applicant <institutionId> (e.g. zzu, zzu-cs)`;

async function main(): Promise<void> {
  const [role, id] = process.argv.slice(2);
  loadDotEnv();
  const config = loadConfig();
  if (role === 'staff') {
    console.log(await signToken({ role, id: id ?? 'dev' }, config.auth.secret, config.auth.ttl));
    return;
  }
  if ((role === 'expert' || role === 'applicant') && id) {
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
