import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staffAccessToken } from '../support/accounts.js';
import { startProductionApi } from '../support/another-api.js';
import { universityContacts } from '../support/expected.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/** The rules around the call, each as an applicant or officer meets it through the API. */
let stack: TestStack;
let staff: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'officer-wang' });
  for (const id of ['zzu', 'henu', 'hpu', 'zzu-cs']) tokens[id] = await stack.token({ role: 'applicant', id });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string; problems?: { rule: string; message: string }[] };

/** Launches a round and waits until it is scheduled, or open with every call notice sent. */
async function openRound(programme: string, year: number, extra: Record<string, unknown> = {}) {
  const res = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
    token: staff,
    body: { programme, year, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const roundId = res.body.roundId;
  await eventually(async () => {
    const r = await stack.request<{ workflow: { stage: string; noticesSent: number; eligibleInstitutions: number } }>(
      'GET',
      `/api/rounds/${roundId}`,
      { token: staff },
    );
    const w = r.body.workflow;
    return w?.stage === 'scheduled' || (w?.stage === 'call_open' && w.noticesSent === w.eligibleInstitutions)
      ? true
      : undefined;
  });
  return roundId;
}

async function newDraft(roundId: string, institution: string, body: Record<string, unknown> = { title: '测试项目' }) {
  return stack.request<{ applicationId: string } & Problem>('POST', `/api/rounds/${roundId}/applications`, {
    token: tokens[institution]!,
    body,
  });
}

const upload = (appId: string, token: string, contentType: string, body: Buffer, kind = 'application_form') =>
  fetch(`${stack.api.url}/api/applications/${appId}/attachments?kind=${kind}&fileName=${encodeURIComponent('材料')}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
    body,
  }).then(async (r) => ({
    status: r.status,
    type: r.headers.get('content-type'),
    body: (await r.json()) as Problem & { sha256: string },
  }));

/** A summary of 59 characters: above the formal check's minimum of 50. */
const SUMMARY =
  '面向新一代信息技术产业需求，校企共建课程体系与实践平台，联合培养应用型人才，建设期内形成可复制推广的产教融合育人模式。';

/** A draft that keeps every rule judged at submission (fields, summary, the 申报书 uploaded), ready to submit. */
async function completeDraft(roundId: string, institution: string, body: Record<string, unknown> = {}) {
  const app = await newDraft(roundId, institution, {
    title: '测试项目',
    field: 'next_gen_it',
    summary: SUMMARY,
    ...body,
  });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  const form = await upload(
    app.body.applicationId,
    tokens[institution]!,
    'application/pdf',
    Buffer.from('%PDF-1.4\n%%EOF'),
  );
  expect(form.status).toBe(201);
  return app;
}

describe('drafts and attachments', () => {
  let roundId: string;
  beforeAll(async () => {
    roundId = await openRound('research_project', 2028);
  });

  it('stores an attachment outside the database with its SHA-256, and serves it back', async () => {
    const app = await newDraft(roundId, 'zzu');
    const content = Buffer.from('%PDF-1.4\n测试\n%%EOF');
    const res = await upload(app.body.applicationId, tokens.zzu!, 'application/pdf', content);
    expect(res.status).toBe(201);
    const { createHash } = await import('node:crypto');
    expect(res.body.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    const back = await fetch(
      `${stack.api.url}/api/applications/${app.body.applicationId}/attachments/${(res.body as unknown as { attachmentId: string }).attachmentId}`,
      {
        headers: { Authorization: `Bearer ${tokens.zzu}` },
      },
    );
    expect(Buffer.from(await back.arrayBuffer()).equals(content)).toBe(true);
    expect(back.headers.get('content-disposition')).toContain("filename*=UTF-8''");
  });

  it.each([
    ['a type that is not allowed', 'text/plain', Buffer.from('hello'), 415, 'ATTACHMENT_TYPE_NOT_ALLOWED'],
    [
      'a PNG declared as PDF',
      'application/pdf',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]),
      415,
      'ATTACHMENT_TYPE_NOT_ALLOWED',
    ],
    [
      'a file over the size limit',
      'application/pdf',
      Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(6 * 1024 * 1024)]),
      413,
      'ATTACHMENT_TOO_LARGE',
    ],
    ['an empty file', 'application/pdf', Buffer.alloc(0), 422, 'VALIDATION_FAILED'],
  ])('refuses %s with a clear problem', async (_what, type, body, status, code) => {
    const app = await newDraft(roundId, 'zzu');
    const res = await upload(app.body.applicationId, tokens.zzu!, type, body);
    expect(res.status).toBe(status);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.code).toBe(code);
  });

  it.each([
    ['three experts to avoid', { avoidExperts: ['甲', '乙', '丙'] }, '申请回避的专家不得超过 2 名'],
    ['an unknown partner enterprise', { partnerEnterpriseIds: ['no-such-company'] }, '合作企业 no-such-company 不存在'],
    ['an empty partner enterprise', { partnerEnterpriseIds: [''] }, '请填写第 1 个合作企业'],
    ['an unknown field (industry)', { field: 'no_such_field' }, '所属领域 no_such_field 不存在'],
    ['an empty field (industry)', { field: '' }, '所属领域不能为空'],
    [
      "an unknown member's institution",
      { members: [{ staffNo: 'T1', name: '李明', institutionId: 'no-such-college' }] },
      '成员所在单位 no-such-college 不存在',
    ],
    [
      "an empty member's institution",
      { members: [{ staffNo: 'T1', name: '李明', institutionId: '' }] },
      '第 1 个项目成员的所在单位不能为空；与申报单位相同时请省略该项',
    ],
    ['an unknown field of the draft', { colour: 'red' }, '请求体中没有“colour”这一项，请删去'],
  ])('refuses a draft with %s (422)', async (_what, body, detail) => {
    const res = await newDraft(roundId, 'zzu', body);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.detail).toContain(detail);
  });

  it('keeps other institutions out of an application', async () => {
    const app = await newDraft(roundId, 'zzu');
    const res = await stack.request<Problem>('GET', `/api/applications/${app.body.applicationId}`, {
      token: tokens.henu,
    });
    expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('refuses an applicant the programme does not accept', async () => {
    const collegeRound = await openRound('demo_college', 2028);
    const res = await newDraft(collegeRound, 'zzu');
    expect([res.status, res.body.code]).toEqual([409, 'INSTITUTION_NOT_ELIGIBLE']);
  });
});

describe('limits and bars at submission', () => {
  let roundId: string;
  beforeAll(async () => {
    roundId = await openRound('practice_base', 2028, { rules: { limits: { perApplicant: 5, perUniversity: 5 } } });
  });

  it('refuses an institution under a 5-year bar, naming the reason and the day it ends', async () => {
    await stack.database.db('bans').insert({
      institution_id: 'hpu',
      programme: 'practice_base',
      reason: '弄虚作假被撤销认定',
      starts_on: '2025-06-01',
      ends_on: '2030-06-01',
      decided_by: 'staff:test',
    });
    const app = await newDraft(roundId, 'hpu');
    const res = await stack.request<Problem>('POST', `/api/applications/${app.body.applicationId}/submit`, {
      token: tokens.hpu,
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('BARRED');
    expect(res.body.detail).toContain('弄虚作假被撤销认定');
    expect(res.body.detail).toContain('2030年6月1日');
  });

  it('counts a university and its colleges together against the per-university limit', async () => {
    for (let i = 0; i < 4; i++) {
      const app = await completeDraft(roundId, 'zzu', { title: `郑大 ${i}` });
      expect(
        (await stack.request('POST', `/api/applications/${app.body.applicationId}/submit`, { token: tokens.zzu }))
          .status,
      ).toBe(200);
    }
    const college = await completeDraft(roundId, 'zzu-cs', { title: '学院 1' });
    expect(
      (
        await stack.request('POST', `/api/applications/${college.body.applicationId}/submit`, {
          token: tokens['zzu-cs'],
        })
      ).status,
    ).toBe(200);
    const sixth = await completeDraft(roundId, 'zzu-cs', { title: '学院 2' });
    const res = await stack.request<Problem>('POST', `/api/applications/${sixth.body.applicationId}/submit`, {
      token: tokens['zzu-cs'],
    });
    expect([res.status, res.body.code]).toEqual([409, 'LIMIT_EXCEEDED']);
    expect(res.body.detail).toContain('每校限报 5 项');
  });
});

describe('formal-check rules known at submission (形式审查)', () => {
  let roundId: string;
  beforeAll(async () => {
    roundId = await openRound('research_project', 2032, { rules: { limits: { perApplicant: 10, perUniversity: 20 } } });
  });

  it('refuses a summary under the minimum length at submission, naming each problem, and stores nothing', async () => {
    // As a new user would: a short summary and no 申报书 (issue 14, point 10: it used to be accepted with a
    // warning and fail the formal check after the deadline).
    const app = await newDraft(roundId, 'henu', {
      title: '产教融合协同育人研究',
      field: 'next_gen_it',
      summary: '简介过短',
      principal: { staffNo: 'T4001', name: '周教授' },
    });
    const id = app.body.applicationId;
    const res = await stack.request<Problem>('POST', `/api/applications/${id}/submit`, { token: tokens.henu });
    expect([res.status, res.body.code, res.body.title]).toEqual([
      422,
      'FORMAL_CHECK_FAILED',
      '申报材料不符合形式审查要求',
    ]);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.problems).toEqual([
      { rule: 'summary', message: '缺少项目简介或简介不足 50 字' },
      { rule: 'attachments', message: '缺少附件：申报书' },
    ]);
    expect(res.body.detail).toContain('缺少项目简介或简介不足 50 字；缺少附件：申报书');
    const stored = await stack.database
      .db('applications')
      .where({ id })
      .first<{ status: string; current_version: number }>('status', 'current_version');
    expect(stored).toEqual({ status: 'draft', current_version: 0 });
    expect(await stack.database.db('application_versions').where({ application_id: id }).first()).toBeUndefined();

    // Fixed, it is accepted; the warnings say which rules are judged only at the formal check after the deadline.
    await stack.request('PUT', `/api/applications/${id}`, {
      token: tokens.henu,
      body: {
        title: '产教融合协同育人研究',
        field: 'next_gen_it',
        summary: SUMMARY,
        principal: { staffNo: 'T4001', name: '周教授' },
      },
    });
    const form = await upload(id, tokens.henu!, 'application/pdf', Buffer.from('%PDF-1.4\n%%EOF'));
    expect(form.status).toBe(201);
    const ok = await stack.request<{ version: number; warnings: string[] }>('POST', `/api/applications/${id}/submit`, {
      token: tokens.henu,
    });
    expect([ok.status, ok.body.version]).toEqual([200, 1]);
    expect(ok.body.warnings).toContain(
      '截止后形式审查时按届时记录再行判定：附件在截止后核验时完好，与提交时的校验值一致',
    );

    // A later revision that breaks a rule is refused too, and the version on record stands.
    await stack.request('PUT', `/api/applications/${id}`, { token: tokens.henu, body: { title: '短' } });
    const again = await stack.request<Problem>('POST', `/api/applications/${id}/submit`, { token: tokens.henu });
    expect([again.status, again.body.code]).toEqual([422, 'FORMAL_CHECK_FAILED']);
    expect(again.body.problems!.map((p) => p.rule)).toEqual(['title', 'field', 'summary', 'principal']);
    expect(again.body.detail).toContain('此前提交的第 1 版仍然有效');
    expect(await stack.database.db('applications').where({ id }).first('status', 'current_version')).toEqual({
      status: 'submitted',
      current_version: 1,
    });
  });
});

describe('personal limits (research projects)', () => {
  it('refuses a second open project led by the same principal investigator', async () => {
    const roundId = await openRound('research_project', 2029, {
      rules: { limits: { perApplicant: 10, perUniversity: 20 } },
    });
    const principal = { staffNo: 'T1001', name: '李教授' };
    const first = await completeDraft(roundId, 'henu', { title: '产教融合研究项目一', principal });
    const accepted = await stack.request('POST', `/api/applications/${first.body.applicationId}/submit`, {
      token: tokens.henu,
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const second = await completeDraft(roundId, 'henu', { title: '产教融合研究项目二', principal });
    const res = await stack.request<Problem>('POST', `/api/applications/${second.body.applicationId}/submit`, {
      token: tokens.henu,
    });
    expect([res.status, res.body.code]).toEqual([409, 'PERSONAL_LIMIT_EXCEEDED']);
    expect(res.body.detail).toContain('李教授');
    // As a member of two more is allowed; a third is not.
    for (const [title, staffNo, name] of [
      ['产教融合研究项目三', 'T1003', '赵老师'],
      ['产教融合研究项目四', 'T1004', '钱老师'],
    ] as const) {
      const app = await completeDraft(roundId, 'henu', { title, principal: { staffNo, name }, members: [principal] });
      const res = await stack.request('POST', `/api/applications/${app.body.applicationId}/submit`, {
        token: tokens.henu,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const fifth = await completeDraft(roundId, 'henu', {
      title: '产教融合研究项目五',
      principal: { staffNo: 'T1005', name: '孙老师' },
      members: [principal],
    });
    const refused = await stack.request<Problem>('POST', `/api/applications/${fifth.body.applicationId}/submit`, {
      token: tokens.henu,
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'PERSONAL_LIMIT_EXCEEDED']);
  });

  it('counts the person, not the spelling or the unit: a principal of a university project cannot lead another through its college (issue 14, point 6)', async () => {
    const roundId = await openRound('research_project', 2033, {
      rules: { limits: { perApplicant: 10, perUniversity: 20 } },
    });
    const first = await completeDraft(roundId, 'zzu', {
      title: '学校的项目',
      principal: { staffNo: 'T4001', name: '钱教授' },
    });
    expect(
      (await stack.request('POST', `/api/applications/${first.body.applicationId}/submit`, { token: tokens.zzu }))
        .status,
    ).toBe(200);
    // The same 工号 (issued by 郑州大学), written another way, through one of its colleges.
    const second = await completeDraft(roundId, 'zzu-cs', {
      title: '学院的项目',
      principal: { staffNo: ' ｔ４００1 ', name: '钱教授' },
    });
    const refused = await stack.request<Problem>('POST', `/api/applications/${second.body.applicationId}/submit`, {
      token: tokens['zzu-cs'],
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'PERSONAL_LIMIT_EXCEEDED']);
    expect(refused.body.detail).toContain('钱教授 已主持 1 项');
  });

  it('counts an open research project (after 立项) against its principal until it is completed', async () => {
    const roundId = await openRound('research_project', 2031, {
      rules: { limits: { perApplicant: 10, perUniversity: 20 } },
    });
    const principal = { staffNo: 'T2002', name: '王研究员' };
    const first = await completeDraft(roundId, 'henu', { title: '已立项的项目', principal });
    expect(
      (await stack.request('POST', `/api/applications/${first.body.applicationId}/submit`, { token: tokens.henu }))
        .status,
    ).toBe(200);
    // 立项: the application is approved and becomes an open project.
    await stack.database.db('applications').where({ id: first.body.applicationId }).update({ status: 'approved' });
    const [project] = await stack.database
      .db('projects')
      .insert({
        application_id: first.body.applicationId,
        institution_id: 'henu',
        title_zh: '已立项的项目',
        status: 'active',
        starts_on: '2031-09-01',
        ends_on: '2033-09-01',
        programme: 'research_project',
      })
      .returning<{ id: string }[]>('id');
    const second = await completeDraft(roundId, 'henu', { title: '新的申报', principal });
    const refused = await stack.request<Problem>('POST', `/api/applications/${second.body.applicationId}/submit`, {
      token: tokens.henu,
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'PERSONAL_LIMIT_EXCEEDED']);
    expect(refused.body.detail).toContain('王研究员');
    // 结项: the project no longer counts.
    await stack.database.db('projects').where({ id: project!.id }).update({ status: 'completed' });
    expect(
      (await stack.request('POST', `/api/applications/${second.body.applicationId}/submit`, { token: tokens.henu }))
        .status,
    ).toBe(200);
  });
});

describe('the round itself', () => {
  it('refuses a submission before the call opens, with the opening time', async () => {
    const roundId = await openRound('teacher_station', 2030, { opensAt: '2030-09-02T09:00:00+08:00' });
    const app = await newDraft(roundId, 'zzu');
    const res = await stack.request<Problem>('POST', `/api/applications/${app.body.applicationId}/submit`, {
      token: tokens.zzu,
    });
    expect([res.status, res.body.code]).toEqual([409, 'CALL_NOT_OPEN']);
    expect(res.body.detail).toContain('2030年9月2日 09:00');
  });

  it('extends only to a later deadline (else 422), and tells everyone eligible', async () => {
    const roundId = await openRound('alliance', 2028);
    const current = await stack.request<{ deadline: { day: string } }>('GET', `/api/rounds/${roundId}`, {
      token: staff,
    });
    const earlier = await stack.request<Problem>('PUT', `/api/rounds/${roundId}/deadline`, {
      token: staff,
      body: { deadline: current.body.deadline.day, reason: '测试' },
    });
    expect([earlier.status, earlier.body.code]).toEqual([422, 'DEADLINE_NOT_LATER']);
    const noReason = await stack.request<Problem>('PUT', `/api/rounds/${roundId}/deadline`, {
      token: staff,
      body: { deadline: '2027-01-29' },
    });
    expect([noReason.status, noReason.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    await stack.clearMailbox();
    const later = await stack.request<{ deadline: { day: string } }>('PUT', `/api/rounds/${roundId}/deadline`, {
      token: staff,
      body: { deadline: '2027-01-29', reason: '部分高校反映材料准备时间不足' },
    });
    expect(later.status).toBe(200);
    expect(later.body.deadline.day).toBe('2027-01-29');
    // The opening's call notices go out on their own and may still arrive after the clear (a loaded machine):
    // count the extension's notices by their purpose.
    const told = await eventually(
      async () => {
        const extended = (await stack.mailbox.list()).filter((e) => e.purpose === 'deadline_extended');
        return extended.length >= universityContacts().length ? extended : undefined;
      },
      { what: 'the extension notices' },
    );
    expect(recipientPurposePairs(told)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'deadline_extended' }))),
    );
    expect(told[0]!.text).toContain('部分高校反映材料准备时间不足');
    // The extension was crashed once after its commit (the default fault): recorded once, announced once.
    expect(stack.crashedDecisions.applyExtension).toBe(1);
    const extensions = await stack.database
      .db('audit_events')
      .where({ subject_id: roundId, action: 'round.extend_deadline' })
      .count<{ n: number }[]>('* as n');
    expect(extensions).toEqual([{ n: 1 }]);
  });

  it('refuses an extension once the call has closed (409 CALL_CLOSED)', async () => {
    // Not openRound: at this time scale the call may close before a poll sees it open.
    const launched = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'brand_project', year: 2028, timeScale: 5_000_000 },
    });
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    const roundId = launched.body.roundId;
    await stack.client.workflow.getHandle(roundId).result();
    const res = await stack.request<Problem>('PUT', `/api/rounds/${roundId}/deadline`, {
      token: staff,
      body: { deadline: '2027-06-30', reason: '太晚了' },
    });
    expect([res.status, res.body.code]).toEqual([409, 'CALL_CLOSED']);
  });

  it('cancels a round launched by mistake (reason required), tells everyone, and allows a correct relaunch', async () => {
    const roundId = await openRound('demo_university', 2028);
    const app = await newDraft(roundId, 'henu');
    const noReason = await stack.request<Problem>('POST', `/api/rounds/${roundId}/cancel`, { token: staff, body: {} });
    expect([noReason.status, noReason.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    await stack.clearMailbox();
    const cancelled = await stack.request('POST', `/api/rounds/${roundId}/cancel`, {
      token: staff,
      body: { reason: '年度填写错误，误启动' },
    });
    expect(cancelled.status).toBe(200);
    const told = await stack.mailbox.waitForCount(universityContacts().length);
    expect(recipientPurposePairs(told)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'round_cancelled' }))),
    );
    const late = await stack.request<Problem>('POST', `/api/applications/${app.body.applicationId}/submit`, {
      token: tokens.henu,
    });
    expect([late.status, late.body.code]).toEqual([409, expect.stringMatching(/ROUND_CANCELLED|CALL_CLOSED/)]);
    await stack.client.workflow.getHandle(roundId).result();
    const again = await stack.request('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'demo_university', year: 2028 },
    });
    expect(again.status).toBe(201);
    const audit = await stack.database
      .db('audit_events')
      .where({ subject_id: roundId })
      .whereIn('action', ['round.cancel', 'round.launch'])
      .orderBy('id');
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['round.launch', 'round.cancel', 'round.launch']);
    // The cancellation was crashed once after its commit (the default fault): recorded once, announced once.
    expect(stack.crashedDecisions.recordCancellation).toBe(1);
    expect(audit[1]).toMatchObject({ reason: '年度填写错误，误启动', role: 'staff', actor: 'staff:officer-wang' });
  });

  it('refuses compressed time in production mode', async () => {
    const { api } = await startProductionApi(stack);
    try {
      // Production refuses development tokens: a staff account's personal access token.
      const { token } = await staffAccessToken(stack.database.db, { email: 'prod.officer@ronghe.example' });
      const res = await fetch(`${api.url}/api/rounds`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ programme: 'research_project', year: 2029, timeScale: 1000 }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as Problem).code).toBe('COMPRESSED_TIME_FORBIDDEN');
    } finally {
      await api.close();
    }
  });
});

describe('estimated deadlines and the official arrangement', () => {
  it('when staff enter the official arrangement, open rounds recompute: a later deadline is adopted and announced, an earlier one never', async () => {
    const later = await openRound('demo_university', 2030, {
      opensAt: '2030-09-23T09:00:00+08:00',
      rules: { callWorkingDays: 10 },
    });
    const earlier = await openRound('demo_college', 2030, {
      opensAt: '2030-01-28T09:00:00+08:00',
      rules: { callWorkingDays: 10 },
    });
    const deadlineOf = async (id: string) =>
      (
        await stack.request<{ deadline: { day: string; estimated: boolean } }>('GET', `/api/rounds/${id}`, {
          token: staff,
        })
      ).body.deadline;
    // The statutory estimate: 国庆 10-01..10-03 only; 春节 02-02..02-05 with weekday substitutes 02-06, 02-07.
    expect(await deadlineOf(later)).toEqual(expect.objectContaining({ day: '2030-10-09', estimated: true }));
    expect(await deadlineOf(earlier)).toEqual(expect.objectContaining({ day: '2030-02-14', estimated: true }));

    await stack.clearMailbox();
    const arrangement = (reference: string, nationalDays: string[]) => ({
      reference,
      holidays: [
        { date: '2030-01-01', name: '元旦' },
        ...['2030-02-02', '2030-02-03', '2030-02-04', '2030-02-05', '2030-02-06'].map((date) => ({
          date,
          name: '春节',
        })),
        ...nationalDays.map((date) => ({ date, name: '国庆节' })),
      ],
      workdays: [],
    });
    const nationalDays = [
      '2030-10-01',
      '2030-10-02',
      '2030-10-03',
      '2030-10-04',
      '2030-10-05',
      '2030-10-06',
      '2030-10-07',
    ];
    const put = await stack.request<{ roundsNotified: number }>('PUT', '/api/calendar/years/2030', {
      token: staff,
      body: arrangement('国务院办公厅关于2030年部分节假日安排的通知（测试录入）', nationalDays),
    });
    expect(put.status).toBe(200);
    expect(put.body.roundsNotified).toBeGreaterThanOrEqual(2);

    // 国庆 now runs to 10-07: the deadline moves later and everyone eligible is told.
    await eventually(async () => ((await deadlineOf(later)).day === '2030-10-11' ? true : undefined));
    expect(await deadlineOf(later)).toEqual(expect.objectContaining({ estimated: false }));
    const told = await stack.mailbox.waitForCount(universityContacts().length);
    expect(recipientPurposePairs(told)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'deadline_changed' }))),
    );
    // Issue 14, point 13: the notice says why, and that the old date was an estimate.
    expect(told[0]!.text).toContain('由 2030年10月9日 24:00（预计） 调整为 2030年10月11日 24:00。');
    expect(told[0]!.text).toContain('调整原因：国务院办公厅公布了当年节假日安排');

    // Staff correct the official arrangement (国庆 to 10-08): the deadline moves again; the old date was official.
    await stack.clearMailbox();
    const corrected = await stack.request('PUT', '/api/calendar/years/2030', {
      token: staff,
      body: arrangement('国务院办公厅关于2030年部分节假日安排的通知（更正）', [...nationalDays, '2030-10-08']),
    });
    expect(corrected.status).toBe(200);
    await eventually(async () => ((await deadlineOf(later)).day === '2030-10-14' ? true : undefined));
    const retold = await stack.mailbox.waitForCount(universityContacts().length);
    expect(recipientPurposePairs(retold)).toEqual(
      recipientPurposePairs(universityContacts().map((to) => ({ to, purpose: 'deadline_changed' }))),
    );
    expect(retold[0]!.text).toContain('由 2030年10月11日 24:00 调整为 2030年10月14日 24:00。');
    expect(retold[0]!.text).toContain('调整原因：工作人员更正了已录入的节假日安排');
    expect(retold[0]!.text).not.toContain('预计');
    // Without the substitute days the official count ends on 02-13, before the announced 02-14: it stays.
    await eventually(async () => ((await deadlineOf(earlier)).estimated === false ? true : undefined));
    expect((await deadlineOf(earlier)).day).toBe('2030-02-14');
  });
});

describe('Idempotency-Key', () => {
  const keyed = (method: string, path: string, token: string, key: string, body: string) =>
    fetch(`${stack.api.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body,
    }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      body: (await r.json()) as Problem & Record<string, string>,
    }));

  it('runs concurrent duplicates once: one draft, the others replayed or told to wait (409 IDEMPOTENCY_KEY_IN_USE)', async () => {
    const roundId = await openRound('alliance', 2029);
    const path = `/api/rounds/${roundId}/applications`;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => keyed('POST', path, tokens.zzu!, 'draft-concurrent-1', '{"title":"并发草稿"}')),
    );
    const created = answers.filter((a) => a.status === 201);
    const waiting = answers.filter((a) => a.status === 409);
    expect(created.length + waiting.length).toBe(4);
    expect(new Set(created.map((a) => a.body.applicationId)).size).toBe(1);
    for (const w of waiting) {
      expect(w.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      expect(w.headers.get('retry-after')).toBe('5');
    }
    const drafts = await stack.database.db('applications').where({ round_id: roundId, title_zh: '并发草稿' });
    expect(drafts).toHaveLength(1);
    // Once answered, every retry is the first answer, whatever the order of the body's fields.
    const again = await keyed('POST', path, tokens.zzu!, 'draft-concurrent-1', '{ "title" : "并发草稿" }');
    expect([again.status, again.body.applicationId, again.headers.get('idempotent-replayed')]).toEqual([
      201,
      created[0]!.body.applicationId,
      'true',
    ]);
  });

  it('replays a launch with its Location header, and takes the same fields in another order, or the path spelt otherwise, as the same request', async () => {
    const first = await keyed(
      'POST',
      '/api/rounds',
      staff,
      'launch-2029-college',
      '{"programme":"demo_college","year":2029}',
    );
    expect(first.status).toBe(201);
    const reordered = await keyed(
      'POST',
      '/api/rounds',
      staff,
      'launch-2029-college',
      '{"year":2029,"programme":"demo_college"}',
    );
    expect([reordered.status, reordered.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(reordered.body).toEqual(first.body);
    expect(reordered.headers.get('location')).toBe(first.headers.get('location'));
    // The same route spelt as Express also serves it (a trailing slash, another case) is the same request.
    for (const spelling of ['/api/rounds/', '/API/Rounds']) {
      const same = await keyed(
        'POST',
        spelling,
        staff,
        'launch-2029-college',
        '{"programme":"demo_college","year":2029}',
      );
      expect([same.status, same.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    }
  });

  it('answers an Update a workflow does not take with 409 UPDATE_NOT_SUPPORTED, not a 503 to retry forever', async () => {
    const res = await keyed('POST', '/api/workflows/outbox-sweeper/retry-child', staff, 'retry-sweeper', '{}');
    expect([res.status, res.body.code]).toEqual([409, 'UPDATE_NOT_SUPPORTED']);
  });
});
