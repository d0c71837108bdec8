import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailedChild } from '../../workflows/children.messages.js';
import type { RoundInput, RoundWorkflow } from '../../workflows/round.messages.js';
import { freshMemory } from '../../workflows/round.memory.js';
import { seedRoundForReview, startRoundReview } from '../support/review.round.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 13, points 5 and 8 through the API, on the time-skipping server with real PostgreSQL and maildev:
 * a decline sent while the API cannot reach Temporal is not half-recorded (503), and its retry with the same
 * Idempotency-Key gets the replacement; a round whose review child fails (its round row missing: bad data)
 * emails staff and waits, and staff's retry through the API runs the review once the data is fixed.
 */
const TASK_QUEUE = 'ronghe-review-recovery-ts';

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true, apiTemporalProxy: true });
});

afterAll(async () => {
  await stack?.stop();
});

const db = () => stack.database.db;

async function call<T>(
  method: string,
  urlPath: string,
  who: { role: 'expert' | 'staff'; id: string },
  options: { body?: unknown; key?: string } = {},
): Promise<{ status: number; body: T }> {
  const token = await stack.token(who);
  const res = await fetch(`${stack.api!.url}${urlPath}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(options.body ? { 'Content-Type': 'application/json' } : {}),
      ...(options.key ? { 'Idempotency-Key': options.key } : {}),
    },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A research_project round row with two applications past the formal check, and five experts of their field. */
async function roundWithApplications(roundId: string, year: number, expertPrefix: string): Promise<void> {
  await seedRoundForReview(db(), {
    roundId,
    year,
    titleTag: expertPrefix,
    experts: [1, 2, 3, 4, 5].map((n) => ({ id: `${expertPrefix}${n}`, nameZh: `专家${expertPrefix}${n}` })),
  });
}

interface Row {
  id: string;
  expert_id: string;
  status: string;
  replaces_assignment_id: string | null;
}

const assignments = (workflowId: string) =>
  db()('review_assignments as ra')
    .join('reviews as r', 'r.id', 'ra.review_id')
    .where('r.workflow_id', workflowId)
    .orderBy('ra.invited_at')
    .select<Row[]>('ra.id', 'ra.expert_id', 'ra.status', 'ra.replaces_assignment_id');

describe('recovery through the API (time-skipping server)', () => {
  it('a decline the API could not hand to the review is refused 503 with nothing recorded; its retry with the same key is declined and replaced', async () => {
    const round = 'round-research_project-2027';
    const review = `review-${round}`;
    await roundWithApplications(round, 2027, 'd');
    const { handle } = await startRoundReview(stack, { roundId: round, workflowId: review, taskQueue: TASK_QUEUE });
    const x = (await assignments(review))[0]!;
    const expert = { role: 'expert', id: x.expert_id } as const;
    const body = { reason: '出差无法按时完成' };

    stack.apiTemporal!.cut();
    const failed = await call<{ code: string }>('POST', `/api/assignments/${x.id}/decline`, expert, {
      body,
      key: 'decline-x',
    });
    // Before this change: 200, the decline written and its signal lost — never replaced.
    expect([failed.status, failed.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    expect((await assignments(review)).find((r) => r.id === x.id)!.status).toBe('invited');

    stack.apiTemporal!.restore();
    const retried = await call('POST', `/api/assignments/${x.id}/decline`, expert, { body, key: 'decline-x' });
    expect(retried).toEqual({
      status: 200,
      body: { assignmentId: x.id, status: 'declined', conflictRecorded: false },
    });
    const replacement = await eventually(
      async () => (await assignments(review)).find((r) => r.replaces_assignment_id === x.id),
      { what: 'the replacement of the decline' },
    );
    expect(replacement.expert_id).not.toBe(x.expert_id);
    expect((await assignments(review)).find((r) => r.id === x.id)!.status).toBe('declined');
    await handle.terminate('the test is over');
  });

  it('a round whose review child fails emails staff and waits; staff retry it through the API once the data is fixed', async () => {
    const round = 'round-research_project-2028';
    const input: RoundInput = {
      roundId: round,
      programme: 'research_project',
      year: 2028,
      opensAt: '2028-08-01T09:00:00+08:00',
      launchedBy: 'staff:test',
      // The round's call is over; the round row has not been written (bad data): its review child fails.
      resume: { ...freshMemory(), stage: 'review' },
    };
    const handle = await stack.env.client.workflow.start<RoundWorkflow>('roundWorkflow', {
      workflowId: round,
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    const notice = await eventually(
      async () =>
        db()('email_outbox')
          .where({ workflow_id: round, purpose: 'child_failed' })
          .first<{ recipient: string; subject: string; idempotency_key: string } | undefined>(),
      { what: "staff's notice of the failed review" },
    );
    expect(notice).toMatchObject({
      recipient: stack.config.staffEmail,
      idempotency_key: `${round}/child_failed/review-${round}/1`,
    });
    expect(notice.subject).toContain(round);
    // The notice's decision was crashed once after its commit (the stack's fault): the round waits once it returns.
    const waiting = await eventually(
      async () => (await handle.query<FailedChild | null>('getFailedChild')) ?? undefined,
    );
    expect(waiting).toMatchObject({ childWorkflowId: `review-${round}`, childType: 'reviewWorkflow', failures: 1 });
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(stack.crashedDecisions.notifyChildFailed).toBe(1);
    expect(await db()('email_outbox').where({ workflow_id: round, purpose: 'child_failed' })).toHaveLength(1);
    await eventually(async () =>
      (await stack.mailbox.list()).some((m) => m.subject === notice.subject) ? true : undefined,
    );

    const staff = { role: 'staff', id: 'officer-li' } as const;
    // Only staff may retry; an unknown workflow is 404.
    expect((await call('POST', `/api/workflows/${round}/retry-child`, { role: 'expert', id: 'exp-001' })).status).toBe(
      403,
    );
    expect((await call<{ code: string }>('POST', '/api/workflows/round-nope-2028/retry-child', staff)).body.code).toBe(
      'WORKFLOW_NOT_FOUND',
    );

    await roundWithApplications(round, 2028, 'r');
    const retried = await call('POST', `/api/workflows/${round}/retry-child`, staff, { key: 'retry-review-2028' });
    expect(retried).toEqual({
      status: 200,
      body: { workflowId: round, childWorkflowId: `review-${round}`, failures: 1 },
    });
    // Nothing waits for a retry any more.
    expect((await call<{ code: string }>('POST', `/api/workflows/${round}/retry-child`, staff)).body.code).toBe(
      'CHILD_NOT_FAILED',
    );
    await eventually(async () => ((await assignments(`review-${round}`)).length === 6 ? true : undefined), {
      what: 'the retried review assigned',
    });
    const audited = await db()('audit_events')
      .where({ workflow_id: round })
      .whereIn('action', ['workflow.child_failed', 'workflow.retry_child'])
      .orderBy('occurred_at')
      .select<{ action: string; actor: string }[]>('action', 'actor');
    expect(audited).toEqual([
      { action: 'workflow.child_failed', actor: 'system:workflow' },
      { action: 'workflow.retry_child', actor: 'staff:officer-li' },
    ]);
    await handle.terminate('the test is over');
  });
});
