/**
 * `npm run chaos [-- --applications 300 --seed 7 --kills 5]`: a round through review, publicity with
 * objections and 认定 on real servers in compressed time, run twice with the same seed — once clean, once while
 * the worker is SIGKILLed `--kills` times, the Temporal dev server is stopped and restarted (SQLite kept),
 * PostgreSQL is stopped for 20 s, SMTP is unreachable for 20 s and once drops a connection after `DATA` —
 * then prints a table comparing the two. Exits non-zero unless the results are equal, nothing is stuck or
 * pending, no email went out twice under two Message-IDs, and the API never answered 500.
 */
import { parseArgs } from 'node:util';
import { chaosDir, runChaosRound, type FaultPlan } from './chaos/round.js';
import { compareRuns, formatComparison } from './chaos/report.js';

const { values } = parseArgs({
  options: {
    applications: { type: 'string', default: '300' },
    seed: { type: 'string', default: '7' },
    kills: { type: 'string', default: '5' },
  },
});
const applications = Number(values.applications);
const seed = Number(values.seed);
const kills = Number(values.kills);
if (!Number.isInteger(applications) || applications < 20) throw new Error('--applications must be an integer ≥ 20');

const plan: FaultPlan = {
  kills,
  temporalRestart: true,
  postgresOutageMs: 20_000,
  smtpOutageMs: 20_000,
  smtpDropAfterData: true,
};

// Interrupted (Ctrl-C, a timeout's SIGTERM): exit, so that the servers and the worker this run started are
// killed with it (local-stack kills the processes it started on exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<number> {
  const log = (label: string) => (message: string) => process.stdout.write(`[chaos:${label}] ${message}\n`);
  log('clean')(`${applications} applications, seed ${seed}`);
  const clean = await runChaosRound({ applications, seed, dir: chaosDir('clean'), progress: log('clean') });
  const chaos = await runChaosRound({
    applications,
    seed,
    faults: plan,
    dir: chaosDir('faults'),
    progress: log('faults'),
  });
  const comparison = compareRuns(clean, chaos);
  process.stdout.write(`\n${formatComparison(comparison, { applications, seed })}\n`);
  return comparison.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
