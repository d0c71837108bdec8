import type { RubricCriterion } from '../programmes.js';

/** A reviewer's total: the rubric's weighted sum of criterion scores (each 0–100), to two decimals. */
export function weightedTotal(rubric: readonly RubricCriterion[], scores: Readonly<Record<string, number>>): number {
  const sum = rubric.reduce((acc, c) => acc + c.weight * scores[c.key]!, 0);
  return Math.round(sum) / 100;
}

/** What is wrong with a score sheet against a rubric (zh-CN), or an empty list. */
export function scoreSheetProblems(
  rubric: readonly RubricCriterion[],
  scores: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  for (const c of rubric) {
    const v = scores[c.key];
    if (v === undefined) problems.push(`缺少评分项“${c.nameZh}”（${c.key}）`);
    else if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`评分项“${c.nameZh}”须为有限数字`);
    else if (v < 0 || v > 100) problems.push(`评分项“${c.nameZh}”须在 0 到 100 之间`);
  }
  for (const key of Object.keys(scores)) {
    if (!rubric.some((c) => c.key === key)) problems.push(`评分细则中没有“${key}”`);
  }
  return problems;
}

export interface AggregationRules {
  /** Drop the highest and the lowest total when at least this many are valid (5). */
  trimAtOrAbove: number;
  /** Flag a spread (max − min) above this (20 points). */
  spreadFlagAbove: number;
  /** Fewer valid totals than this: under-reviewed, flagged to staff (3). */
  minValidScores: number;
}

export type ReviewFlag = 'spread' | 'under_reviewed';

export interface Aggregate {
  valid: number;
  mean: number | null;
  trimmedMean: number | null;
  /** The figure that ranks: the trimmed mean with enough scores, the mean otherwise. */
  score: number | null;
  spread: number | null;
  flags: ReviewFlag[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function aggregate(totals: readonly number[], rules: AggregationRules): Aggregate {
  const valid = totals.length;
  const flags: ReviewFlag[] = [];
  if (valid < rules.minValidScores) flags.push('under_reviewed');
  if (valid === 0) return { valid, mean: null, trimmedMean: null, score: null, spread: null, flags };
  const sorted = [...totals].sort((a, b) => a - b);
  const mean = round2(sorted.reduce((a, b) => a + b, 0) / valid);
  const trimmedMean =
    valid >= rules.trimAtOrAbove ? round2(sorted.slice(1, -1).reduce((a, b) => a + b, 0) / (valid - 2)) : null;
  const spread = round2(sorted.at(-1)! - sorted[0]!);
  if (spread > rules.spreadFlagAbove) flags.push('spread');
  return { valid, mean, trimmedMean, score: trimmedMean ?? mean, spread, flags };
}

/**
 * Why a report (evaluation, rectification or project) waits for a staff grade: fewer valid expert scores than
 * the review's minimum (`valid` of `min`, `AggregationRules.minValidScores`); zh-CN.
 */
export function tooFewScoresReason(valid: number, min: number): string {
  return valid === 0
    ? '无有效专家评分，待工作人员认定'
    : `有效专家评分仅 ${valid} 份（不足 ${min} 份），待工作人员认定`;
}

export interface RankInput {
  itemId: string;
  aggregate: Aggregate;
  /** When the application was received: the last tie-break before the id. */
  receivedAt: string;
}

export interface Ranked extends RankInput {
  rank: number;
  recommended: boolean;
}

/**
 * The ranking and the recommended list within the quota.
 *
 * Tie rule, in order: the higher score (trimmed mean, or mean); then the higher untrimmed mean; then more
 * valid scores; then the earlier receipt; then the application id. Under-reviewed items rank after all
 * others and are never recommended automatically — staff may still add one, with a reason.
 */
export function rankWithinQuota(items: readonly RankInput[], quota: number): Ranked[] {
  const under = (x: RankInput) => x.aggregate.flags.includes('under_reviewed');
  const sorted = [...items].sort(
    (a, b) =>
      Number(under(a)) - Number(under(b)) ||
      (b.aggregate.score ?? -1) - (a.aggregate.score ?? -1) ||
      (b.aggregate.mean ?? -1) - (a.aggregate.mean ?? -1) ||
      b.aggregate.valid - a.aggregate.valid ||
      a.receivedAt.localeCompare(b.receivedAt) ||
      a.itemId.localeCompare(b.itemId),
  );
  let recommended = 0;
  return sorted.map((x, i) => {
    const take = !under(x) && recommended < quota;
    if (take) recommended += 1;
    return { ...x, rank: i + 1, recommended: take };
  });
}

/** Places a programme gives per round: per year, else the upper bound, else the total (unbounded if none). */
export function quotaOf(quota: { perYear?: number; min?: number; max?: number; total?: number }): number {
  return quota.perYear ?? quota.max ?? quota.total ?? Number.MAX_SAFE_INTEGER;
}
