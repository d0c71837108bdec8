import type { Db } from '../knex.js';
import type { ProgrammeKey, ProgrammeRules, Track } from '../../domain/programmes.js';

export interface ProgrammeRow {
  key: ProgrammeKey;
  nameZh: string;
  track: Track;
  entersDirectory: boolean;
  quotaNote: string;
  rules: ProgrammeRules;
}

interface RawProgramme {
  key: ProgrammeKey;
  name_zh: string;
  track: Track;
  enters_directory: boolean;
  quota_note: string;
  rules: ProgrammeRules;
}

export async function findProgramme(db: Db, key: string): Promise<ProgrammeRow | undefined> {
  const row = await db<RawProgramme>('programmes').where('key', key).first();
  if (!row) return undefined;
  return {
    key: row.key,
    nameZh: row.name_zh,
    track: row.track,
    entersDirectory: row.enters_directory,
    quotaNote: row.quota_note,
    rules: row.rules,
  };
}
