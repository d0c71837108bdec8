import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFormalCheckActivities } from '../../activities/round.formal-check.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { signToken } from '../../api/auth.js';
import type { RunningApi } from '../../api/server.js';
import { migrateLatest } from '../../db/knex.js';
import { migrationSource } from '../../db/migrations/index.js';
import { reviewerPool, reviewItems } from '../../db/repositories/review.assignments.js';
import { reviewSubject } from '../../db/repositories/review.subjects.js';
import { insertRound } from '../../db/repositories/round.js';
import { assignReviewers } from '../../domain/review/assignment.js';
import { loadConfig } from '../../platform/config.js';
import type { AttachmentStore } from '../../storage/attachments.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';
import type { TestDatabase } from '../support/database.js';
import { insertDemoRound } from '../support/round.demo.js';

/**
 * Issue 14, points 5 and 6, on a private PostgreSQL: the avoid list (回避) names people — checked when the draft
 * is saved, kept at assignment — and a person is (university, normalised 工号) at the formal check. The API runs
 * with no workflow engine behind it (drafts read and write PostgreSQL only).
 */

const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0' });
let database: TestDatabase;
let api: RunningApi;
let offline: ApiWithoutTemporal;
let attachments: AttachmentStore;
let henu: string;
const DEMO_ROUND = 'round-demo_university-2027';

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
  ({ database, api, attachments } = offline);
  henu = await signToken({ role: 'applicant', id: 'henu' }, config.auth.secret);
  await insertDemoRound(database.db);
});

afterAll(async () => {
  await offline?.stop();
});

type Problem = { status: number; code: string; detail: string; errors?: { path: string; message: string }[] };

async function saveDraft(body: unknown, applicationId?: string) {
  const res = await fetch(
    `${api.url}${applicationId ? `/api/applications/${applicationId}` : `/api/rounds/${DEMO_ROUND}/applications`}`,
    {
      method: applicationId ? 'PUT' : 'POST',
      headers: { Authorization: `Bearer ${henu}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    },
  );
  return { status: res.status, body: (await res.json()) as Problem & { applicationId: string } };
}

const avoidedIds = async (applicationId: string) =>
  (await database.db('applications').where({ id: applicationId }).first<{ avoid_expert_ids: string[] }>())
    .avoid_expert_ids;

describe('the avoid list is checked against the pool when the draft is saved (point 5)', () => {
  it('resolves `黄 洋` to the expert 黄洋, on creation and on change, and stores whom it names', async () => {
    const created = await saveDraft({ title: '回避测试', avoidExperts: ['黄 洋'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(await avoidedIds(created.body.applicationId)).toEqual(['exp-001']);
    // What the applicant wrote is kept as written; whom it names is never shown.
    expect(JSON.stringify(created.body)).not.toContain('exp-001');
    const changed = await saveDraft(
      { title: '回避测试', avoidExperts: ['黄\u3000洋', '高刚'] },
      created.body.applicationId,
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await avoidedIds(created.body.applicationId)).sort()).toEqual(['exp-001', 'exp-002']);
  });

  it('refuses a name the pool does not have (422 naming the field), without saving', async () => {
    const created = await saveDraft({ title: '回避测试', avoidExperts: ['黄洋'] });
    const res = await saveDraft({ title: '改过的标题', avoidExperts: ['黄阳'] }, created.body.applicationId);
    expect([res.status, res.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(res.body.errors).toEqual([
      { path: 'avoidExperts.0', message: expect.stringContaining('没有名为“黄阳”的专家') },
    ]);
    const kept = await database.db('applications').where({ id: created.body.applicationId }).first();
    expect(kept.title_zh).toBe('回避测试');
    const refused = await saveDraft({ title: '回避测试', avoidExperts: ['黄洋', '无此人'] });
    expect([refused.status, refused.body.errors?.map((e) => e.path)]).toEqual([422, ['avoidExperts.1']]);
  });

  it('refuses the same expert twice, brackets with no unit and an invisible character, each naming its entry', async () => {
    const cases: [string[], string, RegExp][] = [
      [['黄洋', '黄 洋'], 'avoidExperts.1', /第 2 项与第 1 项是同一位专家/],
      [['黄洋（）'], 'avoidExperts.0', /括号内请填写工作单位，或去掉括号/],
      [['黄\u200b洋'], 'avoidExperts.0', /不可见字符/],
      [['\u0301'], 'avoidExperts.0', /可见的文字/],
    ];
    for (const [avoidExperts, path, message] of cases) {
      const res = await saveDraft({ title: '回避测试', avoidExperts });
      expect([res.status, res.body.code], JSON.stringify(avoidExperts)).toEqual([422, 'VALIDATION_FAILED']);
      expect(res.body.errors).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) })]);
    }
  });

  it('refuses control and invisible characters in a draft’s title, summary and people, naming each field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ title: '测试\n项目' }, 'title'],
      [{ title: '测试项目\u0007' }, 'title'],
      [{ summary: '简介\u202e反向' }, 'summary'],
      [{ principal: { staffNo: 'T1', name: '王建国\u202e' } }, 'principal.name'],
      [{ principal: { staffNo: 'T\u00ad100', name: '王建国' } }, 'principal.staffNo'],
    ];
    for (const [body, path] of cases) {
      const res = await saveDraft(body);
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([422, 'VALIDATION_FAILED']);
      expect(res.body.errors?.map((e) => e.path)).toEqual([path]);
    }
    // A summary on several lines is a summary.
    expect((await saveDraft({ title: '多行简介', summary: '第一段。\n第二段。' })).status).toBe(201);
  });

  it('asks for the unit when several experts share the name, and never names the pool', async () => {
    await database.db('experts').insert({
      id: 'exp-namesake',
      name_zh: '宋丽华',
      email: 'namesake@experts.ronghe.example',
      affiliation_kind: 'industry',
      enterprise_id: 'yutong',
      title_zh: '正高级工程师',
      fields: ['next_gen_it'],
    });
    try {
      const res = await saveDraft({ title: '回避测试', avoidExperts: ['宋 丽华'] });
      expect([res.status, res.body.code]).toEqual([422, 'VALIDATION_FAILED']);
      expect(res.body.errors).toEqual([
        { path: 'avoidExperts.0', message: expect.stringContaining('请注明其工作单位，如 宋丽华（某大学）') },
      ]);
      // Neither expert's unit nor any other expert's name appears in the answer.
      expect(res.body.detail).not.toMatch(/河南工业大学|宇通|exp-/);
      const picked = await saveDraft({ title: '回避测试', avoidExperts: ['宋丽华（宇通客车）'] });
      expect(picked.status, JSON.stringify(picked.body)).toBe(201);
      expect(await avoidedIds(picked.body.applicationId)).toEqual(['exp-namesake']);
    } finally {
      await database.db('applications').update({ avoid_expert_ids: '{}' });
      await database.db('experts').where({ id: 'exp-namesake' }).delete();
    }
  });
});

describe('回避 at assignment (point 5)', () => {
  const ROUND = 'round-research_project-2031';

  it('never assigns 黄洋 to an application whose avoid list reads `黄 洋`, nor an expert of its university or of a seeded partner', async () => {
    await insertRound(database.db, {
      id: ROUND,
      programme: 'research_project',
      year: 2031,
      titleZh: '2031年度产教融合研究项目申报',
      opensAt: new Date('2031-03-01T01:00:00Z'),
      launchedBy: 'staff:test',
    });
    // A draft saved before avoid lists were resolved: only the name as written, no stored expert ids.
    const [app] = await database
      .db('applications')
      .insert({
        round_id: ROUND,
        institution_id: 'henu',
        status: 'formal_passed',
        title_zh: '回避的申报',
        field_key: 'next_gen_it',
        draft: JSON.stringify({ title: '回避的申报', avoidExperts: ['黄 洋'] }),
        received_at: new Date('2031-04-01T02:00:00Z'),
      })
      .returning<{ id: string }[]>('id');
    const henuCollege = await database.db('institutions').where({ parent_id: 'henu' }).first<{ id: string }>('id');
    const henuPartner = await database
      .db('institution_partners')
      .where({ institution_id: 'henu' })
      .first<{ enterprise_id: string }>('enterprise_id');
    await database.db('experts').update({ active: false });
    await database.db('experts').whereIn('id', ['exp-001']).update({ active: true }); // 黄洋, 郑州大学
    await database.db('experts').insert([
      ...[1, 2, 3].map((n) => ({
        id: `ok-${n}`,
        name_zh: `可用专家${n}`,
        email: `ok-${n}@pool.ronghe.example`,
        affiliation_kind: 'industry',
        enterprise_id: 'newcapec',
        title_zh: '正高级工程师',
        fields: ['next_gen_it'],
      })),
      {
        id: 'college-of-henu',
        name_zh: '学院专家',
        email: 'college@pool.ronghe.example',
        affiliation_kind: 'academic',
        institution_id: henuCollege.id,
        title_zh: '教授',
        fields: ['next_gen_it'],
      },
      {
        id: 'seeded-partner',
        name_zh: '合作企业专家',
        email: 'partner@pool.ronghe.example',
        affiliation_kind: 'industry',
        enterprise_id: henuPartner.enterprise_id,
        title_zh: '正高级工程师',
        fields: ['next_gen_it'],
      },
    ]);

    const subject = (await reviewSubject(database.db, 'round', ROUND))!;
    const { experts, reviewers } = await reviewerPool(database.db);
    const items = await reviewItems(database.db, subject, 3, experts);
    expect(items.map((i) => i.id)).toEqual([app!.id]);
    expect(items[0]!.avoidExpertIds).toEqual(['exp-001']);
    const result = assignReviewers(items, reviewers);
    expect(result.ok && result.assignments.map((a) => a.expertId).sort()).toEqual(['ok-1', 'ok-2', 'ok-3']);
  });
});

describe('a person is (university, normalised 工号) at the formal check (point 6)', () => {
  const ROUND = 'round-research_project-2032';

  it('fails the second project led by the same principal through a college, on rows kept from before the fix', async () => {
    const db = database.db;
    const applied: string[] = await db('knex_migrations').pluck('name');
    const has014 = (await migrationSource.getMigrations([])).includes('014_people_by_university');
    if (has014 && applied.includes('014_people_by_university')) {
      await db.migrate.down({ name: '014_people_by_university' });
    }
    await insertRound(db, {
      id: ROUND,
      programme: 'research_project',
      year: 2032,
      titleZh: '2032年度产教融合研究项目申报',
      opensAt: new Date('2032-03-01T01:00:00Z'),
      launchedBy: 'staff:test',
    });
    await db('rounds')
      .where({ id: ROUND })
      .update({ deadline_at: new Date('2032-04-06T16:00:00Z') });
    // As the code before the fix left them: one person under two keys, via the university and via its college.
    const [viaUniversity, viaCollege] = await db('people')
      .insert([
        { institution_id: 'zzu', staff_no: 'T3001', name_zh: '赵教授' },
        { institution_id: 'zzu-cs', staff_no: 't 3001', name_zh: '赵教授' },
      ])
      .returning<{ id: string }[]>('id');
    const draft = (title: string) => ({
      title,
      field: 'next_gen_it',
      summary: '面向新一代信息技术产业的人才培养模式研究，'.repeat(4),
      principal: { staffNo: 'T3001', name: '赵教授' },
    });
    const apps = [
      { institution: 'zzu', title: '学校主持的项目', status: 'formal_passed', person: viaUniversity!.id, day: '01' },
      { institution: 'zzu-cs', title: '学院主持的项目', status: 'submitted', person: viaCollege!.id, day: '02' },
    ];
    const ids: string[] = [];
    for (const a of apps) {
      const [row] = await db('applications')
        .insert({
          round_id: ROUND,
          institution_id: a.institution,
          status: a.status,
          title_zh: a.title,
          field_key: 'next_gen_it',
          draft: JSON.stringify(draft(a.title)),
          current_version: 1,
          principal_person_id: a.person,
          received_at: new Date(`2032-04-${a.day}T02:00:00Z`),
        })
        .returning<{ id: string }[]>('id');
      ids.push(row!.id);
      await db('application_versions').insert({
        application_id: row!.id,
        version: 1,
        payload: JSON.stringify({ draft: draft(a.title), attachments: [] }),
        received_at: new Date(`2032-04-${a.day}T02:00:00Z`),
        submitted_by: `applicant:${a.institution}`,
      });
      await db('application_members').insert({ application_id: row!.id, person_id: a.person, role: 'principal' });
    }
    await migrateLatest(db);

    const deps = {
      db,
      attachments,
      outbox: { enqueue: () => Promise.resolve(), deliverOwed: () => Promise.resolve() },
    } as unknown as ActivityDeps;
    await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') }).run(() =>
      createFormalCheckActivities(deps).formalCheckBatch({ roundId: ROUND, batchSize: 10 }),
    );
    const second = await db('applications')
      .where({ id: ids[1] })
      .first<{ status: string; formal_check_reason: string }>();
    expect(second.status).toBe('formal_failed');
    expect(second.formal_check_reason).toContain('赵教授 已主持 1 项在研或在审项目');
    // The migration merged the two rows into one person; both applications name it.
    expect(await db('people').where({ name_zh: '赵教授' }).pluck('id')).toHaveLength(1);
  });
});
