import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createApplicationActivities, type SubmissionResult } from '../../activities/round.applications.js';
import { createReviewActivities, type PrepareReviewResult } from '../../activities/review.js';
import { signToken } from '../../api/auth.js';
import type { RunningApi } from '../../api/server.js';
import { migrateLatest } from '../../db/knex.js';
import { migrationSource } from '../../db/migrations/index.js';
import { CalendarRepository } from '../../db/repositories/calendar.js';
import { insertRound } from '../../db/repositories/round.js';
import type { ReviewSubjectKind } from '../../domain/review/subjects.js';
import { loadConfig } from '../../platform/config.js';
import type { AttachmentStore } from '../../storage/attachments.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';
import type { TestDatabase } from '../support/database.js';
import { attachApplicationForm } from '../support/round.demo.js';

/**
 * The experts an application avoids (回避) are those of the version it submitted, not of its working draft: the
 * draft stays editable after submission (until the deadline, and a late save must change nothing either), so an
 * applicant could otherwise add or drop names to steer who reviews it (SPEC "Call for applications": versions
 * kept; "Expert review": avoidance never violated). Real PostgreSQL and the real API save the drafts; the real
 * submission and assignment activities run outside a workflow (no Temporal: neither reads workflow state).
 */

const config = loadConfig({ NODE_ENV: 'test', API_PORT: '0' });
let database: TestDatabase;
let api: RunningApi;
let offline: ApiWithoutTemporal;
let attachments: AttachmentStore;
let deps: ActivityDeps;
let henu: string;
let updates = 0;

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
  ({ database, api, attachments } = offline);
  henu = await signToken({ role: 'applicant', id: 'henu' }, config.auth.secret);
  // The outbox is not under test here: the receipt and the invitations are not sent.
  deps = {
    db: database.db,
    attachments,
    calendar: new CalendarRepository(database.db),
    staffEmail: 'staff@ronghe.example',
    publicBaseUrl: () => api.url,
    outbox: { enqueue: () => Promise.resolve(), sendSoon: () => Promise.resolve() },
  } as unknown as ActivityDeps;
});

afterAll(async () => {
  await offline?.stop();
});

const activityEnv = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });

/** Makes the active pool exactly these experts (all of the applications' field, none of henu or its partners). */
async function poolOf(experts: { id: string; name: string }[]): Promise<void> {
  await database.db('experts').update({ active: false });
  await database.db('experts').insert(
    experts.map(({ id, name }) => ({
      id,
      name_zh: name,
      email: `${id}@pool.ronghe.example`,
      affiliation_kind: 'industry',
      enterprise_id: 'newcapec',
      title_zh: '正高级工程师',
      fields: ['next_gen_it'],
    })),
  );
}

type Problem = { status: number; code: string; detail: string };

async function saveDraft(body: unknown, at: { roundId: string } | { applicationId: string }) {
  const res = await fetch(
    `${api.url}${'applicationId' in at ? `/api/applications/${at.applicationId}` : `/api/rounds/${at.roundId}/applications`}`,
    {
      method: 'applicationId' in at ? 'PUT' : 'POST',
      headers: { Authorization: `Bearer ${henu}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    },
  );
  const answer = (await res.json()) as Problem & { applicationId: string };
  expect(res.status, JSON.stringify(answer)).toBe('applicationId' in at ? 200 : 201);
  return answer;
}

const draft = (title: string, avoidExperts: string[]) => ({
  title,
  field: 'next_gen_it',
  summary: '面向新一代信息技术产业的人才培养模式研究，'.repeat(4),
  principal: { staffNo: `T${title.length}${avoidExperts.length}9`, name: '钱教授' },
  avoidExperts,
});

/**
 * henu's research-project application in the round of `year`: saved naming `submitted`, submitted (the real
 * `recordSubmission`), then its working draft saved again naming `later` — as the API lets it until the
 * deadline. Returns its id, with the application marked as having passed the formal check.
 */
async function submittedThenChanged(year: number, submitted: string[], later: string[]): Promise<string> {
  const roundId = `round-research_project-${year}`;
  await insertRound(database.db, {
    id: roundId,
    programme: 'research_project',
    year,
    titleZh: `${year}年度产教融合研究项目申报`,
    opensAt: new Date(`${year}-03-01T01:00:00Z`),
    deadlineDay: `${year}-04-06`,
    launchedBy: 'staff:test',
  });
  // As the round workflow leaves it once the call opens: the deadline fixed, 24:00 Asia/Shanghai on 04-06.
  await database
    .db('rounds')
    .where({ id: roundId })
    .update({ status: 'call_open', deadline_at: new Date(`${year}-04-06T16:00:00Z`) });
  const title = `回避以提交版本为准 ${year}`;
  const { applicationId } = await saveDraft(draft(title, submitted), { roundId });
  await attachApplicationForm(database.db, attachments, applicationId, 'henu');
  const { revision } = await database.db('applications').where({ id: applicationId }).first<{ revision: number }>();
  const receipt: SubmissionResult = await activityEnv().run(() =>
    createApplicationActivities(deps).recordSubmission({
      updateId: `submit-${year}-${++updates}`,
      roundId,
      applicationId,
      institutionId: 'henu',
      receivedAt: `${year}-04-01T10:00:00+08:00`,
      actor: 'applicant:henu',
      revision,
    }),
  );
  expect([receipt.version, receipt.repeated]).toEqual([1, false]);
  await saveDraft(draft(title, later), { applicationId });
  // The draft now names `later`: what the applicant could change after submitting.
  expect(
    (await database.db('applications').where({ id: applicationId }).first<{ draft: { avoidExperts: string[] } }>())
      .draft.avoidExperts,
  ).toEqual(later);
  await database.db('applications').where({ id: applicationId }).update({ status: 'formal_passed' });
  return applicationId;
}

/** Runs the real assignment of a review (`prepareReview`); returns its result and the experts given each item. */
async function assign(subjectKind: ReviewSubjectKind, subjectId: string, today: string) {
  const result: PrepareReviewResult = await activityEnv().run(() =>
    createReviewActivities(deps).prepareReview({ workflowId: `review-${subjectId}`, subjectKind, subjectId, today }),
  );
  const rows = await database
    .db('review_assignments')
    .where({ review_id: result.reviewId })
    .select<{ item_id: string; expert_id: string }[]>('item_id', 'expert_id');
  const byItem = new Map<string, string[]>();
  for (const r of rows) byItem.set(r.item_id, [...(byItem.get(r.item_id) ?? []), r.expert_id].sort());
  return { result, byItem };
}

describe('assignment avoids the experts of the submitted version, not of the working draft', () => {
  it('never assigns an expert the submitted version avoids, though the draft later names another instead', async () => {
    // Three experts per application; four in the pool: avoiding one leaves exactly the other three.
    await poolOf([
      { id: 'v1-x', name: '林晓峰' },
      { id: 'v1-y', name: '周文博' },
      { id: 'v1-o1', name: '可用专家甲' },
      { id: 'v1-o2', name: '可用专家乙' },
    ]);
    const id = await submittedThenChanged(2033, ['林晓峰'], ['周文博']);
    const version = await database
      .db('application_versions')
      .where({ application_id: id, version: 1 })
      .first<{ avoid_expert_ids: string[] }>();
    expect(version.avoid_expert_ids).toEqual(['v1-x']);

    const { result, byItem } = await assign('round', 'round-research_project-2033', '2033-05-10');
    expect(result.status).toBe('assigned');
    expect(byItem.get(id)).not.toContain('v1-x');
    // The draft's later name does not count: 周文博 is one of the three left, and reviews it.
    expect(byItem.get(id)).toEqual(['v1-o1', 'v1-o2', 'v1-y']);
  });

  it('may assign an expert only the later draft names: adding a name after submitting steers nothing', async () => {
    // Exactly three experts: the review can go ahead only if 林晓峰, whom the submitted version does not avoid, serves.
    await poolOf([
      { id: 'v2-x', name: '林晓峰' },
      { id: 'v2-o1', name: '可用专家丙' },
      { id: 'v2-o2', name: '可用专家丁' },
    ]);
    const id = await submittedThenChanged(2034, [], ['林晓峰']);
    const { result, byItem } = await assign('round', 'round-research_project-2034', '2034-05-10');
    expect(result.status, JSON.stringify(result)).toBe('assigned');
    expect(byItem.get(id)).toEqual(['v2-o1', 'v2-o2', 'v2-x']);
  });

  it("a rectification's re-review avoids the experts of the submitted version of the application behind its entry", async () => {
    // A directory member's review (demo_university: five experts per item); six in the pool.
    const others = ['甲', '乙', '丙', '丁'].map((n, i) => ({ id: `v3-o${i + 1}`, name: `整改专家${n}` }));
    await poolOf([{ id: 'v3-x', name: '林晓峰' }, { id: 'v3-y', name: '周文博' }, ...others]);
    const applicationId = await submittedThenChanged(2035, ['林晓峰'], ['周文博']);
    const [entry] = await database
      .db('directory_entries')
      .insert({
        programme: 'demo_university',
        institution_id: 'henu',
        application_id: applicationId,
        title_zh: '河南大学产教融合示范高校',
        status: 'rectifying',
        admitted_on: '2035-06-01',
        field_key: 'next_gen_it',
      })
      .returning<{ id: string }[]>('id');
    const [rectification] = await database
      .db('rectifications')
      .insert({
        directory_entry_id: entry!.id,
        started_on: '2036-03-01',
        due_at: new Date('2036-09-01T16:00:00Z'),
        report_payload: JSON.stringify({ summary: '整改报告' }),
        report_received_at: new Date('2036-08-20T02:00:00Z'),
        outcome: 'pending',
      })
      .returning<{ id: string }[]>('id');

    const { result, byItem } = await assign('rectification', rectification!.id, '2036-09-07');
    expect(result.status, JSON.stringify(result)).toBe('assigned');
    expect(byItem.get(rectification!.id)).not.toContain('v3-x');
    expect(byItem.get(rectification!.id)).toEqual(['v3-o1', 'v3-o2', 'v3-o3', 'v3-o4', 'v3-y']);
  });

  it('versions submitted before versions kept their list avoid what they themselves name (the migration)', async () => {
    const db = database.db;
    const applied: string[] = await db('knex_migrations').pluck('name');
    const has018 = (await migrationSource.getMigrations([])).includes('018_version_avoid_lists');
    if (has018 && applied.includes('018_version_avoid_lists')) {
      await db.migrate.down({ name: '018_version_avoid_lists' });
    }
    await poolOf([
      { id: 'v4-x', name: '林晓峰' },
      { id: 'v4-y', name: '周文博' },
      { id: 'v4-o1', name: '可用专家戊' },
      { id: 'v4-o2', name: '可用专家己' },
    ]);
    const roundId = 'round-research_project-2037';
    await insertRound(db, {
      id: roundId,
      programme: 'research_project',
      year: 2037,
      titleZh: '2037年度产教融合研究项目申报',
      opensAt: new Date('2037-03-01T01:00:00Z'),
      launchedBy: 'staff:test',
    });
    // As the code before the fix left them: one application unchanged since it submitted avoiding 林晓峰; one
    // that submitted avoiding 林晓峰 and then changed its draft (and the stored ids) to 周文博.
    const submitted = draft('迁移前提交', ['林晓峰']);
    const rows = [
      { title: '提交后未改', revision: 1, now: submitted, ids: ['v4-x'] },
      { title: '提交后改过', revision: 2, now: draft('迁移前提交', ['周文博']), ids: ['v4-y'] },
    ];
    const ids: string[] = [];
    for (const r of rows) {
      const [row] = await db('applications')
        .insert({
          round_id: roundId,
          institution_id: 'henu',
          status: 'formal_passed',
          title_zh: r.title,
          field_key: 'next_gen_it',
          draft: JSON.stringify(r.now),
          revision: r.revision,
          submitted_revision: 1,
          current_version: 1,
          avoid_expert_ids: r.ids,
          received_at: new Date('2037-04-01T02:00:00Z'),
        })
        .returning<{ id: string }[]>('id');
      ids.push(row!.id);
      await db('application_versions').insert({
        application_id: row!.id,
        version: 1,
        revision: 1,
        payload: JSON.stringify({ draft: submitted, attachments: [] }),
        received_at: new Date('2037-04-01T02:00:00Z'),
        submitted_by: 'applicant:henu',
      });
    }
    await migrateLatest(db);

    const kept = await db('application_versions')
      .whereIn('application_id', ids)
      .select<{ application_id: string; avoid_expert_ids: string[] | null }[]>('application_id', 'avoid_expert_ids');
    const keptOf = new Map(kept.map((k) => [k.application_id, k.avoid_expert_ids]));
    // Copied where the applications row still describes the version; unknown (NULL) where the draft moved on.
    expect([keptOf.get(ids[0]!), keptOf.get(ids[1]!)]).toEqual([['v4-x'], null]);
    const { result, byItem } = await assign('round', roundId, '2037-05-10');
    expect(result.status, JSON.stringify(result)).toBe('assigned');
    for (const id of ids) expect(byItem.get(id)).toEqual(['v4-o1', 'v4-o2', 'v4-y']);
  });
});
