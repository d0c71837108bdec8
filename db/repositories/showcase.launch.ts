import type { Db } from '../knex.js';
import type { TimeCompression } from '../../domain/compressed-time.js';
import { currentRulesVersion, SHOWCASE_PROGRAMME } from './programmes.js';

export interface NewShowcase {
  /** `showcase-<year>`, also its workflow id. */
  id: string;
  year: number;
  titleZh: string;
  /** How many cases may be selected. */
  quota: number;
  launchedBy: string;
  compression: TimeCompression | undefined;
}

/**
 * Reserves the year's showcase row (status `launched`), keeping the current rules version of `typical_case`. Returns false, writing nothing, when the year's
 * showcase already exists: one per year.
 */
export async function insertShowcase(trx: Db, showcase: NewShowcase): Promise<boolean> {
  const inserted = await trx('showcases')
    .insert({
      id: showcase.id,
      year: showcase.year,
      title_zh: showcase.titleZh,
      status: 'launched',
      rules_version: currentRulesVersion(trx, SHOWCASE_PROGRAMME),
      quota: showcase.quota,
      launched_by: showcase.launchedBy,
      workflow_id: showcase.id,
      compressed_time: showcase.compression ? JSON.stringify(showcase.compression) : null,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}
