import { afterAll, beforeAll, describe, expect } from 'vitest';
import { recipientPurposePairs } from '../support/mailbox.js';
import {
  contactOf,
  draft,
  draftApplications,
  expectedRoundEmails,
  expectEveryDecisionAudited,
  insertReviewPool,
  plan,
  pool,
  objections,
  fileObjection,
  formalFailures,
  loseStoredForms,
  roundReaders,
  type ShortlistItem,
  sheet,
} from '../support/round.call.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { storySteps } from '../support/steps.js';
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
const db = () => stack.database.db;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe.sequential('a yearly round from launch to 认定, end to end with compressed time', () => {
  const step = storySteps();
  // What the steps hand on to each other.
  let staff: string;
  let launchedAt: number;
  let tokens: Record<string, string>;
  const ids: Record<string, string[]> = {};
  const appInstitution = new Map<string, string>();
  let assignments: { id: string; item_id: string; expert_id: string }[];
  let rubric: { key: string }[];
  let declined: { assignmentId: string; applicationId: string; status: string };
  let replacement: { expert_id: string };
  let list: { body: { items: ShortlistItem[] } };
  let excluded: string;
  let first: { publicityId: string; status: string; parentId: string | null };
  let filed: { status: number; body: { objectionId: string } };
  let other: { status: number; body: { objectionId: string } };
  let removed: string;
  let substitute: string;
  let outcome: { body: { approved: { applicationId: string; directoryEntryId: string | null }[] } };
  let expected: { to: string; purpose: string }[];

  const { submit, round2, assignmentsOf, periods } = roundReaders(() => stack, ROUND, {
    staff: () => staff,
    tokens: () => tokens,
  });

  step('when staff launch the round, then they can extend the call by five weeks at once', async () => {
    staff = await stack.token({ role: 'staff', id: 'officer-li' });
    await insertReviewPool(stack.database.db);
    launchedAt = Date.now();
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

    // Staff extend the call by five weeks at once; everyone eligible is told, and the reminders follow. The
    // long call also leaves the submissions below ample wall time (about half a minute at this scale) before the
    // first reminder, whose recipients the emails step counts.
    const opened = await eventually(async () => {
      const r = await stack.request<{ deadline: { day: string } | null }>('GET', `/api/rounds/${ROUND}`, {
        token: staff,
      });
      return r.body.deadline ?? undefined;
    });
    const later = new Date(Date.parse(`${opened.day}T00:00:00Z`) + 35 * 86_400_000).toISOString().slice(0, 10);
    const extension = await stack.request<{ deadline: { day: string } }>('PUT', `/api/rounds/${ROUND}/deadline`, {
      token: staff,
      body: { deadline: later, reason: '应多所高校请求，延长五周' },
    });
    expect(extension.status, JSON.stringify(extension.body)).toBe(200);
    expect(extension.body.deadline.day).toBe(later);
  });

  step('when 12 institutions submit 30, then one over the limit is refused; resubmit, withdraw', async () => {
    tokens = Object.fromEntries(
      await Promise.all(
        Object.keys(plan).map(async (id) => [id, await stack.token({ role: 'applicant', id })] as const),
      ),
    );
    Object.assign(ids, await draftApplications(stack, ROUND, tokens));

    // The call opens at once; submissions are judged by the workflow against its deadline.
    await eventually(async () => {
      const r = await stack.request<{ workflow: { stage: string } }>('GET', `/api/rounds/${ROUND}`, { token: staff });
      return r.body.workflow?.stage === 'call_open' ? true : undefined;
    });
    // One submission's API process dies after writing its receipt, before sending the Update (issue 13, point 3):
    // the row it leaves, whose lease has run out, is delivered by the outbox sweeper with its receipt time.
    const crashed = { institution: 'haust', applicationId: ids.haust![2]! };
    for (const [institution, count] of Object.entries(plan)) {
      for (let n = 0; n < count; n++) {
        if (institution === crashed.institution && ids[institution]![n] === crashed.applicationId) continue;
        const res = await submit(institution, ids[institution]![n]!);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
    const receivedAt = new Date();
    await db()('update_receipts').insert({
      update_id: 'receipt/crashed-before-update',
      workflow_id: ROUND,
      update_name: 'submitApplication',
      update_arg: JSON.stringify({
        applicationId: crashed.applicationId,
        institutionId: crashed.institution,
        receivedAt: receivedAt.toISOString(),
        actor: `applicant:${crashed.institution}`,
      }),
      caller: `applicant:${crashed.institution}`,
      received_at: receivedAt,
      status: 'pending',
      locked_until: db().raw(`now() - interval '1 second'`),
    });
    const redelivered = await eventually(
      async () => {
        const row = await db()('applications')
          .where({ id: crashed.applicationId })
          .first<{ status: string; received_at: Date }>('status', 'received_at');
        return row.status === 'submitted' ? row : undefined;
      },
      { what: 'the redelivered submission' },
    );
    expect(redelivered.received_at).toEqual(receivedAt);
    // The sweeper records the workflow's answer once its Update returns.
    const answered = await eventually(
      async () => {
        const row = await db()('update_receipts')
          .where({ update_id: 'receipt/crashed-before-update' })
          .first<{ status: string; redeliveries: number }>('status', 'redeliveries');
        return row.status === 'pending' ? undefined : row;
      },
      { what: "the redelivered receipt's answer" },
    );
    expect(answered).toMatchObject({ status: 'accepted', redeliveries: 1 });
    // Two stored 申报书 are lost after submission: a fault only the formal check, after the deadline, can find.
    await loseStoredForms(db(), formalFailures(ids));
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
  });

  step('when the call closes, then 27 pass to review: 81 assignments, 回避 held, load balanced', async () => {
    // The call closes, the formal check runs, and the round hands the 27 passing applications to review.
    await eventually(async () => ((await round2()).stage === 'review' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the review stage',
    });
    // Too late now: a 409 that says why.
    const late = await submit('henu', ids.henu![3]!);
    expect([late.status, late.body.code]).toEqual([409, 'DEADLINE_PASSED']);
    await eventually(
      async () => {
        const n = (await stack.database.db('review_assignments').count<{ n: number }[]>('* as n'))[0]!.n;
        return Number(n) === 81 ? true : undefined;
      },
      { what: '81 assignments' },
    );
    assignments = await stack.database
      .db('review_assignments')
      .select<{ id: string; item_id: string; expert_id: string }[]>('id', 'item_id', 'expert_id');
    const loads = new Map<string, number>();
    for (const a of assignments) loads.set(a.expert_id, (loads.get(a.expert_id) ?? 0) + 1);
    // 回避 held (own institution, its university, partner enterprise, declared conflicts) and the load is balanced.
    for (const [institution, list] of Object.entries(ids)) for (const id of list) appInstitution.set(id, institution);
    for (const a of assignments) {
      const inst = appInstitution.get(a.item_id)!;
      if (a.expert_id === 'p-01') expect(inst === 'henu' || inst.startsWith('henu-')).toBe(false);
      if (a.expert_id === 'p-02') expect(inst === 'zzu' || inst.startsWith('zzu-')).toBe(false);
      expect(a.expert_id).not.toBe('p-11');
    }
    expect(Math.max(...loads.values())).toBeLessThanOrEqual(Math.ceil(81 / 15) + 1);
  });

  step('when an expert misuses the API, then the answer is problem+json with a zh-CN title', async () => {
    // Misuse gets problem+json with a zh-CN title.
    const mine = await assignmentsOf('p-03');
    const theirs = assignments.find((a) => a.expert_id !== 'p-03')!;
    const rubricRes = await stack.request<{ rubric: { key: string }[] }>(
      'GET',
      `/api/assignments/${mine.items[0]!.assignmentId}`,
      { token: mine.token },
    );
    rubric = rubricRes.body.rubric;
    const notMine = await stack.request<{ code: string; title: string }>(
      'PUT',
      `/api/assignments/${theirs.id}/review`,
      { token: mine.token, body: { scores: sheet(rubric, 80) } },
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
  });

  step('when an expert declines with a conflict, then one replacement; the conflict recorded', async () => {
    // p-04 declines one assignment, declaring a conflict: it is replaced once and recorded for the future.
    const decliner = await assignmentsOf('p-04');
    declined = decliner.items[0]!;
    const decline = await stack.request('POST', `/api/assignments/${declined.assignmentId}/decline`, {
      token: decliner.token,
      body: { reason: '与该申报团队有合作关系', conflict: true },
    });
    expect(decline.status).toBe(200);
    replacement = await eventually(
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
  });

  step('when every expert scores, then staff confirm the top 20 of the ranking less one', async () => {
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
    list = await stack.request<{
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
    excluded = list.body.items[19]!.applicationId;
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
  });

  step('when two objections are filed, then one is upheld (递补) and one dismissed, once each', async () => {
    // Publicity: 10 working days. Two real-name objections: one upheld (递补 and re-publicity), one dismissed.
    first = await eventually(async () => (await periods()).find((p) => p.parentId === null));
    const published = await stack.request<{
      entries: { entryId: string; title: string; rank: number }[];
      status: string;
    }>('GET', `/api/publicity/${first.publicityId}`);
    expect(published.body.entries).toHaveLength(19);
    expect(published.body.entries.map((e) => e.rank)).toEqual(list.body.items.slice(0, 19).map((i) => i.rank));
    const anonymous = await stack.request<{ code: string; title: string }>(
      'POST',
      `/api/publicity/${first.publicityId}/objections`,
      { body: { entryId: published.body.entries[4]!.entryId, facts: '匿名举报：该项目材料存在问题。' } },
    );
    expect([anonymous.status, anonymous.body.code, anonymous.body.title]).toEqual([
      422,
      'REAL_NAME_REQUIRED',
      '异议须实名提出',
    ]);
    const fileOne = (body: unknown, key: string) => fileObjection(stack, first.publicityId, body, key);
    const upheldBody = objections.zhang(published.body.entries[4]!.entryId);
    // A name shown reversed (a bidi override) or facts holding a control character: refused, saying which.
    const garbled = await fileOne(
      { ...(upheldBody as Record<string, unknown>), name: '张明\u202e', facts: '经核查该项目材料不实\u0007。' },
      'objection-garbled-1',
    );
    expect([garbled.status, (garbled.body as unknown as { code: string }).code]).toEqual([422, 'VALIDATION_FAILED']);
    expect((garbled.body as unknown as { detail: string }).detail).toBe(
      '姓名只能是一行文字，不能含换行、制表符等控制字符或零宽空格等不可见字符；事实与理由不能含控制字符或零宽空格、方向控制符等不可见字符',
    );
    filed = await fileOne(upheldBody, 'objection-zhang-1');
    expect(filed.status).toBe(201);
    // A retry under the same key gets the first answer again; the key on another objection is refused, never
    // taken for the first (a second objector's objection is not silently dropped).
    const retried = await fileOne(upheldBody, 'objection-zhang-1');
    expect([retried.status, retried.body.objectionId]).toEqual([201, filed.body.objectionId]);
    const reused = await fileOne(objections.li(published.body.entries[2]!.entryId), 'objection-zhang-1');
    expect([reused.status, (reused.body as unknown as { code: string }).code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    other = await fileOne(objections.li(published.body.entries[2]!.entryId), 'objection-li-1');
    expect(other.status).toBe(201);
    const upheld = await stack.request<{ removedApplicationId: string; substituteApplicationId: string }>(
      'POST',
      `/api/objections/${filed.body.objectionId}/resolution`,
      { token: staff, body: { outcome: 'upheld', reason: '经核查，合作企业已注销，申报材料与事实不符' } },
    );
    expect(upheld.status, JSON.stringify(upheld.body)).toBe(200);
    removed = list.body.items[4]!.applicationId;
    // 递补: the best-ranked candidate below the line that staff did not exclude — the 21st.
    substitute = list.body.items[20]!.applicationId;
    expect(upheld.body).toMatchObject({ removedApplicationId: removed, substituteApplicationId: substitute });
    const dismissed = await stack.request('POST', `/api/objections/${other.body.objectionId}/resolution`, {
      token: staff,
      body: { outcome: 'dismissed', reason: '经核查，建设成效数据有佐证材料支撑' },
    });
    expect(dismissed.status).toBe(200);
    const twice = await stack.request<{ code: string }>(
      'POST',
      `/api/objections/${other.body.objectionId}/resolution`,
      { token: staff, body: { outcome: 'upheld', reason: '再次处理' } },
    );
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_RESOLVED']);
  });

  step('when the 递补 has been publicised again, then 认定: 19 entries with member workflows', async () => {
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
    outcome = await stack.request<{ approved: { applicationId: string; directoryEntryId: string | null }[] }>(
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
    const withWorkflow = async () =>
      (await db()('directory_entries').whereNotNull('workflow_id').count<{ count: number }[]>())[0]!.count;
    await eventually(async () => ((await withWorkflow()) === 19 ? true : undefined));
    const page = await fetch(`${stack.api.url}/rounds/${ROUND}/outcome`);
    expect(await page.text()).toContain('以下 19 项认定为产教融合品牌项目');
  });

  step('then every email went out exactly once to the expected recipients', async () => {
    const approved = new Set(outcome.body.approved.map((a) => a.applicationId));
    const reviewed = [...new Set(assignments.map((a) => a.item_id))];
    expected = expectedRoundEmails({
      invited: [...new Set(assignments.map((a) => a.expert_id)), replacement.expert_id],
      removedBy: appInstitution.get(removed)!,
      approvedBy: outcome.body.approved.map((a) => appInstitution.get(a.applicationId)!),
      notShortlistedBy: reviewed
        .filter((id) => !approved.has(id) && id !== removed)
        .map((id) => appInstitution.get(id)!),
    });
    const emails = await stack.mailbox.waitForCount(expected.length, { settleMs: 1_000 });
    expect(recipientPurposePairs(emails)).toEqual(recipientPurposePairs(expected));
    const failure = emails.find((e) => e.purpose === 'formal_check_failed' && e.to === contactOf('henau'))!;
    expect(failure.text).toContain('附件“申报书”已损坏或丢失');
    // Issue 14, point 14: every notice is signed by the body its sender names, dated, with a contact, and
    // names its deadline once (no ISO timestamp, no API path).
    for (const e of emails) {
      expect(e.fromName, e.purpose).toBe('河南省高等教育学会产教融合管理服务中心');
      expect(e.text, e.purpose).toMatch(
        /\n河南省高等教育学会产教融合管理服务中心\n\d{4}年\d{1,2}月\d{1,2}日\n\n联系人：王老师，联系电话：0371-65900000\n/,
      );
      expect(e.text, e.purpose).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\/api\//);
    }
    const receipt = emails.find((e) => e.purpose === 'submission_receipt' && e.to === contactOf('ncwu-elec'))!;
    expect(receipt.subject).toMatch(/^【受理回执】/);
    const notListed = emails.find((e) => e.purpose === 'not_shortlisted_notice')!;
    expect(notListed.text).toContain('未列入');
  });

  step('then the applications end in their statuses and keep their versions', async () => {
    type Row = { id: string; status: string; formal_check_reason: string | null };
    const apps = await db()('applications')
      .where({ round_id: ROUND })
      .select<Row[]>('id', 'status', 'formal_check_reason');
    const byStatus = (s: string) => apps.filter((a) => a.status === s).length;
    expect([
      byStatus('approved'),
      byStatus('objection_upheld'),
      byStatus('not_shortlisted'),
      byStatus('formal_failed'),
      byStatus('withdrawn'),
      byStatus('draft'),
    ]).toEqual([19, 1, 7, 2, 1, 1]);
    expect(apps.find((a) => a.id === ids['ncwu-elec']![2])!.formal_check_reason).toContain('附件“申报书”已损坏或丢失');
    const path = `/api/applications/${ids.zzu![0]}`;
    const versions = await stack.request<{ versions: { version: number }[] }>('GET', path, { token: tokens.zzu });
    expect(versions.body.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  step('then every decision has exactly one audit row and the progress view agrees', async () => {
    // Every decision was crashed once after its commit (the default fault) and still has one record (the audit
    // rows below) and its emails once (the step above): the extension, 30 submissions and a resubmission, the
    // withdrawal, the shortlist, two objections (a retry under the same Idempotency-Key is answered by the API from
    // its first answer, and never reaches the workflow) and two resolutions.
    expect(stack.crashedDecisions).toMatchObject({
      applyExtension: 1,
      recordSubmission: 31,
      recordWithdrawal: 1,
      confirmShortlist: 1,
      recordObjection: 2,
      recordResolution: 2,
    });
    // Every decision the test made (and the system's own) has exactly one audit row.
    await expectEveryDecisionAudited(stack.database.db, ROUND, {
      ids,
      declinedAssignment: declined.assignmentId,
      excluded,
      upheldObjection: filed.body.objectionId,
      dismissedObjection: other.body.objectionId,
      substitute,
    });

    type Progress = { applications: Record<string, number>; emails: Record<string, { sent: number }> };
    const progress = await stack.request<Progress>('GET', `/api/rounds/${ROUND}/progress`, { token: staff });
    expect(progress.body.applications).toEqual({
      approved: 19,
      objection_upheld: 1,
      not_shortlisted: 7,
      formal_failed: 2,
      withdrawn: 1,
      draft: 1,
    });
    expect(progress.body.emails.call_reminder!.sent).toBe(expected.filter((e) => e.purpose === 'call_reminder').length);
  });
});
