import type { Db } from '../knex.js';
import { matchAvoidEntry, parseAvoidEntry } from '../../domain/people.js';
import { activeExperts, avoidCandidates, avoidListIds, writtenAvoidList } from './review.assignments.js';

/** An avoid list read against the active pool: the experts it names, and what to tell the applicant. */
export interface ResolvedAvoidList {
  /** The expert ids the entries name (one per entry, duplicates removed); complete only when `problems` is empty. */
  expertIds: string[];
  /**
   * One per entry that names no expert or several: `path` `avoidExperts.<i>`, `message` in zh-CN. Messages
   * repeat only what the applicant wrote and never the pool's names (applicants never learn who the experts are).
   */
  problems: { path: string; message: string }[];
}

/**
 * Matches each avoid-list entry (`姓名` or `姓名（工作单位）`) against the active expert pool as a person
 * (`matchAvoidEntry`: names compared after NFKC with every space removed), when the draft is saved.
 */
export async function resolveAvoidList(db: Db, entries: readonly string[]): Promise<ResolvedAvoidList> {
  if (entries.length === 0) return { expertIds: [], problems: [] };
  const pool = avoidCandidates(await activeExperts(db));
  const expertIds = new Set<string>();
  const problems: ResolvedAvoidList['problems'] = [];
  const firstEntryOf = new Map<string, number>();
  entries.forEach((entry, i) => {
    const match = matchAvoidEntry(entry, pool);
    const { name, unit, emptyUnit } = parseAvoidEntry(entry);
    const path = `avoidExperts.${i}`;
    if (emptyUnit) {
      problems.push({ path, message: `申请回避的专家：“${entry}”的括号内请填写工作单位，或去掉括号` });
    } else if (match.kind === 'one') {
      const earlier = firstEntryOf.get(match.expertId);
      if (earlier === undefined) {
        firstEntryOf.set(match.expertId, i);
        expertIds.add(match.expertId);
      } else {
        problems.push({
          path,
          message: `申请回避的专家：第 ${i + 1} 项与第 ${earlier + 1} 项是同一位专家，请删去重复的一项`,
        });
      }
    } else if (match.kind === 'none') {
      problems.push({
        path,
        message: unit
          ? `申请回避的专家：专家库中没有工作单位为“${unit}”、名为“${name}”的专家，请核对姓名和工作单位`
          : `申请回避的专家：专家库中没有名为“${name}”的专家，请核对姓名`,
      });
    } else {
      problems.push({
        path,
        message: `申请回避的专家：专家库中有多位名为“${name}”的专家，请注明其工作单位，如 ${name}（某大学）`,
      });
    }
  });
  return { expertIds: [...expertIds], problems };
}

/**
 * Stores the experts an application's avoid list resolved to when its draft was saved. Assignment reads them
 * only through a submitted version, which copies them at submission (`draftAvoidList`).
 */
export async function storeAvoidedExperts(db: Db, applicationId: string, expertIds: readonly string[]): Promise<void> {
  await db('applications')
    .where({ id: applicationId })
    .update({ avoid_expert_ids: [...expertIds] });
}

/**
 * The experts the working draft of an application avoids, as a submission keeps them with the version: the ids
 * stored when that draft was saved (`storeAvoidedExperts`, in the same transaction as the draft), or for a draft
 * saved before entries were resolved, every active expert its entries name (`avoidListIds`). Call it in the
 * submission's transaction, with the application row locked, so the list is that of the draft snapshotted.
 * @throws Error when the application does not exist.
 */
export async function draftAvoidList(trx: Db, applicationId: string): Promise<string[]> {
  const row = await trx('applications')
    .where({ id: applicationId })
    .first<{ entries: unknown; ids: string[] } | undefined>(
      trx.raw(`draft -> 'avoidExperts' as entries`),
      'avoid_expert_ids as ids',
    );
  if (!row) throw new Error(`application ${applicationId} not found`);
  if (row.ids.length > 0 || writtenAvoidList(row.entries).length === 0) return row.ids;
  return avoidListIds(row.entries, row.ids, avoidCandidates(await activeExperts(trx)));
}
