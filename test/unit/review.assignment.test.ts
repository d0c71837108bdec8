import { describe, expect, it } from 'vitest';
import {
  assignReviewers,
  loadBound,
  pickReplacement,
  type ReviewItem,
  type Reviewer,
} from '../../domain/review/assignment.js';

/** mulberry32: a small seeded generator, so every case can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[int(0, xs.length - 1)]!;
  const some = <T>(xs: readonly T[], max: number) => [...new Set(Array.from({ length: int(0, max) }, () => pick(xs)))];
  return { int, pick, some, next };
}

const FIELDS = ['it', 'equipment', 'biomed', 'materials'];
const INSTITUTIONS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
const ENTERPRISES = ['e1', 'e2', 'e3', 'e4'];

function generate(seed: number): { items: ReviewItem[]; experts: Reviewer[] } {
  const r = random(seed);
  // A third of the cases crowd one popular field, where the load bound rather than 回避 is what binds.
  const crowded = seed % 3 === 0;
  const fields = crowded ? ['it', 'biomed'] : FIELDS.slice(0, r.int(1, FIELDS.length));
  const experts: Reviewer[] = Array.from({ length: r.int(crowded ? 6 : 1, 14) }, (_, j) => {
    const academic = r.next() < 0.6;
    return {
      id: `x${String(j).padStart(2, '0')}`,
      fields: crowded ? [j < 4 ? 'biomed' : 'it'] : r.some(fields, 2).length ? r.some(fields, 2) : [r.pick(fields)],
      institutionId: academic ? r.pick(INSTITUTIONS) : null,
      enterpriseId: academic ? null : r.pick(ENTERPRISES),
      conflictInstitutionIds: r.next() < 0.3 ? r.some(INSTITUTIONS, 2) : [],
      conflictEnterpriseIds: r.next() < 0.2 ? r.some(ENTERPRISES, 1) : [],
    };
  });
  const items: ReviewItem[] = Array.from({ length: r.int(crowded ? 6 : 1, 12) }, (_, i) => ({
    id: `a${String(i).padStart(2, '0')}`,
    field: crowded && r.next() < 0.8 ? 'biomed' : r.pick(fields),
    need: r.int(1, 3),
    institutionIds: r.some(INSTITUTIONS, 2).length ? r.some(INSTITUTIONS, 2) : [r.pick(INSTITUTIONS)],
    enterpriseIds: r.some(ENTERPRISES, 2),
    avoidExpertIds: r.some(
      experts.map((e) => e.id),
      2,
    ),
  }));
  return { items, experts };
}

/** Written apart from the module under test: the rules of 回避 and field match, restated. */
function allowed(e: Reviewer, item: ReviewItem): boolean {
  const sameInstitution = e.institutionId !== null && item.institutionIds.includes(e.institutionId);
  const partner = e.enterpriseId !== null && item.enterpriseIds.includes(e.enterpriseId);
  const declared =
    e.conflictInstitutionIds.some((i) => item.institutionIds.includes(i)) ||
    e.conflictEnterpriseIds.some((x) => item.enterpriseIds.includes(x));
  return (
    e.fields.includes(item.field) && !sameInstitution && !partner && !declared && !item.avoidExpertIds.includes(e.id)
  );
}

/** An independent feasibility check: plain augmenting paths (Ford–Fulkerson by DFS) on the same network. */
function feasible(items: ReviewItem[], experts: Reviewer[], bound: number): boolean {
  const n = items.length;
  const m = experts.length;
  const size = n + m + 2;
  const s = n + m;
  const t = s + 1;
  const cap = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  items.forEach((item, i) => {
    cap[s]![i] = item.need;
    experts.forEach((e, j) => {
      if (allowed(e, item)) cap[i]![n + j] = 1;
    });
  });
  experts.forEach((_, j) => (cap[n + j]![t] = bound));
  const dfs = (v: number, seen: boolean[]): boolean => {
    if (v === t) return true;
    seen[v] = true;
    for (let w = 0; w < size; w++) {
      if (!seen[w] && cap[v]![w]! > 0 && dfs(w, seen)) {
        cap[v]![w]! -= 1;
        cap[w]![v]! += 1;
        return true;
      }
    }
    return false;
  };
  let flow = 0;
  while (dfs(s, new Array<boolean>(size).fill(false))) flow += 1;
  return flow === items.reduce((sum, i) => sum + i.need, 0);
}

/** Exhaustive search for tiny instances: every way to give each item its experts. */
function exhaustive(items: ReviewItem[], experts: Reviewer[], bound: number): boolean {
  const loads = new Map<string, number>();
  const choose = (i: number): boolean => {
    if (i === items.length) return true;
    const item = items[i]!;
    const candidates = experts.filter((e) => allowed(e, item));
    const pickK = (from: number, left: number): boolean => {
      if (left === 0) return choose(i + 1);
      for (let c = from; c < candidates.length; c++) {
        const e = candidates[c]!;
        const load = loads.get(e.id) ?? 0;
        if (load >= bound) continue;
        loads.set(e.id, load + 1);
        if (pickK(c + 1, left - 1)) return true;
        loads.set(e.id, load);
      }
      return false;
    };
    return pickK(0, item.need);
  };
  return choose(0);
}

describe('reviewer assignment (property test over 200 random pools)', () => {
  const seeds = Array.from({ length: 200 }, (_, i) => 1000 + i);

  it.each(seeds)('seed %i: valid when it answers, found whenever one exists, explained when not', (seed) => {
    const { items, experts } = generate(seed);
    const total = items.reduce((s, i) => s + i.need, 0);
    const bound = loadBound(total, experts.length);
    const result = assignReviewers(items, experts);
    const exists = feasible(items, experts, bound);
    if (items.length <= 4 && experts.length <= 6) expect(exhaustive(items, experts, bound)).toBe(exists);

    if (result.ok) {
      // (a) no assignment violates 回避, field match or the load bound; each item gets `need` distinct experts.
      const byId = new Map(experts.map((e) => [e.id, e]));
      const loads = new Map<string, number>();
      for (const item of items) {
        const mine = result.assignments.filter((a) => a.itemId === item.id).map((a) => a.expertId);
        expect(mine).toHaveLength(item.need);
        expect(new Set(mine).size).toBe(item.need);
        for (const id of mine) {
          expect(allowed(byId.get(id)!, item), `${id} on ${item.id}`).toBe(true);
          loads.set(id, (loads.get(id) ?? 0) + 1);
        }
      }
      expect(Math.max(0, ...loads.values())).toBeLessThanOrEqual(bound);
      expect(result.maxLoad).toBe(Math.max(0, ...loads.values()));
      expect(result.assignments).toHaveLength(total);
    }
    // (b) whenever a valid assignment exists, the module finds one.
    expect(result.ok).toBe(exists);
    if (!result.ok) {
      // (c) otherwise it reports the pool too small, with numbers that prove it.
      const s = result.shortfall;
      expect(s.messageZh).toContain('专家库不足');
      expect(s.need).toBeGreaterThan(s.achievable);
      const blocked = items.filter((i) => s.itemIds.includes(i.id));
      expect(blocked.length).toBeGreaterThan(0);
      if (s.kind === 'too_few_eligible') {
        for (const item of blocked) expect(experts.filter((e) => allowed(e, item)).length).toBeLessThan(item.need);
      } else {
        // Hall's condition fails for the named items: what the pool can give them is less than they need.
        const capacity = experts.reduce(
          (sum, e) => sum + Math.min(bound, blocked.filter((i) => allowed(e, i)).length),
          0,
        );
        expect(blocked.reduce((sum, i) => sum + i.need, 0)).toBeGreaterThan(capacity);
      }
    }
  });
});

describe('the random cases', () => {
  it('cover feasible pools and both kinds of shortfall, so that (b) and (c) are both exercised', () => {
    const outcomes = { ok: 0, too_few_eligible: 0, load_bound: 0 };
    for (let seed = 1000; seed < 1200; seed++) {
      const { items, experts } = generate(seed);
      const r = assignReviewers(items, experts);
      outcomes[r.ok ? 'ok' : r.shortfall.kind] += 1;
    }
    expect(outcomes.ok).toBeGreaterThanOrEqual(40);
    expect(outcomes.too_few_eligible).toBeGreaterThanOrEqual(20);
    expect(outcomes.load_bound).toBeGreaterThanOrEqual(5);
  });
});

describe('reviewer assignment (examples)', () => {
  const expert = (id: string, extra: Partial<Reviewer> = {}): Reviewer => ({
    id,
    fields: ['it'],
    institutionId: null,
    enterpriseId: null,
    conflictInstitutionIds: [],
    conflictEnterpriseIds: [],
    ...extra,
  });
  const item = (id: string, extra: Partial<ReviewItem> = {}): ReviewItem => ({
    id,
    field: 'it',
    need: 3,
    institutionIds: ['zzu'],
    enterpriseIds: [],
    avoidExpertIds: [],
    ...extra,
  });

  it('balances load: 10 items × 3 reviews over 10 experts gives everyone exactly 3', () => {
    const result = assignReviewers(
      Array.from({ length: 10 }, (_, i) => item(`a${i}`)),
      Array.from({ length: 10 }, (_, j) => expert(`x${j}`)),
    );
    expect(result.ok && result.maxLoad).toBe(3);
  });

  it('never puts an expert on their own institution, a partner enterprise, a declared conflict or the avoid list', () => {
    const experts = [
      expert('same', { institutionId: 'zzu' }),
      expert('partner', { enterpriseId: 'yutong' }),
      expert('declared', { conflictInstitutionIds: ['zzu'] }),
      expert('avoided'),
      expert('ok1'),
      expert('ok2'),
      expert('ok3'),
    ];
    const result = assignReviewers([item('a', { enterpriseIds: ['yutong'], avoidExpertIds: ['avoided'] })], experts);
    expect(result.ok && result.assignments.map((a) => a.expertId).sort()).toEqual(['ok1', 'ok2', 'ok3']);
  });

  it('explains an item with too few eligible experts', () => {
    const result = assignReviewers(
      [item('a', { field: 'biomed' })],
      [expert('x1', { fields: ['biomed'] }), expert('x2')],
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.shortfall).toMatchObject({
      kind: 'too_few_eligible',
      itemIds: ['a'],
      need: 3,
      achievable: 1,
    });
    expect(!result.ok && result.shortfall.messageZh).toContain('a（需 3 名，符合条件 1 名）');
  });

  it('explains a field whose experts cannot carry its load within the bound', () => {
    // 6 biomed items need 18 reviews; 3 biomed experts may take at most ceil(21/10)+1 = 4 each = 12.
    const items = [...Array.from({ length: 6 }, (_, i) => item(`b${i}`, { field: 'biomed' })), item('i0', { need: 3 })];
    const experts = [
      ...['b1', 'b2', 'b3'].map((id) => expert(id, { fields: ['biomed'] })),
      ...Array.from({ length: 7 }, (_, j) => expert(`i${j}`)),
    ];
    const result = assignReviewers(items, experts);
    expect(!result.ok && result.shortfall).toMatchObject({
      kind: 'load_bound',
      fields: ['biomed'],
      need: 18,
      achievable: 12,
      bound: 4,
    });
  });

  it('picks the least-loaded eligible replacement not yet on the item, within the bound', () => {
    const experts = [expert('x1'), expert('x2'), expert('x3', { institutionId: 'zzu' }), expert('x4')];
    const loads = new Map([
      ['x1', 2],
      ['x2', 1],
      ['x4', 3],
    ]);
    expect(pickReplacement(item('a'), experts, loads, new Set(['x1']), 3)?.id).toBe('x2');
    expect(pickReplacement(item('a'), experts, loads, new Set(['x1', 'x2']), 3)).toBeUndefined();
  });
});
