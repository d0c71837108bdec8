import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collegeEmail, universities, universityEmail } from '../../db/seeds/reference-data.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * A whole yearly round end to end on the dev server with compressed time (real Temporal, PostgreSQL,
 * maildev), procedures 1–3: 30 applications from 12 institutions (an extension, one over its limit, one late,
 * one withdrawn, one resubmitted, two failing the formal check); the 27 that passed reviewed by a pool of 15
 * experts with declared conflicts (one declines and is replaced); staff confirm the shortlist within the quota
 * with one adjustment; the list is publicised, one objection is upheld (递补, re-publicity) and one dismissed;
 * 认定 creates the directory entries. The call's working days pass in about half a minute, the review's and
 * each publicity's in about ten seconds.
 */
const ROUND = 'round-brand_project-2027';
const SCALE = 100_000;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** How many applications each institution hands in (12 institutions, 30 applications). */
const plan: Record<string, number> = {
  zzu: 3,
  henu: 3,
  hpu: 3,
  haust: 3,
  henau: 2,
  htu: 2,
  'zzu-cs': 3,
  'hpu-energy': 2,
  'haust-vehicle': 2,
  'ncwu-elec': 3,
  'zzuli-food': 2,
  'xynu-cs': 2,
};

function contactOf(id: string): string {
  const [university, suffix] = id.split('-');
  return suffix ? collegeEmail(university!, id.slice(university!.length + 1)) : universityEmail(id);
}

function draft(institution: string, n: number) {
  return {
    title: `${institution} 产教融合品牌项目 ${n}`,
    field: 'next_gen_it',
    summary:
      '面向新一代信息技术产业需求，校企共建课程体系与实践平台，联合培养应用型人才，建设期内形成可复制推广的产教融合品牌，并在省内同类高校推广应用。',
    partnerEnterpriseIds: ['xfusion'],
  };
}

const pdf = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n');

/** 15 experts of the field: nine from universities with no application here, six from industry. */
const pool = [
  ...['xxmu', 'lynu', 'nyist', 'ayit', 'huanghuai', 'xcu', 'pdsu', 'hist', 'haue'].map((u, i) => ({
    id: `p-${String(i + 1).padStart(2, '0')}`,
    name_zh: `评审专家${i + 1}`,
    email: `p-${String(i + 1).padStart(2, '0')}@pool.ronghe.example`,
    institution_id: u,
    enterprise_id: null,
  })),
  ...['newcapec', 'hanwei', 'yutong', 'zmj', 'crtg', 'muyuan'].map((e, i) => ({
    id: `p-${String(i + 10).padStart(2, '0')}`,
    name_zh: `评审专家${i + 10}`,
    email: `p-${String(i + 10).padStart(2, '0')}@pool.ronghe.example`,
    institution_id: null,
    enterprise_id: e,
  })),
];

/** Scores that rank applications by their number in the plan (deterministic, a spread of a few points). */
function sheet(rubric: { key: string }[], base: number) {
  return Object.fromEntries(rubric.map((c, i) => [c.key, Math.min(100, base + i)]));
}

describe('a yearly round from launch to 认定, end to end with compressed time', () => {
  it('takes 30 applications from 12 institutions from launch to 认定 — extension, a limit, a late submission, a withdrawal, a resubmission, the formal check, review with a decline replaced, the confirmed shortlist, an upheld objection (递补 and re-publicity) and a dismissed one; mails exactly the expected list and audits every decision', async () => {
    const staff = await stack.token({ role: 'staff', id: 'officer-li' });
    // The review pool for this round: 15 experts of the field, three with declared conflicts.
    await stack.database.db('experts').update({ active: false });
    await stack.database.db('experts').insert(
      pool.map((e) => ({
        ...e,
        affiliation_kind: e.institution_id ? 'academic' : 'industry',
        title_zh: '教授',
        fields: ['next_gen_it'],
      })),
    );
    await stack.database.db('expert_conflicts').insert([
      { expert_id: 'p-01', institution_id: 'henu', reason: '曾任该校兼职教授', source: 'declared' },
      { expert_id: 'p-02', institution_id: 'zzu', reason: '近三年与该校合作科研项目', source: 'declared' },
      { expert_id: 'p-11', enterprise_id: 'xfusion', reason: '曾任职于该企业', source: 'declared' },
    ]);
    const launchedAt = Date.now();
    const launch = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: {
        programme: 'brand_project',
        year: 2027,
        timeScale: SCALE,
        rules: { limits: { perApplicant: 3, perUniversity: 6 }, quota: 20, publicityWorkingDays: 10 },
      },
    });
    expect(launch.status).toBe(201);

    // Staff extend the call by a week at once; everyone eligible is told, and the reminders follow.
    const opened = await eventually(async () => {
      const r = await stack.request<{ deadline: { day: string } | null }>('GET', `/api/rounds/${ROUND}`, {
        token: staff,
      });
      return r.body.deadline ?? undefined;
    });
    const later = new Date(Date.parse(`${opened.day}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10);
    const extension = await stack.request<{ deadline: { day: string } }>('PUT', `/api/rounds/${ROUND}/deadline`, {
      token: staff,
      body: { deadline: later, reason: '应多所高校请求，延长一周' },
    });
    expect(extension.status, JSON.stringify(extension.body)).toBe(200);
    expect(extension.body.deadline.day).toBe(later);

    const tokens = Object.fromEntries(
      await Promise.all(
        Object.keys(plan).map(async (id) => [id, await stack.token({ role: 'applicant', id })] as const),
      ),
    );
    const ids: Record<string, string[]> = {};
    await Promise.all(
      Object.entries(plan).map(async ([institution, count]) => {
        ids[institution] = [];
        for (let n = 1; n <= count + (institution === 'henu' ? 1 : 0); n++) {
          const body = draft(institution, n);
          // Two will fail the formal check: one without its 申报书, one with a summary too short.
          if (institution === 'ncwu-elec' && n === 3) body.summary = '简介过短';
          const created = await stack.request<{ applicationId: string }>('POST', `/api/rounds/${ROUND}/applications`, {
            token: tokens[institution],
            body,
          });
          expect(created.status, JSON.stringify(created.body)).toBe(201);
          const appId = created.body.applicationId;
          if (!(institution === 'henau' && n === 2)) {
            const upload = await fetch(
              `${stack.api.url}/api/applications/${appId}/attachments?kind=application_form&fileName=${encodeURIComponent('申报书.pdf')}`,
              {
                method: 'POST',
                headers: { Authorization: `Bearer ${tokens[institution]}`, 'Content-Type': 'application/pdf' },
                body: pdf,
              },
            );
            expect(upload.status).toBe(201);
          }
          ids[institution].push(appId);
        }
      }),
    );

    // The call opens at once; submissions are judged by the workflow against its deadline.
    await eventually(async () => {
      const r = await stack.request<{ workflow: { stage: string } }>('GET', `/api/rounds/${ROUND}`, { token: staff });
      return r.body.workflow?.stage === 'call_open' ? true : undefined;
    });
    const submit = (institution: string, appId: string) =>
      stack.request<{ version: number; warnings: string[]; code?: string; title?: string }>(
        'POST',
        `/api/applications/${appId}/submit`,
        {
          token: tokens[institution],
        },
      );
    for (const [institution, count] of Object.entries(plan)) {
      for (let n = 0; n < count; n++) {
        const res = await submit(institution, ids[institution]![n]!);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
    const over = await submit('henu', ids.henu![3]!);
    expect(over.status).toBe(409);
    expect(over.contentType).toContain('application/problem+json');
    expect(over.body).toMatchObject({ code: 'LIMIT_EXCEEDED', title: '超出限报数量' });

    // A resubmission replaces the earlier version and keeps it; a withdrawal needs no reason but may give one.
    const edited = await stack.request('PUT', `/api/applications/${ids.zzu![0]}`, {
      token: tokens.zzu,
      body: { ...draft('zzu', 1), title: 'zzu 产教融合品牌项目 1（修订）' },
    });
    expect(edited.status).toBe(200);
    const resubmitted = await submit('zzu', ids.zzu![0]!);
    expect(resubmitted.body.version).toBe(2);
    const withdrawn = await stack.request('POST', `/api/applications/${ids.htu![1]}/withdraw`, {
      token: tokens.htu,
      body: { reason: '与学校另一项目内容重复' },
    });
    expect(withdrawn.status).toBe(200);
    const submissionsDoneAt = Date.now();

    const round = await stack.request<{ workflow: { upcomingReminders: { at: string }[] } }>(
      'GET',
      `/api/rounds/${ROUND}`,
      { token: staff },
    );
    const firstReminder = Date.parse(round.body.workflow.upcomingReminders[0]!.at);
    // Every submission was in before the first reminder fell due (else the expected list below would not hold).
    expect(submissionsDoneAt).toBeLessThan(launchedAt + (firstReminder - launchedAt) / SCALE);

    // The call closes, the formal check runs, and the round hands the 27 passing applications to review.
    const round2 = async () =>
      (await stack.request<{ workflow: { stage: string } }>('GET', `/api/rounds/${ROUND}`, { token: staff })).body
        .workflow;
    await eventually(async () => ((await round2()).stage === 'review' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the review stage',
    });
    // Too late now: a 409 that says why.
    const late = await submit('henu', ids.henu![3]!);
    expect([late.status, late.body.code]).toEqual([409, 'DEADLINE_PASSED']);
    const assignmentsOf = async (expertId: string) => {
      const token = await stack.token({ role: 'expert', id: expertId });
      const res = await stack.request<{ items: { assignmentId: string; applicationId: string; status: string }[] }>(
        'GET',
        '/api/me/assignments',
        { token },
      );
      return { token, items: res.body.items };
    };
    await eventually(
      async () => {
        const n = (await stack.database.db('review_assignments').count<{ n: number }[]>('* as n'))[0]!.n;
        return Number(n) === 81 ? true : undefined;
      },
      { what: '81 assignments' },
    );
    const assignments = await stack.database
      .db('review_assignments')
      .select<{ id: string; item_id: string; expert_id: string }[]>('id', 'item_id', 'expert_id');
    const loads = new Map<string, number>();
    for (const a of assignments) loads.set(a.expert_id, (loads.get(a.expert_id) ?? 0) + 1);
    // 回避 held (own institution, its university, partner enterprise, declared conflicts) and the load is balanced.
    const appInstitution = new Map<string, string>();
    for (const [institution, list] of Object.entries(ids)) for (const id of list) appInstitution.set(id, institution);
    for (const a of assignments) {
      const inst = appInstitution.get(a.item_id)!;
      if (a.expert_id === 'p-01') expect(inst === 'henu' || inst.startsWith('henu-')).toBe(false);
      if (a.expert_id === 'p-02') expect(inst === 'zzu' || inst.startsWith('zzu-')).toBe(false);
      expect(a.expert_id).not.toBe('p-11');
    }
    expect(Math.max(...loads.values())).toBeLessThanOrEqual(Math.ceil(81 / 15) + 1);

    // Misuse gets problem+json with a zh-CN title.
    const mine = await assignmentsOf('p-03');
    const theirs = assignments.find((a) => a.expert_id !== 'p-03')!;
    const rubricRes = await stack.request<{ rubric: { key: string }[] }>(
      'GET',
      `/api/assignments/${mine.items[0]!.assignmentId}`,
      { token: mine.token },
    );
    const rubric = rubricRes.body.rubric;
    const notMine = await stack.request<{ code: string; title: string }>(
      'PUT',
      `/api/assignments/${theirs.id}/review`,
      {
        token: mine.token,
        body: { scores: sheet(rubric, 80) },
      },
    );
    expect([notMine.status, notMine.body.code, notMine.body.title]).toEqual([403, 'FORBIDDEN', '无权执行此操作']);
    for (const bad of ['NaN', '1e309', '-1', '101', '"80"']) {
      const raw = `{"scores":{${rubric.map((c, i) => `"${c.key}":${i === 0 ? bad : 80}`).join(',')}}}`;
      const res = await stack.request<{ code: string; title: string }>(
        'PUT',
        `/api/assignments/${mine.items[0]!.assignmentId}/review`,
        { token: mine.token, raw },
      );
      expect(
        [res.status, res.contentType?.includes('application/problem+json'), res.body.code, res.body.title],
        bad,
      ).toEqual([422, true, 'VALIDATION_FAILED', '请求内容不符合要求']);
    }
    const expertOnStaffRoute = await stack.request<{ code: string; title: string }>(
      'GET',
      `/api/rounds/${ROUND}/shortlist`,
      { token: mine.token },
    );
    expect([expertOnStaffRoute.status, expertOnStaffRoute.body.code]).toEqual([403, 'FORBIDDEN']);

    // p-04 declines one assignment, declaring a conflict: it is replaced once and recorded for the future.
    const decliner = await assignmentsOf('p-04');
    const declined = decliner.items[0]!;
    const decline = await stack.request('POST', `/api/assignments/${declined.assignmentId}/decline`, {
      token: decliner.token,
      body: { reason: '与该申报团队有合作关系', conflict: true },
    });
    expect(decline.status).toBe(200);
    const replacement = await eventually(
      async () =>
        (await stack.database
          .db('review_assignments')
          .where({ replaces_assignment_id: declined.assignmentId })
          .first<{ expert_id: string } | undefined>('expert_id')) ?? undefined,
      { what: 'the replacement' },
    );
    expect(replacement.expert_id).not.toBe('p-04');
    const conflicts = await stack.database.db('expert_conflicts').where({ expert_id: 'p-04', source: 'decline' });
    expect(conflicts).toHaveLength(1);

    // Every expert scores every open assignment; the better the application's number in the plan, the higher.
    const rankOf = (applicationId: string) => {
      const [institution, list] = Object.entries(ids).find(([, l]) => l.includes(applicationId))!;
      return Object.keys(plan).indexOf(institution) * 3 + list.indexOf(applicationId);
    };
    let submitted = 0;
    for (const expert of pool) {
      const { token, items } = await assignmentsOf(expert.id);
      for (const item of items.filter((i) => i.status !== 'declined')) {
        const res = await stack.request('PUT', `/api/assignments/${item.assignmentId}/review`, {
          token,
          body: { scores: sheet(rubric, 95 - rankOf(item.applicationId)), comment: '材料完整，特色鲜明。' },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        submitted += 1;
      }
    }
    expect(submitted).toBe(81);

    // The review ends after its due dates; staff receive the ranking and confirm it with one adjustment.
    await eventually(async () => ((await round2()).stage === 'shortlist_pending' ? true : undefined), {
      timeoutMs: 90_000,
      what: 'the shortlist',
    });
    const list = await stack.request<{
      items: {
        applicationId: string;
        title: string;
        rank: number;
        recommended: boolean;
        validScores: number;
        flags: string[];
      }[];
    }>('GET', `/api/rounds/${ROUND}/shortlist`, { token: staff });
    expect(list.body.items).toHaveLength(27);
    expect(list.body.items.every((i) => i.validScores === 3 && i.flags.length === 0)).toBe(true);
    // The round's quota is 20: the top 20 are recommended; staff exclude the 20th with a reason.
    expect(list.body.items.map((i) => i.recommended)).toEqual([...Array(20).fill(true), ...Array(7).fill(false)]);
    const excluded = list.body.items[19]!.applicationId;
    const confirm = await stack.request<{ shortlisted: number }>('POST', `/api/rounds/${ROUND}/shortlist/confirm`, {
      token: staff,
      body: { adjustments: [{ applicationId: excluded, include: false, reason: '该项目与已认定品牌项目内容重复' }] },
    });
    expect(confirm.status).toBe(200);
    expect(confirm.body.shortlisted).toBe(19);
    const again = await stack.request<{ code: string }>('POST', `/api/rounds/${ROUND}/shortlist/confirm`, {
      token: staff,
      body: {},
    });
    expect([again.status, again.body.code]).toEqual([409, 'SHORTLIST_CONFIRMED']);

    // Publicity: 10 working days. Two real-name objections: one upheld (递补 and re-publicity), one dismissed.
    const periods = async () =>
      (
        await stack.request<{ items: { publicityId: string; status: string; parentId: string | null }[] }>(
          'GET',
          `/api/rounds/${ROUND}/publicity`,
        )
      ).body.items;
    const first = await eventually(async () => (await periods()).find((p) => p.parentId === null));
    const published = await stack.request<{
      entries: { entryId: string; title: string; rank: number }[];
      status: string;
    }>('GET', `/api/publicity/${first.publicityId}`);
    expect(published.body.entries).toHaveLength(19);
    expect(published.body.entries.map((e) => e.rank)).toEqual(list.body.items.slice(0, 19).map((i) => i.rank));
    const objector = { unit: '河南某职业技术学院', phone: '0371-66668888', onBehalfOfUnit: false };
    const anonymous = await stack.request<{ code: string; title: string }>(
      'POST',
      `/api/publicity/${first.publicityId}/objections`,
      {
        body: { entryId: published.body.entries[4]!.entryId, facts: '匿名举报：该项目材料存在问题。' },
      },
    );
    expect([anonymous.status, anonymous.body.code, anonymous.body.title]).toEqual([
      422,
      'REAL_NAME_REQUIRED',
      '异议须实名提出',
    ]);
    const fileOne = (body: unknown, key: string) =>
      fetch(`${stack.api.url}/api/publicity/${first.publicityId}/objections`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { objectionId: string } }));
    const upheldBody = {
      ...objector,
      name: '张明',
      email: 'zhang.ming@objector.example',
      entryId: published.body.entries[4]!.entryId,
      facts: '该项目申报材料中的合作企业协议与实际不符，合作企业已于去年注销。',
      evidence: ['企业信用信息公示系统查询结果截图'],
    };
    const filed = await fileOne(upheldBody, 'objection-zhang-1');
    expect(filed.status).toBe(201);
    const retried = await fileOne(upheldBody, 'objection-zhang-1');
    expect([retried.status, retried.body.objectionId]).toEqual([200, filed.body.objectionId]);
    const other = await fileOne(
      {
        ...objector,
        name: '李红',
        email: 'li.hong@objector.example',
        onBehalfOfUnit: true,
        entryId: published.body.entries[2]!.entryId,
        facts: '该项目的建设成效数据疑似夸大，请核实。',
      },
      'objection-li-1',
    );
    expect(other.status).toBe(201);
    const upheld = await stack.request<{ removedApplicationId: string; substituteApplicationId: string }>(
      'POST',
      `/api/objections/${filed.body.objectionId}/resolution`,
      { token: staff, body: { outcome: 'upheld', reason: '经核查，合作企业已注销，申报材料与事实不符' } },
    );
    expect(upheld.status, JSON.stringify(upheld.body)).toBe(200);
    const removed = list.body.items[4]!.applicationId;
    // 递补: the best-ranked candidate below the line that staff did not exclude — the 21st.
    const substitute = list.body.items[20]!.applicationId;
    expect(upheld.body).toMatchObject({ removedApplicationId: removed, substituteApplicationId: substitute });
    const dismissed = await stack.request('POST', `/api/objections/${other.body.objectionId}/resolution`, {
      token: staff,
      body: { outcome: 'dismissed', reason: '经核查，建设成效数据有佐证材料支撑' },
    });
    expect(dismissed.status).toBe(200);
    const twice = await stack.request<{ code: string }>(
      'POST',
      `/api/objections/${other.body.objectionId}/resolution`,
      {
        token: staff,
        body: { outcome: 'upheld', reason: '再次处理' },
      },
    );
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_RESOLVED']);

    // The substitution is publicised again for a full period; then the result is final (认定).
    const final = await stack.client.workflow.getHandle(ROUND).result();
    expect(final).toMatchObject({
      stage: 'approved',
      formalCheck: { passed: 27, failed: 2 },
      review: { items: 27, recommended: 20, underReviewed: 0 },
      publicity: { periods: 2, objections: 2, upheld: 1, dismissed: 1 },
      approved: 19,
    });
    const second = (await periods()).find((p) => p.parentId === first.publicityId)!;
    const republished = await stack.request<{ entries: { title: string }[]; workingDays: number }>(
      'GET',
      `/api/publicity/${second.publicityId}`,
    );
    expect(republished.body.workingDays).toBe(10);
    expect(republished.body.entries.map((e) => e.title)).toEqual([list.body.items[20]!.title]);
    const outcome = await stack.request<{ approved: { applicationId: string; directoryEntryId: string | null }[] }>(
      'GET',
      `/api/rounds/${ROUND}/outcome`,
    );
    expect(outcome.body.approved).toHaveLength(19);
    expect(outcome.body.approved.map((a) => a.applicationId)).toContain(substitute);
    expect(outcome.body.approved.map((a) => a.applicationId)).not.toContain(removed);
    expect(outcome.body.approved.every((a) => a.directoryEntryId)).toBe(true);
    const directory = await stack.database
      .db('directory_entries')
      .where({ programme: 'brand_project', status: 'active' });
    expect(directory).toHaveLength(19);
    // Each entry lives on as its member workflow, which keeps the row in step.
    const listedMembers = await stack.request<{ total: number; items: { entryId: string; status: string }[] }>(
      'GET',
      '/api/directory?programme=brand_project&status=active',
    );
    expect(listedMembers.body.total).toBe(19);
    for (const entry of directory as { id: string }[]) {
      const member = stack.client.workflow.getHandle(`member-${entry.id}`);
      expect((await member.describe()).status.name).toBe('RUNNING');
    }
    await eventually(async () =>
      (await stack.database.db('directory_entries').whereNotNull('workflow_id').count<{ count: number }[]>())[0]!
        .count === 19
        ? true
        : undefined,
    );
    const page = await fetch(`${stack.api.url}/rounds/${ROUND}/outcome`);
    expect(await page.text()).toContain('以下 19 项认定为产教融合品牌项目');

    const eligible = universities.flatMap((u) => [
      universityEmail(u.id),
      ...u.colleges.map(([s]) => collegeEmail(u.id, s)),
    ]);
    const submittedBy = new Set(Object.keys(plan).map(contactOf));
    const invited = [...new Set(assignments.map((a) => a.expert_id))];
    const expected = [
      ...eligible.map((to) => ({ to, purpose: 'call_notice' })),
      ...[1, 2, 3].flatMap(() =>
        eligible.filter((to) => !submittedBy.has(to)).map((to) => ({ to, purpose: 'call_reminder' })),
      ),
      { to: contactOf('henau'), purpose: 'formal_check_failed' },
      { to: contactOf('ncwu-elec'), purpose: 'formal_check_failed' },
      ...invited.map((id) => ({ to: `${id}@pool.ronghe.example`, purpose: 'review_invitation' })),
      { to: `${replacement.expert_id}@pool.ronghe.example`, purpose: 'review_invitation' },
      { to: 'staff@ronghe.example', purpose: 'review_completed' },
      ...eligible.map((to) => ({ to, purpose: 'deadline_extended' })),
      { to: 'zhang.ming@objector.example', purpose: 'objection_resolved' },
      { to: 'li.hong@objector.example', purpose: 'objection_resolved' },
      { to: contactOf(appInstitution.get(removed)!), purpose: 'entry_removed' },
      ...outcome.body.approved.map((a) => ({
        to: contactOf(appInstitution.get(a.applicationId)!),
        purpose: 'approval_notice',
      })),
    ];
    const emails = await stack.mailbox.waitForCount(expected.length, { settleMs: 1_000 });
    expect(recipientPurposePairs(emails)).toEqual(recipientPurposePairs(expected));
    const failure = emails.find((e) => e.purpose === 'formal_check_failed' && e.to === contactOf('henau'))!;
    expect(failure.text).toContain('缺少附件：申报书');

    const apps = await stack.database
      .db('applications')
      .where({ round_id: ROUND })
      .select<{ id: string; status: string; formal_check_reason: string | null }[]>(
        'id',
        'status',
        'formal_check_reason',
      );
    const byStatus = (s: string) => apps.filter((a) => a.status === s).length;
    expect([
      byStatus('approved'),
      byStatus('objection_upheld'),
      byStatus('not_shortlisted'),
      byStatus('formal_failed'),
      byStatus('withdrawn'),
      byStatus('draft'),
    ]).toEqual([19, 1, 7, 2, 1, 1]);
    expect(apps.find((a) => a.id === ids['ncwu-elec']![2])!.formal_check_reason).toContain('简介');
    const versions = await stack.request<{ versions: { version: number }[] }>(
      'GET',
      `/api/applications/${ids.zzu![0]}`,
      {
        token: tokens.zzu,
      },
    );
    expect(versions.body.versions.map((v) => v.version)).toEqual([1, 2]);

    // Every decision the test made (and the system's own) has exactly one audit row.
    const audit = await stack.database
      .db('audit_events')
      .whereNot({ action: 'application.receipt' })
      .orderBy('id')
      .select<{ actor: string; role: string; action: string; subject_id: string; reason: string | null }[]>(
        'actor',
        'role',
        'action',
        'subject_id',
        'reason',
      );
    const rowsFor = (action: string, subject: string) =>
      audit.filter((a) => a.action === action && a.subject_id === subject);
    expect(rowsFor('round.launch', ROUND)).toEqual([
      { actor: 'staff:officer-li', role: 'staff', action: 'round.launch', subject_id: ROUND, reason: null },
    ]);
    for (const [institution, count] of Object.entries(plan)) {
      for (const appId of ids[institution]!.slice(0, count)) {
        expect(rowsFor('application.submit', appId)).toEqual([
          {
            actor: `applicant:${institution}`,
            role: 'applicant',
            action: 'application.submit',
            subject_id: appId,
            reason: null,
          },
        ]);
      }
    }
    expect(rowsFor('application.resubmit', ids.zzu![0]!)).toHaveLength(1);
    expect(rowsFor('application.withdraw', ids.htu![1]!)).toEqual([
      {
        actor: 'applicant:htu',
        role: 'applicant',
        action: 'application.withdraw',
        subject_id: ids.htu![1],
        reason: '与学校另一项目内容重复',
      },
    ]);
    const checks = audit.filter((a) => a.action.startsWith('application.formal_check'));
    expect(checks).toHaveLength(29);
    expect(checks.every((c) => c.role === 'system' && c.actor === 'system:formal-check')).toBe(true);
    expect(checks.filter((c) => c.action === 'application.formal_check_failed').every((c) => c.reason)).toBe(true);
    expect(rowsFor('review.decline', declined.assignmentId)).toEqual([
      {
        actor: 'expert:p-04',
        role: 'expert',
        action: 'review.decline',
        subject_id: declined.assignmentId,
        reason: '与该申报团队有合作关系',
      },
    ]);
    expect(audit.filter((a) => a.action === 'review.submit')).toHaveLength(81);
    expect(
      audit
        .filter((a) => a.action === 'review.submit')
        .every((a) => a.role === 'expert' && a.actor.startsWith('expert:p-')),
    ).toBe(true);
    expect(rowsFor('shortlist.exclude', excluded)).toEqual([
      {
        actor: 'staff:officer-li',
        role: 'staff',
        action: 'shortlist.exclude',
        subject_id: excluded,
        reason: '该项目与已认定品牌项目内容重复',
      },
    ]);
    expect(rowsFor('round.confirm_shortlist', ROUND)).toHaveLength(1);
    expect(rowsFor('round.extend_deadline', ROUND)).toEqual([
      {
        actor: 'staff:officer-li',
        role: 'staff',
        action: 'round.extend_deadline',
        subject_id: ROUND,
        reason: '应多所高校请求，延长一周',
      },
    ]);
    expect(rowsFor('application.submit_refused', ids.henu![3]!).map((r) => r.reason)).toEqual([
      expect.stringContaining('限报'),
      expect.stringContaining('截止'),
    ]);
    expect(audit.filter((a) => a.action === 'objection.file').map((a) => [a.actor, a.role])).toEqual(
      expect.arrayContaining([
        ['public:张明', 'public'],
        ['public:李红', 'public'],
      ]),
    );
    expect(audit.filter((a) => a.action === 'objection.file')).toHaveLength(2);
    expect(rowsFor('objection.uphold', filed.body.objectionId)).toEqual([
      {
        actor: 'staff:officer-li',
        role: 'staff',
        action: 'objection.uphold',
        subject_id: filed.body.objectionId,
        reason: '经核查，合作企业已注销，申报材料与事实不符',
      },
    ]);
    expect(rowsFor('objection.dismiss', other.body.objectionId)).toEqual([
      {
        actor: 'staff:officer-li',
        role: 'staff',
        action: 'objection.dismiss',
        subject_id: other.body.objectionId,
        reason: '经核查，建设成效数据有佐证材料支撑',
      },
    ]);
    expect(rowsFor('publicity.substitute', substitute)).toHaveLength(1);
    expect(rowsFor('round.approve', ROUND)).toHaveLength(1);

    const progress = await stack.request<{
      applications: Record<string, number>;
      emails: Record<string, { sent: number }>;
    }>('GET', `/api/rounds/${ROUND}/progress`, { token: staff });
    expect(progress.body.applications).toEqual({
      approved: 19,
      objection_upheld: 1,
      not_shortlisted: 7,
      formal_failed: 2,
      withdrawn: 1,
      draft: 1,
    });
    expect(progress.body.emails.call_reminder!.sent).toBe(expected.filter((e) => e.purpose === 'call_reminder').length);
  }, 300_000);
});
