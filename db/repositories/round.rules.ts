import type { Db } from '../knex.js';
import { effectiveRules, type ProgrammeRules, type RoundRuleOverrides } from '../../domain/programmes.js';
import { findProgrammeAt, type ProgrammeRow } from './programmes.js';

export interface RoundContext {
  roundId: string;
  programme: ProgrammeRow;
  /** The programme's rules with the round's own overrides applied. */
  rules: ProgrammeRules;
}

/**
 * The programme and the rules a round applies, read together: the rules of the version the round was launched
 * under (`rounds.rules_version`), with the round's own overrides.
 */
export async function roundContext(db: Db, roundId: string): Promise<RoundContext | undefined> {
  const round = await db('rounds')
    .where({ id: roundId })
    .first<{ programme: string; config: RoundRuleOverrides; rules_version: number } | undefined>(
      'programme',
      'config',
      'rules_version',
    );
  if (!round) return undefined;
  const programme = await findProgrammeAt(db, round.programme, round.rules_version);
  if (!programme) return undefined;
  return { roundId, programme, rules: effectiveRules(programme.rules, round.config) };
}
