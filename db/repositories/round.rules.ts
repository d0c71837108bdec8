import type { Db } from '../knex.js';
import { effectiveRules, type ProgrammeRules, type RoundRuleOverrides } from '../../domain/programmes.js';
import { findProgramme, type ProgrammeRow } from './programmes.js';

export interface RoundContext {
  roundId: string;
  programme: ProgrammeRow;
  /** The programme's rules with the round's own overrides applied. */
  rules: ProgrammeRules;
}

/** The programme and the rules a round applies, read together. */
export async function roundContext(db: Db, roundId: string): Promise<RoundContext | undefined> {
  const round = await db('rounds')
    .where({ id: roundId })
    .first<{ programme: string; config: RoundRuleOverrides } | undefined>('programme', 'config');
  if (!round) return undefined;
  const programme = await findProgramme(db, round.programme);
  if (!programme) return undefined;
  return { roundId, programme, rules: effectiveRules(programme.rules, round.config) };
}
