import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/knex.js';
import { insertEvaluation } from '../../db/repositories/evaluation.js';
import {
  applyReferenceRows,
  REFERENCE_LISTS,
  removePartnership,
  type ReferenceActor,
} from '../../db/repositories/reference-lists.js';
import { reviewerPool, reviewItems } from '../../db/repositories/review.assignments.js';
import { reviewSubject } from '../../db/repositories/review.subjects.js';
import { insertRound } from '../../db/repositories/round.js';
import { insertShowcase } from '../../db/repositories/showcase.launch.js';
import { assignReviewers, ineligibility, type Ineligibility } from '../../domain/review/assignment.js';
import type { ReviewSubjectKind } from '../../domain/review/subjects.js';
import type { ReferenceListName } from '../../db/repositories/reference-rows.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Issue 16, point 5: the reference data staff keep — the university/college hierarchy, the partnerships (回避
 * relations) and the conflicts experts declare in the pool — feed the assignment's avoidance in every kind of
 * review: a round's application, an evaluation report, a rectification report, a project report and a
 * showcase case. The reference data are written the way staff write them (`applyReferenceRows`,
 * `removePartnership`); the items are rows as the procedures leave them; the assignment reads both with the
 * real repositories (`reviewerPool`, `reviewItems`) and decides with the domain's rule (`ineligibility`,
 * `assignReviewers`). On a private PostgreSQL.
 */

let database: TestDatabase;
let db: Db;
const YEAR = 2041;
const FIELD = 'next_gen_it';
const staff: ReferenceActor = { actor: 'staff:test', role: 'staff', source: 'api', reason: '回避测试所需的参考数据' };

/** Applies rows to a list as staff do through the API; fails the test on any problem. */
async function apply(list: ReferenceListName, rows: Record<string, string>[]): Promise<void> {
  const outcome = await applyReferenceRows(
    db,
    REFERENCE_LISTS[list],
    rows.map((cells, i) => ({ row: i + 2, cells })),
    staff,
    { dryRun: false, mode: 'upsert' },
  );
  expect(outcome.status, JSON.stringify(outcome)).toBe('applied');
}

/**
 * The applicant is college A of 回避大学 (av-u); college B is its sibling. Partnerships: av-p1 with college A,
 * av-p2 with the university, av-p4 with the university (removed before assignment), av-p3 with college A
 * (added just before assignment). Every expert reviews the items' field; each has exactly one tie, so the
 * reason the rule gives names the tie under test.
 */
const EXPERTS: { id: string; unit: { institutionId: string } | { enterpriseId: string }; conflicts?: object }[] = [
  { id: 'av-own-college', unit: { institutionId: 'av-u-a' } },
  { id: 'av-own-university', unit: { institutionId: 'av-u' } },
  { id: 'av-sibling-college', unit: { institutionId: 'av-u-b' } },
  { id: 'av-partner-college', unit: { enterpriseId: 'av-p1' } },
  { id: 'av-partner-university', unit: { enterpriseId: 'av-p2' } },
  { id: 'av-partner-added', unit: { enterpriseId: 'av-p3' } },
  { id: 'av-partner-removed', unit: { enterpriseId: 'av-p4' } },
  { id: 'av-declared-college', unit: { enterpriseId: 'av-free' }, conflicts: { conflictInstitutions: 'av-u-a' } },
  { id: 'av-declared-university', unit: { enterpriseId: 'av-free' }, conflicts: { conflictInstitutions: 'av-u' } },
  { id: 'av-declared-sibling', unit: { enterpriseId: 'av-free' }, conflicts: { conflictInstitutions: 'av-u-b' } },
  {
    id: 'av-declared-partner',
    unit: { enterpriseId: 'av-free' },
    conflicts: { conflictEnterprises: '回避合作企业甲' },
  },
  { id: 'av-free-1', unit: { enterpriseId: 'av-free' } },
  { id: 'av-free-2', unit: { enterpriseId: 'av-elsewhere' } },
];

/** What the rule must say of each expert for an item of college A, once the partnerships are as staff left them. */
const EXPECTED: Record<string, Ineligibility | undefined> = {
  'av-own-college': 'own_institution',
  'av-own-university': 'own_institution',
  'av-sibling-college': 'own_institution',
  'av-partner-college': 'partner_enterprise',
  'av-partner-university': 'partner_enterprise',
  'av-partner-added': 'partner_enterprise',
  'av-partner-removed': undefined,
  'av-declared-college': 'declared_conflict',
  'av-declared-university': 'declared_conflict',
  'av-declared-sibling': 'declared_conflict',
  'av-declared-partner': 'declared_conflict',
  'av-free-1': undefined,
  'av-free-2': undefined,
};
const ELIGIBLE = Object.keys(EXPECTED)
  .filter((id) => EXPECTED[id] === undefined)
  .sort();

/** One item of each kind, all of college A, each the only ready item of its review subject. */
const subjects: { kind: ReviewSubjectKind; id: string; itemId: string }[] = [];
let universityApplicationId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;

  await apply('institutions', [
    { id: 'av-u', nameZh: '回避大学', city: '郑州', contactEmail: 'office@av-u.ronghe.example' },
    { id: 'av-u-a', nameZh: '回避大学甲学院', parentId: 'av-u', city: '郑州', contactEmail: 'a@av-u.ronghe.example' },
    {
      id: 'av-u-b',
      nameZh: '回避大学乙学院',
      parentId: '回避大学',
      city: '郑州',
      contactEmail: 'b@av-u.ronghe.example',
    },
  ]);
  await apply('enterprises', [
    { id: 'av-p1', nameZh: '回避合作企业甲', industry: '新一代信息技术', city: '郑州' },
    { id: 'av-p2', nameZh: '回避合作企业乙', industry: FIELD, city: '郑州' },
    { id: 'av-p3', nameZh: '回避合作企业丙', industry: FIELD, city: '郑州' },
    { id: 'av-p4', nameZh: '回避合作企业丁', industry: FIELD, city: '郑州' },
    { id: 'av-free', nameZh: '无关企业', industry: FIELD, city: '洛阳' },
    { id: 'av-elsewhere', nameZh: '另一无关企业', industry: FIELD, city: '新乡' },
  ]);
  await apply('partnerships', [
    { institutionId: 'av-u-a', enterpriseId: 'av-p1' },
    { institutionId: 'av-u', enterpriseId: 'av-p2' },
    { institutionId: 'av-u', enterpriseId: '回避合作企业丁' },
  ]);
  await apply(
    'experts',
    EXPERTS.map((e, i) => ({
      id: e.id,
      nameZh: `回避专家${i + 1}`,
      titleZh: '教授',
      email: `${e.id}@pool.ronghe.example`,
      fields: '新一代信息技术',
      ...e.unit,
      ...e.conflicts,
    })),
  );

  // A round: college A's application and one of the university itself, both past the formal check.
  const roundId = `round-research_project-${YEAR}`;
  await insertRound(db, {
    id: roundId,
    programme: 'research_project',
    year: YEAR,
    titleZh: `${YEAR}年度产教融合研究项目申报`,
    opensAt: new Date(`${YEAR}-03-01T01:00:00Z`),
    launchedBy: 'staff:test',
  });
  const [application, ofUniversity, approved] = await db('applications')
    .insert(
      [
        { institution_id: 'av-u-a', status: 'formal_passed', title_zh: '学院的申报' },
        { institution_id: 'av-u', status: 'formal_passed', title_zh: '高校的申报' },
        { institution_id: 'av-u-a', status: 'approved', title_zh: '已立项的申报' },
      ].map((a) => ({
        ...a,
        round_id: roundId,
        field_key: FIELD,
        draft: JSON.stringify({ title: a.title_zh }),
        received_at: new Date(`${YEAR}-04-01T02:00:00Z`),
      })),
    )
    .returning<{ id: string }[]>('id');
  subjects.push({ kind: 'round', id: roundId, itemId: application!.id });
  universityApplicationId = ofUniversity!.id;

  // A directory member of college A: its evaluation report and its rectification report.
  const [entry] = await db('directory_entries')
    .insert({
      programme: 'practice_base',
      institution_id: 'av-u-a',
      title_zh: '回避大学甲学院产教融合实践基地',
      status: 'rectifying',
      admitted_on: `${YEAR - 2}-06-01`,
      field_key: FIELD,
    })
    .returning<{ id: string }[]>('id');
  const evaluationId = `evaluation-practice_base-${YEAR}`;
  await insertEvaluation(db, {
    id: evaluationId,
    programme: 'practice_base',
    year: YEAR,
    titleZh: `${YEAR}年度产教融合实践基地动态评价`,
    launchedBy: 'staff:test',
  });
  const [report] = await db('evaluation_reports')
    .insert({
      evaluation_id: evaluationId,
      directory_entry_id: entry!.id,
      status: 'submitted',
      payload: JSON.stringify({ summary: '年度报告' }),
      received_at: new Date(`${YEAR}-11-01T02:00:00Z`),
    })
    .returning<{ id: string }[]>('id');
  subjects.push({ kind: 'evaluation', id: evaluationId, itemId: report!.id });
  const [rectification] = await db('rectifications')
    .insert({
      directory_entry_id: entry!.id,
      started_on: `${YEAR}-03-01`,
      due_at: new Date(`${YEAR}-09-01T16:00:00Z`),
      report_payload: JSON.stringify({ summary: '整改报告' }),
      report_received_at: new Date(`${YEAR}-08-20T02:00:00Z`),
      outcome: 'pending',
    })
    .returning<{ id: string }[]>('id');
  subjects.push({ kind: 'rectification', id: rectification!.id, itemId: rectification!.id });

  // A research project of college A and its midterm report.
  const [project] = await db('projects')
    .insert({
      application_id: approved!.id,
      institution_id: 'av-u-a',
      title_zh: '已立项的申报',
      status: 'active',
      starts_on: `${YEAR}-06-01`,
      ends_on: `${YEAR + 2}-06-01`,
      programme: 'research_project',
      field_key: FIELD,
    })
    .returning<{ id: string }[]>('id');
  const [midterm] = await db('project_reports')
    .insert({
      project_id: project!.id,
      kind: 'midterm',
      attempt: 1,
      payload: JSON.stringify({ summary: '中期报告' }),
      received_at: new Date(`${YEAR + 1}-06-01T02:00:00Z`),
    })
    .returning<{ id: string }[]>('id');
  subjects.push({ kind: 'project_report', id: midterm!.id, itemId: midterm!.id });

  // The year's showcase and college A's case (its project).
  const showcaseId = `showcase-${YEAR}`;
  await insertShowcase(db, {
    id: showcaseId,
    year: YEAR,
    titleZh: `${YEAR}年度产教融合典型案例`,
    quota: 10,
    launchedBy: 'staff:test',
    compression: undefined,
  });
  const [showcaseCase] = await db('showcase_cases')
    .insert({
      showcase_id: showcaseId,
      institution_id: 'av-u-a',
      source_kind: 'project',
      source_id: project!.id,
      programme: 'research_project',
      industry_key: FIELD,
      title_zh: '回避大学甲学院典型案例',
      summary_zh: '案例简介',
      status: 'nominated',
    })
    .returning<{ id: string }[]>('id');
  subjects.push({ kind: 'showcase', id: showcaseId, itemId: showcaseCase!.id });
});

afterAll(async () => {
  await database?.drop();
});

/** The assignment's view now: the reviewers of the pool and the ready items of a subject, as the activity reads them. */
async function readForAssignment(kind: ReviewSubjectKind, id: string) {
  const subject = await reviewSubject(db, kind, id);
  expect(subject, `${kind} ${id}`).toBeDefined();
  const { experts, reviewers } = await reviewerPool(db);
  const items = await reviewItems(db, subject!, 3, experts);
  const ours = reviewers.filter((r) => r.id in EXPECTED);
  expect(ours.map((r) => r.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  return { items, reviewers: ours };
}

/** What the rule says of each of our experts for `itemId`. */
async function verdicts(kind: ReviewSubjectKind, id: string, itemId: string) {
  const { items, reviewers } = await readForAssignment(kind, id);
  const item = items.find((i) => i.id === itemId);
  expect(item, `${kind} item ${itemId}`).toBeDefined();
  return Object.fromEntries(reviewers.map((r) => [r.id, ineligibility(r, item!)]));
}

// The tests run in order: the second changes the partnerships as staff would just before an assignment, and
// the ones after it assign under the partnerships it leaves.
describe('回避 from the reference data staff keep, in every kind of review (issue 16, point 5)', () => {
  it('the pool holds the declared conflicts as written through the experts list (source declared)', async () => {
    const declared = await db('expert_conflicts')
      .where({ source: 'declared' })
      .whereLike('expert_id', 'av-%')
      .orderBy('expert_id')
      .select('expert_id', 'institution_id', 'enterprise_id');
    expect(declared).toEqual([
      { expert_id: 'av-declared-college', institution_id: 'av-u-a', enterprise_id: null },
      { expert_id: 'av-declared-partner', institution_id: null, enterprise_id: 'av-p1' },
      { expert_id: 'av-declared-sibling', institution_id: 'av-u-b', enterprise_id: null },
      { expert_id: 'av-declared-university', institution_id: 'av-u', enterprise_id: null },
    ]);
  });

  it('a partnership added through the list keeps its enterprise away, one removed sets it free — read at assignment', async () => {
    const round = subjects.find((s) => s.kind === 'round')!;
    const before = await verdicts(round.kind, round.id, round.itemId);
    expect([before['av-partner-added'], before['av-partner-removed']]).toEqual([undefined, 'partner_enterprise']);

    await apply('partnerships', [{ institutionId: '回避大学甲学院', enterpriseId: 'av-p3' }]);
    const removed = await removePartnership(db, 'av-u', 'av-p4', { ...staff, reason: '合作协议已终止' });
    expect(removed).toBeDefined();
    expect(
      await db('institution_partners')
        .whereIn('enterprise_id', ['av-p3', 'av-p4'])
        .select('institution_id', 'enterprise_id'),
    ).toEqual([{ institution_id: 'av-u-a', enterprise_id: 'av-p3' }]);

    const after = await verdicts(round.kind, round.id, round.itemId);
    expect([after['av-partner-added'], after['av-partner-removed']]).toEqual(['partner_enterprise', undefined]);
  });

  it.each(['round', 'evaluation', 'rectification', 'project_report', 'showcase'] as const)(
    'a %s item of a college keeps away its college, university, sibling colleges, partners and declared conflicts',
    async (kind) => {
      const s = subjects.find((x) => x.kind === kind)!;
      expect(await verdicts(s.kind, s.id, s.itemId)).toEqual(EXPECTED);

      // The assignment itself: three experts wanted, exactly three eligible — those it must take.
      const { items, reviewers } = await readForAssignment(s.kind, s.id);
      const result = assignReviewers(items, reviewers);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      const given = result.ok ? result.assignments.filter((a) => a.itemId === s.itemId).map((a) => a.expertId) : [];
      expect(given.sort()).toEqual(ELIGIBLE);
    },
  );

  it("a conflict declared with one college keeps the expert away from the university's own application too", async () => {
    const round = subjects.find((s) => s.kind === 'round')!;
    const v = await verdicts(round.kind, round.id, universityApplicationId);
    expect({
      college: v['av-declared-college'],
      sibling: v['av-declared-sibling'],
      university: v['av-declared-university'],
      ownCollege: v['av-own-college'],
      free: v['av-free-1'],
    }).toEqual({
      college: 'declared_conflict',
      sibling: 'declared_conflict',
      university: 'declared_conflict',
      ownCollege: 'own_institution',
      free: undefined,
    });
  });
});
