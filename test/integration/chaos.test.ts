import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison } from '../../scripts/chaos/report.js';
import { chaosDir, runChaosRound, type FaultPlan } from '../../scripts/chaos/round.js';

/**
 * The smaller `npm run chaos` (issue 13, point 12): 60 applications through review, publicity with objections
 * and 认定, once clean and once while the worker is SIGKILLed twice, SMTP is unreachable for 20 s and drops one
 * connection after DATA. The two runs must end the same; nothing stuck, nothing owed, no email twice under two
 * Message-IDs, no 500.
 */
const plan: FaultPlan = {
  kills: 2,
  temporalRestart: false,
  postgresOutageMs: 0,
  smtpOutageMs: 20_000,
  smtpDropAfterData: true,
};

describe('chaos (real Temporal, PostgreSQL, maildev and worker processes)', () => {
  it(
    'when the worker is killed twice and SMTP fails during a round, then it ends as the clean run of the same seed',
    async () => {
      const progress = () => undefined;
      const clean = await runChaosRound({ applications: 60, seed: 11, dir: chaosDir('clean'), progress });
      const chaos = await runChaosRound({
        applications: 60,
        seed: 11,
        faults: plan,
        dir: chaosDir('faults'),
        progress,
      });
      const comparison = compareRuns(clean, chaos);
      expect(
        comparison.rows.filter((r) => !r.ok),
        formatComparison(comparison, { applications: 60, seed: 11 }),
      ).toEqual([]);
      expect(chaos.faults.filter((f) => f.includes('SIGKILL'))).toHaveLength(2);
      expect(chaos.faults.some((f) => f.includes('SMTP unreachable'))).toBe(true);
      expect(clean.submissions).toBe(60);
      expect(clean.objections.filed).toBeGreaterThan(0);
    },
    30 * 60_000,
  );
});
