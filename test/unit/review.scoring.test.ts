import { describe, expect, it } from 'vitest';
import {
  aggregate,
  quotaOf,
  rankWithinQuota,
  scoreSheetProblems,
  weightedTotal,
  type RankInput,
} from '../../domain/review/scoring.js';

const rules = { trimAtOrAbove: 5, spreadFlagAbove: 20, minValidScores: 3 };
const rubric = [
  { key: 'a', nameZh: '建设基础', weight: 30 },
  { key: 'b', nameZh: '合作机制', weight: 70 },
];

describe('score sheets', () => {
  it('weights criterion scores by the rubric', () => {
    expect(weightedTotal(rubric, { a: 80, b: 90 })).toBe(87);
    expect(weightedTotal(rubric, { a: 77.5, b: 91.25 })).toBe(87.13);
  });

  it.each([
    ['NaN', { a: Number.NaN, b: 90 }, '须为有限数字'],
    ['1e309 (Infinity)', { a: Number('1e309'), b: 90 }, '须为有限数字'],
    ['-1', { a: -1, b: 90 }, '须在 0 到 100 之间'],
    ['101', { a: 101, b: 90 }, '须在 0 到 100 之间'],
    ['a string', { a: '80', b: 90 }, '须为有限数字'],
    ['a missing criterion', { a: 80 }, '缺少评分项“合作机制”'],
    ['an unknown criterion', { a: 80, b: 90, c: 1 }, '评分细则中没有“c”'],
  ])('refuses %s', (_what, scores, problem) => {
    expect(scoreSheetProblems(rubric, scores).join()).toContain(problem);
  });

  it('accepts the bounds 0 and 100', () => {
    expect(scoreSheetProblems(rubric, { a: 0, b: 100 })).toEqual([]);
  });
});

describe('aggregation', () => {
  it('takes the plain mean below five scores', () => {
    expect(aggregate([80, 85, 90], rules)).toEqual({
      valid: 3,
      mean: 85,
      trimmedMean: null,
      score: 85,
      spread: 10,
      flags: [],
    });
  });

  it('drops the highest and the lowest from five or more scores', () => {
    const a = aggregate([60, 80, 82, 84, 99], rules);
    expect(a).toMatchObject({ valid: 5, mean: 81, trimmedMean: 82, score: 82, spread: 39 });
  });

  it('flags a spread above 20 points, and not one of exactly 20', () => {
    expect(aggregate([70, 80, 90.01], rules).flags).toEqual(['spread']);
    expect(aggregate([70, 80, 90], rules).flags).toEqual([]);
  });

  it('flags an item short of its minimum valid scores', () => {
    expect(aggregate([88, 90], rules)).toMatchObject({ valid: 2, score: 89, flags: ['under_reviewed'] });
    expect(aggregate([], rules)).toMatchObject({ valid: 0, score: null, flags: ['under_reviewed'] });
  });
});

describe('ranking within the quota (the tie rule)', () => {
  const item = (itemId: string, totals: number[], receivedAt = '2027-03-01T00:00:00Z'): RankInput => ({
    itemId,
    aggregate: aggregate(totals, rules),
    receivedAt,
  });

  it('ranks by score and recommends the top of the quota', () => {
    const ranked = rankWithinQuota(
      [item('low', [70, 70, 70]), item('high', [90, 90, 90]), item('mid', [80, 80, 80])],
      2,
    );
    expect(ranked.map((r) => [r.itemId, r.rank, r.recommended])).toEqual([
      ['high', 1, true],
      ['mid', 2, true],
      ['low', 3, false],
    ]);
  });

  it('breaks an equal score by the higher untrimmed mean', () => {
    // Both trimmed means are 80; the untrimmed means are 78 and 82.
    const ranked = rankWithinQuota([item('b', [60, 80, 80, 80, 90]), item('a', [70, 80, 80, 80, 100])], 1);
    expect(ranked.map((r) => [r.itemId, r.aggregate.score, r.aggregate.mean, r.recommended])).toEqual([
      ['a', 80, 82, true],
      ['b', 80, 78, false],
    ]);
  });

  it('then by more valid scores, then by the earlier receipt, then by id', () => {
    expect(rankWithinQuota([item('three', [80, 80, 80]), item('four', [80, 80, 80, 80])], 1)[0]!.itemId).toBe('four');
    expect(
      rankWithinQuota(
        [item('late', [80, 80, 80], '2027-03-02T00:00:00Z'), item('early', [80, 80, 80], '2027-03-01T00:00:00Z')],
        1,
      )[0]!.itemId,
    ).toBe('early');
    expect(rankWithinQuota([item('b', [80, 80, 80]), item('a', [80, 80, 80])], 1)[0]!.itemId).toBe('a');
  });

  it('never recommends an under-reviewed item automatically, however high its score', () => {
    const ranked = rankWithinQuota([item('two-scores', [99, 99]), item('ok', [70, 70, 70])], 1);
    expect(ranked.map((r) => [r.itemId, r.recommended])).toEqual([
      ['ok', true],
      ['two-scores', false],
    ]);
  });

  it('reads the quota from the programme', () => {
    expect(quotaOf({ perYear: 50 })).toBe(50);
    expect(quotaOf({ min: 3, max: 5 })).toBe(5);
    expect(quotaOf({ total: 10 })).toBe(10);
  });
});
