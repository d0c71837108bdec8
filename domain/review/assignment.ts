import { FlowNetwork } from './maxflow.js';

/** One thing to review (an application, a report) and who must be kept away from it (回避). */
export interface ReviewItem {
  id: string;
  field: string;
  /** Experts wanted for this item (k). */
  need: number;
  /** The applicant and, for a college, its university: no expert from these. */
  institutionIds: readonly string[];
  /**
   * The applicant's university (itself, or the university of a college): no expert from it or from any of its
   * colleges. Absent: only `institutionIds` apply.
   */
  universityId?: string | undefined;
  /**
   * Enterprises no expert may be employed by: the application's partners and the seeded partners
   * (`institution_partners`) of the applicant and of its university.
   */
  enterpriseIds: readonly string[];
  /** Experts the applicant asked to avoid (at most two). */
  avoidExpertIds: readonly string[];
}

export interface Reviewer {
  id: string;
  fields: readonly string[];
  institutionId: string | null;
  /** The university of the expert's institution (itself, or the parent of a college); absent for no institution. */
  universityId?: string | null | undefined;
  enterpriseId: string | null;
  /** Declared conflicts: institutions and enterprises this expert must not review. */
  conflictInstitutionIds: readonly string[];
  conflictEnterpriseIds: readonly string[];
  /**
   * The universities of `conflictInstitutionIds` (each itself, or the parent of a college): a conflict declared
   * with a university or any of its colleges keeps the expert away from that whole university, as their own
   * institution does (see `ineligibility`). Absent: only `conflictInstitutionIds` apply.
   */
  conflictUniversityIds?: readonly string[] | undefined;
}

export type Ineligibility = 'field' | 'own_institution' | 'partner_enterprise' | 'declared_conflict' | 'avoid_list';

/**
 * Why `expert` may not review `item`, or undefined when it may. 回避 is never negotiable (SPEC §2, issue 14
 * point 5, issue 16 point 5): an expert of the applicant's university or of any of its colleges
 * (`own_institution`), employed by a partner enterprise of the application, the applicant or its university
 * (`partner_enterprise`), with a declared conflict (`declared_conflict`), or on the applicant's avoid list.
 *
 * A declared conflict with an institution is read as their own institution is: at the level of the university.
 * One declared with a university, or with any of its colleges, keeps the expert away from the university and
 * from every one of its colleges. SPEC §2 names the same "institution" for both ("no expert from the
 * applicant's institution … none the expert declared a conflict with"), and a college is a 二级学院 of its
 * university (the seed policy, 教高〔2022〕52号 四（二）2), not a body of its own. A conflict declared with an
 * enterprise keeps the expert away when that enterprise is among the item's partners.
 */
export function ineligibility(expert: Reviewer, item: ReviewItem): Ineligibility | undefined {
  if (!expert.fields.includes(item.field)) return 'field';
  if (expert.institutionId && item.institutionIds.includes(expert.institutionId)) return 'own_institution';
  if (expert.universityId && item.universityId && expert.universityId === item.universityId) return 'own_institution';
  if (expert.enterpriseId && item.enterpriseIds.includes(expert.enterpriseId)) return 'partner_enterprise';
  if (
    expert.conflictInstitutionIds.some((i) => item.institutionIds.includes(i)) ||
    (item.universityId !== undefined && (expert.conflictUniversityIds ?? []).includes(item.universityId)) ||
    expert.conflictEnterpriseIds.some((e) => item.enterpriseIds.includes(e))
  ) {
    return 'declared_conflict';
  }
  if (item.avoidExpertIds.includes(expert.id)) return 'avoid_list';
  return undefined;
}

/** The SPEC's load bound: no expert gets more than ceil(total / pool) + 1. */
export function loadBound(totalAssignments: number, poolSize: number): number {
  return poolSize === 0 ? 0 : Math.ceil(totalAssignments / poolSize) + 1;
}

export interface Assignment {
  itemId: string;
  expertId: string;
}

export interface Shortfall {
  kind: 'too_few_eligible' | 'load_bound';
  /** The items that cannot all be served (a set the pool cannot cover). */
  itemIds: string[];
  fields: string[];
  /** Reviews those items need, and at most how many the pool can give them. */
  need: number;
  achievable: number;
  eligibleExperts: number;
  bound: number;
  /** For staff, in zh-CN. */
  messageZh: string;
}

export type AssignmentResult =
  { ok: true; assignments: Assignment[]; maxLoad: number; bound: number } | { ok: false; shortfall: Shortfall };

const MESSAGE_ITEM_LIMIT = 5;

/**
 * Gives every item `need` distinct eligible experts with the maximum load as small as possible and never
 * above the SPEC's bound. Maximum flow on source → item (need) → expert (1 per eligible pair) → sink (load
 * cap); the cap is raised from the balanced level ⌊total/pool⌋ until every review is placed, so the first
 * feasible cap is the least possible maximum load. When even the bound does not suffice, the minimum cut
 * names a set of items the pool cannot cover, with the numbers that prove it.
 */
export function assignReviewers(
  items: readonly ReviewItem[],
  experts: readonly Reviewer[],
  options: { bound?: number } = {},
): AssignmentResult {
  const total = items.reduce((sum, i) => sum + i.need, 0);
  const bound = options.bound ?? loadBound(total, experts.length);
  const n = items.length;
  const m = experts.length;
  const source = n + m;
  const sink = source + 1;
  const net = new FlowNetwork(n + m + 2);
  const itemEdges: number[] = [];
  const pairEdges: { edge: number; item: number; expert: number }[] = [];
  const eligibleCount: number[] = [];

  // Experts in a stable order; items take them by id, which with the load caps spreads work evenly.
  const order = experts.map((_, i) => i).sort((a, b) => experts[a]!.id.localeCompare(experts[b]!.id));
  items.forEach((item, i) => {
    itemEdges.push(net.addEdge(source, i, item.need));
    let eligible = 0;
    for (const j of order) {
      if (ineligibility(experts[j]!, item) === undefined) {
        pairEdges.push({ edge: net.addEdge(i, n + j, 1), item: i, expert: j });
        eligible += 1;
      }
    }
    eligibleCount.push(eligible);
  });
  const expertEdges = experts.map((_, j) => net.addEdge(n + j, sink, 0));

  let cap = 0;
  let flow = 0;
  const start = m === 0 ? bound : Math.max(1, Math.min(bound, Math.floor(total / m)));
  for (let c = start; c <= bound && flow < total; c++) {
    for (const e of expertEdges) net.raiseCapacity(e, c - cap);
    cap = c;
    flow += net.maxFlow(source, sink);
  }

  if (flow === total) {
    const assignments: Assignment[] = [];
    const loads = new Array<number>(m).fill(0);
    for (const p of pairEdges) {
      if (net.flow(p.edge) > 0) {
        assignments.push({ itemId: items[p.item]!.id, expertId: experts[p.expert]!.id });
        loads[p.expert]! += 1;
      }
    }
    return { ok: true, assignments, maxLoad: Math.max(0, ...loads), bound };
  }
  return { ok: false, shortfall: explainShortfall() };

  function explainShortfall(): Shortfall {
    const short = items.map((item, i) => ({ item, i })).filter(({ item, i }) => eligibleCount[i]! < item.need);
    if (short.length > 0) {
      const itemIds = short.map(({ item }) => item.id);
      const need = short.reduce((s, { item }) => s + item.need, 0);
      const achievable = short.reduce((s, { i }) => s + eligibleCount[i]!, 0);
      const fields = [...new Set(short.map(({ item }) => item.field))].sort();
      const listed = short
        .slice(0, MESSAGE_ITEM_LIMIT)
        .map(({ item, i }) => `${item.id}（需 ${item.need} 名，符合条件 ${eligibleCount[i]} 名）`)
        .join('、');
      return {
        kind: 'too_few_eligible',
        itemIds,
        fields,
        need,
        achievable,
        eligibleExperts: new Set(pairEdges.filter((p) => short.some(({ i }) => i === p.item)).map((p) => p.expert))
          .size,
        bound,
        messageZh:
          `专家库不足：${short.length} 项评审对象符合领域与回避条件的专家少于所需人数：${listed}` +
          `${short.length > MESSAGE_ITEM_LIMIT ? ' 等' : ''}。请补充领域 ${fields.join('、')} 的专家。`,
      };
    }
    // Every item has enough eligible experts, so the load cap is what binds: the items on the source side
    // of a minimum cut need more reviews than their eligible experts can give within the bound.
    const side = net.reachable(source);
    const blocked = items.map((item, i) => ({ item, i })).filter(({ i }) => side[i]);
    const itemIds = blocked.map(({ item }) => item.id);
    const need = blocked.reduce((s, { item }) => s + item.need, 0);
    const achievable = blocked.reduce((s, { i }) => s + net.flow(itemEdges[i]!), 0);
    const experts = new Set(pairEdges.filter((p) => side[p.item]).map((p) => p.expert));
    const fields = [...new Set(blocked.map(({ item }) => item.field))].sort();
    return {
      kind: 'load_bound',
      itemIds,
      fields,
      need,
      achievable,
      eligibleExperts: experts.size,
      bound,
      messageZh:
        `专家库不足：领域 ${fields.join('、')} 的 ${blocked.length} 项评审对象共需 ${need} 人次评审，` +
        `符合领域与回避条件的专家 ${experts.size} 名在每人至多 ${bound} 项的负载上限内最多只能安排 ${achievable} 人次。` +
        '请补充该领域专家，或减少每项所需专家数。',
    };
  }
}

/**
 * One replacement for a declined or timed-out review: an eligible expert not yet on the item, within the
 * load bound, least loaded first (then by id). Undefined when there is none: the item is flagged instead.
 */
export function pickReplacement(
  item: ReviewItem,
  experts: readonly Reviewer[],
  loads: ReadonlyMap<string, number>,
  alreadyOnItem: ReadonlySet<string>,
  bound: number,
): Reviewer | undefined {
  return experts
    .filter(
      (e) => !alreadyOnItem.has(e.id) && ineligibility(e, item) === undefined && (loads.get(e.id) ?? 0) + 1 <= bound,
    )
    .sort((a, b) => (loads.get(a.id) ?? 0) - (loads.get(b.id) ?? 0) || a.id.localeCompare(b.id))[0];
}
