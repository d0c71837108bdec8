import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collegeEmail } from '../../db/seeds/reference-data.js';
import type { MemberWorkflow } from '../../workflows/member.messages.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Procedures 4 and 5 over years of simulated time on the time-skipping server: directory members are
 * long-lived workflows that continue as new every year; staff revocation acts at once and bars the
 * institution from the programme, which a later round refuses at submission.
 */
const TASK_QUEUE = 'ronghe-directory-ts';
const PROGRAMME = 'demo_college';

let stack: TimeSkippingStack;
let staff: string;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };

/** A directory entry as 认定 leaves it, and its member workflow started the way the round starts it. */
async function admit(
  institutionId: string,
  title: string,
): Promise<{ entryId: string; handle: WorkflowHandleWithFirstExecutionRunId }> {
  const [row] = await stack.database
    .db('directory_entries')
    .insert({
      programme: PROGRAMME,
      institution_id: institutionId,
      title_zh: title,
      status: 'active',
      admitted_on: (await stack.nowIso()).slice(0, 10),
    })
    .returning<{ id: string }[]>('id');
  const entryId = row!.id;
  const handle = await stack.env.client.workflow.start<MemberWorkflow>('memberWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `member-${entryId}`,
    args: [{ entryId, programme: PROGRAMME, institutionId, admittedOn: (await stack.nowIso()).slice(0, 10) }],
  });
  return { entryId, handle };
}

/** Every run of a workflow id, first to last, with its history's length. */
async function runsOf(workflowId: string, firstRunId: string): Promise<{ runId: string; events: number }[]> {
  const runs: { runId: string; events: number }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await stack.env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    runs.push({ runId, events: events.length });
    const last = events[events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

describe('directory members over the years (time-skipping server)', () => {
  it('a member lives ten years, continuing as new every year with each run far under 1,000 events', async () => {
    await stack.skipTo('2027-07-01T10:00:00+08:00');
    const a = await admit('zzu-cs', '郑州大学计算机与人工智能学院产教融合示范学院');
    const firstRunId = a.handle.firstExecutionRunId;
    await stack.skipTo('2037-07-01T10:00:00+08:00');

    const runs = await runsOf(a.handle.workflowId, firstRunId);
    // 2027 … 2037: a run per calendar year.
    expect(runs.length).toBe(11);
    const largest = Math.max(...runs.map((r) => r.events));
    expect(largest).toBeLessThan(1_000);
    console.info(`member over ten years: ${runs.length} runs, largest history ${largest} events`);
    const state = await a.handle.query<{ status: string; year: number; runs: number }>('getMember');
    expect(state).toMatchObject({ status: 'active', year: 2037, runs: 11 });
    const row = await stack.database.db('directory_entries').where({ id: a.entryId }).first();
    expect(row).toMatchObject({ status: 'active', workflow_id: a.handle.workflowId });
  });

  it('revocation acts at once, bars the institution for 5 years, and a round two years later refuses its submission with the reason and the end of the bar', async () => {
    await stack.skipTo('2037-09-01T10:00:00+08:00');
    const d = await admit('henu-cs', '河南大学计算机与信息工程学院产教融合示范学院');
    await stack.skipTo('2037-09-01T11:00:00+08:00');
    const reason = '申报材料弄虚作假，经核查属实';

    // Validation first: a reason is required.
    const noReason = await stack.request<Problem>('POST', `/api/directory/${d.entryId}/revoke`, {
      token: staff,
      body: { reason: '' },
    });
    expect(noReason.status).toBe(422);
    const applicant = await stack.token({ role: 'applicant', id: 'henu-cs' });
    expect(
      (await stack.request('POST', `/api/directory/${d.entryId}/revoke`, { token: applicant, body: { reason } }))
        .status,
    ).toBe(403);

    const revoked = await stack.request<{ status: string; barEndsOn: string }>(
      'POST',
      `/api/directory/${d.entryId}/revoke`,
      { token: staff, body: { reason } },
    );
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', barEndsOn: '2042-09-01' });
    const again = await stack.request<Problem>('POST', `/api/directory/${d.entryId}/revoke`, {
      token: staff,
      body: { reason },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('MEMBER_NOT_ACTIVE');

    // The member workflow has ended as revoked; the directory says so, with the decision and the bar.
    // (Not `result()`: on the time-skipping server awaiting a result lets time run freely.)
    await eventually(async () => ((await d.handle.describe()).status.name === 'COMPLETED' ? true : undefined));
    expect(await d.handle.query('getMember')).toMatchObject({ status: 'revoked', barEndsOn: '2042-09-01' });
    const entry = await stack.request<{
      status: string;
      statusReason: string;
      removedOn: string;
      decisions: { action: string; role: string; actor?: string; reason: string }[];
      bans: { reason: string; endsOn: string }[];
    }>('GET', `/api/directory/${d.entryId}`, { token: staff });
    expect(entry.body).toMatchObject({ status: 'revoked', statusReason: reason, removedOn: '2037-09-01' });
    expect(entry.body.decisions).toEqual([
      expect.objectContaining({ action: 'directory.revoke', role: 'staff', actor: 'staff:officer-li', reason }),
    ]);
    expect(entry.body.bans).toEqual([{ reason, startsOn: '2037-09-01', endsOn: '2042-09-01' }]);
    // The public sees the decision but not who made it.
    const publicView = await stack.request<{ decisions: { actor?: string }[] }>('GET', `/api/directory/${d.entryId}`);
    expect(publicView.body.decisions[0]!.actor).toBeUndefined();
    const listed = await stack.request<{ items: { entryId: string }[] }>(
      'GET',
      `/api/directory?programme=${PROGRAMME}&status=revoked`,
    );
    expect(listed.body.items.map((i) => i.entryId)).toEqual([d.entryId]);
    const active = await stack.request<{ items: { entryId: string }[] }>(
      'GET',
      `/api/directory?programme=${PROGRAMME}&status=active`,
    );
    expect(active.body.items.map((i) => i.entryId)).not.toContain(d.entryId);

    // Exactly one revocation notice, to the college.
    const notices = await eventually(async () => {
      const mail = (await stack.mailbox.list()).filter((m) => m.purpose === 'revocation_notice');
      return mail.length > 0 ? mail : undefined;
    });
    expect(notices.map((m) => m.to)).toEqual([collegeEmail('henu', 'cs')]);
    expect(notices[0]!.text).toContain('2042年9月1日');
    // The revocation was crashed once right after its commit (test/support/faults.ts); the retry answered from
    // the record: one decision, one notice, sent.
    expect(stack.crashedDecisions.revokeMember).toBe(1);
    const outbox = await stack.database
      .db('email_outbox')
      .where({ purpose: 'revocation_notice' })
      .select<{ recipient: string; status: string }[]>('recipient', 'status');
    expect(outbox).toEqual([{ recipient: collegeEmail('henu', 'cs'), status: 'sent' }]);

    // Two years later: the 2039 call is open, and the college's application is refused at submission.
    await stack.skipTo('2039-09-05T09:00:00+08:00');
    const launched = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: { programme: PROGRAMME, year: 2039 },
    });
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    await eventually(async () => {
      const r = await stack.request<{ workflow?: { stage: string } }>('GET', `/api/rounds/${launched.body.roundId}`, {
        token: staff,
      });
      return r.body.workflow?.stage === 'call_open' ? true : undefined;
    });
    const draft = await stack.request<{ applicationId: string }>(
      'POST',
      `/api/rounds/${launched.body.roundId}/applications`,
      { token: applicant, body: { title: '河南大学计算机与信息工程学院再次申报' } },
    );
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const submitted = await stack.request<Problem>('POST', `/api/applications/${draft.body.applicationId}/submit`, {
      token: applicant,
    });
    expect(submitted.status).toBe(409);
    expect(submitted.body.code).toBe('BARRED');
    expect(submitted.body.detail).toContain(reason);
    expect(submitted.body.detail).toContain('2042年9月1日');
  });
});
