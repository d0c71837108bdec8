import type { Knex } from 'knex';
import type { Db } from '../knex.js';
import type { ProgrammeKey, ProgrammeRules, Track } from '../../domain/programmes.js';
import { findReferenceVersion } from './reference-versions.js';

/** The programme whose rules a showcase applies (its call's working days and reminders). */
export const SHOWCASE_PROGRAMME: ProgrammeKey = 'typical_case';

export interface ProgrammeRow {
  key: ProgrammeKey;
  nameZh: string;
  track: Track;
  entersDirectory: boolean;
  quotaNote: string;
  /** The rules of version `rulesVersion`. */
  rules: ProgrammeRules;
  /**
   * Which version of the programme's rules `rules` are (`reference_versions`, kind `programme_rules`): the current
   * one from `findProgramme`, the one asked for from `findProgrammeAt`.
   */
  rulesVersion: number;
}

interface RawProgramme {
  key: ProgrammeKey;
  name_zh: string;
  track: Track;
  enters_directory: boolean;
  quota_note: string;
  rules: ProgrammeRules;
  rules_version: number;
}

function fromRow(row: RawProgramme): ProgrammeRow {
  return {
    key: row.key,
    nameZh: row.name_zh,
    track: row.track,
    entersDirectory: row.enters_directory,
    quotaNote: row.quota_note,
    rules: row.rules,
    rulesVersion: row.rules_version,
  };
}

/** Every programme with its current rules, by key. */
export async function listProgrammes(db: Db): Promise<ProgrammeRow[]> {
  const rows = await db<RawProgramme>('programmes').orderBy('key');
  return rows.map(fromRow);
}

/** The programme with its current rules, or undefined for an unknown key. */
export async function findProgramme(db: Db, key: string): Promise<ProgrammeRow | undefined> {
  const row = await db<RawProgramme>('programmes').where('key', key).first();
  return row ? fromRow(row) : undefined;
}

/**
 * The programme with the rules of `version` — what a round, an evaluation or a showcase launched under that version
 * applies, whatever has been changed since (issue 16, point 2).
 *
 * @throws Error when the programme has no such version (a launched process always names one that exists: the
 *   versions are never deleted).
 */
export async function findProgrammeAt(db: Db, key: string, version: number): Promise<ProgrammeRow | undefined> {
  const programme = await findProgramme(db, key);
  if (!programme || programme.rulesVersion === version) return programme;
  const kept = await findReferenceVersion(db, 'programme_rules', key, version);
  if (!kept) throw new Error(`programme ${key} has no rules version ${version}`);
  return { ...programme, rules: kept.data as ProgrammeRules, rulesVersion: version };
}

/**
 * The programme's current rules version as a subquery, for an insert that keeps it (`rules_version` of a round,
 * an evaluation, a showcase): read in the inserting statement itself.
 */
export function currentRulesVersion(db: Db, key: string): Knex.QueryBuilder {
  return db('programmes').select('rules_version').where('key', key);
}

/** What keeps a rules version: a round, an annual evaluation or a showcase (which applies `typical_case`). */
export type LaunchedTable = 'rounds' | 'evaluations' | 'showcases';

/**
 * The programme a launched round, evaluation or showcase applies, with the rules of the version it was launched
 * under (`rules_version`), or undefined when there is no such row.
 */
export async function programmeOfLaunch(db: Db, table: LaunchedTable, id: string): Promise<ProgrammeRow | undefined> {
  // A showcase has no programme column: it applies typical_case.
  const programme = table === 'showcases' ? db.raw('? as programme', [SHOWCASE_PROGRAMME]) : 'programme';
  const row = await db(table)
    .where({ id })
    .first<{ programme: string; rules_version: number } | undefined>(programme, 'rules_version');
  return row ? findProgrammeAt(db, row.programme, row.rules_version) : undefined;
}

/**
 * The programme of a project (立项 from a research_project round), with the rules of the version its round was
 * launched under; undefined when there is no such project.
 */
export async function programmeOfProject(db: Db, projectId: string): Promise<ProgrammeRow | undefined> {
  const row = await db('projects as p')
    .join('applications as a', 'a.id', 'p.application_id')
    .where('p.id', projectId)
    .first<{ round_id: string } | undefined>('a.round_id');
  return row ? programmeOfLaunch(db, 'rounds', row.round_id) : undefined;
}
