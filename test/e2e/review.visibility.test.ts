import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterNationalDay2027, seedRoundForReview, startRoundReview } from '../support/review.round.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';

/**
 * Issue 15, point 5 (last sentence; SPEC "Expert review"): experts never see the applicant's avoid list (回避) or
 * each other's scores; applicants never see experts' identities. A round's review on the real stack
 * (time-skipping Temporal, PostgreSQL, maildev, the API over HTTP): zzu's submitted version names an expert of
 * the pool on its avoid list; the experts read the material, score and comment; then each applicant reads its
 * application, the round's applications, the round, its outcome and publicity, and those answers and every email
 * to the applicant are searched for its reviewers' names, ids, addresses and comments. Fails on 7c8491c: the
 * expert's material carried `avoidExperts`.
 */
const TASK_QUEUE = 'ronghe-review-visibility';
const ROUND = 'round-research_project-2027';
const REVIEW = `review-${ROUND}`;
const AVOIDED = { id: 'exp-vis-avoided', nameZh: '何避之' };
const EXPERTS = [
  { id: 'exp-vis-1', nameZh: '周明远' },
  { id: 'exp-vis-2', nameZh: '吴静怡' },
  { id: 'exp-vis-3', nameZh: '郑海涛' },
  { id: 'exp-vis-4', nameZh: '王立新' },
  { id: 'exp-vis-5', nameZh: '冯晓梅' },
  AVOIDED,
];
const emailOf = (expertId: string) => `${expertId}@pool.ronghe.example`;
const commentOf = (expertId: string) => `评审意见-${expertId}-仅本人可见`;
const rubricScores = { significance: 90, approach: 88, industry_fit: 86, team: 84 };

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
});

afterAll(async () => {
  await stack?.stop();
});

/** A call as `who`, with the response's text as sent (what a reader could search). */
async function call(
  who: { role: 'staff' | 'expert' | 'applicant'; id: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: () => unknown }> {
  const res = await stack.request(method, path, { token: await stack.token(who), body });
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  return { status: res.status, text, json: () => res.body };
}

interface Row {
  id: string;
  item_id: string;
  expert_id: string;
}

/** Every way a text could name `expert`: name, pool id, email. */
function identitiesOf(expertId: string): string[] {
  const e = EXPERTS.find((x) => x.id === expertId)!;
  return [e.nameZh, e.id, emailOf(e.id)];
}

describe('what experts and applicants see of each other (issue 15, point 5)', () => {
  it("keeps the avoid list and other experts' scores from experts, and experts' identities from the applicant", async () => {
    const db = stack.database.db;
    await enterNationalDay2027(db);
    const [a1, a2] = await seedRoundForReview(db, { roundId: ROUND, titleTag: 'V', experts: EXPERTS });
    // zzu's application was submitted with an avoid list naming a pool expert (as a submission stores it).
    const draft = { title: '研究项目 V1', avoidExperts: [AVOIDED.nameZh] };
    await db('applications')
      .where({ id: a1!.id })
      .update({ draft: JSON.stringify(draft), avoid_expert_ids: [AVOIDED.id], current_version: 1 });
    await db('application_versions').insert({
      application_id: a1!.id,
      version: 1,
      payload: JSON.stringify({ draft, attachments: [] }),
      received_at: new Date('2027-08-10T02:00:00Z'),
      submitted_by: 'applicant:zzu',
    });

    const { handle } = await startRoundReview(stack, { roundId: ROUND, workflowId: REVIEW, taskQueue: TASK_QUEUE });
    const assignments = await db('review_assignments').orderBy('id').select<Row[]>('id', 'item_id', 'expert_id');
    expect(assignments).toHaveLength(6);
    const onA1 = assignments.filter((r) => r.item_id === a1!.id);
    expect(onA1).toHaveLength(3);
    expect(onA1.map((r) => r.expert_id)).not.toContain(AVOIDED.id);
    const [mine, theirs] = onA1 as [Row, Row];
    const me = { role: 'expert' as const, id: mine.expert_id };

    // Another expert on the same application scores and comments first.
    const other = await call({ role: 'expert', id: theirs.expert_id }, 'PUT', `/api/assignments/${theirs.id}/review`, {
      scores: { significance: 61, approach: 62, industry_fit: 63, team: 64 },
      comment: commentOf(theirs.expert_id),
    });
    expect(other.status).toBe(200);
    expect(
      (
        await call(me, 'PUT', `/api/assignments/${mine.id}/review`, {
          scores: rubricScores,
          comment: commentOf(mine.expert_id),
        })
      ).status,
    ).toBe(200);

    // The expert's material: the submitted version, without the avoid list; the expert's own score only.
    const material = await call(me, 'GET', `/api/assignments/${mine.id}`);
    expect(material.status).toBe(200);
    const view = material.json() as {
      item: { content: { draft: { title: string } } };
      review: { scores: Record<string, number>; comment: string };
    };
    expect(view.item.content.draft.title).toBe('研究项目 V1');
    expect(view.review).toMatchObject({ scores: rubricScores, comment: commentOf(mine.expert_id) });
    expect(material.text).not.toContain('avoidExperts');
    expect(material.text).not.toContain(AVOIDED.nameZh);
    for (const s of [...identitiesOf(theirs.expert_id), commentOf(theirs.expert_id), '"significance":61']) {
      expect(material.text, s).not.toContain(s);
    }
    // Staff reading the same assignment read the same material; the application itself still shows the list.
    const staff = { role: 'staff' as const, id: 'officer-vis' };
    const staffMaterial = await call(staff, 'GET', `/api/assignments/${mine.id}`);
    expect(staffMaterial.status).toBe(200);
    expect(staffMaterial.text).not.toContain('avoidExperts');
    const staffApplication = await call(staff, 'GET', `/api/applications/${a1!.id}`);
    expect(staffApplication.status).toBe(200);
    expect((staffApplication.json() as { draft: { avoidExperts: string[] } }).draft.avoidExperts).toEqual([
      AVOIDED.nameZh,
    ]);

    // Another expert's assignment: neither its material nor its score, nor a way to change it.
    for (const [method, path, body] of [
      ['GET', `/api/assignments/${theirs.id}`, undefined],
      ['PUT', `/api/assignments/${theirs.id}/review`, { scores: rubricScores }],
      ['POST', `/api/assignments/${theirs.id}/accept`, undefined],
    ] as const) {
      const refused = await call(me, method, path, body);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.text).not.toContain(commentOf(theirs.expert_id));
    }
    // The expert's list: own assignments only, no one else's, no avoid list.
    const list = await call(me, 'GET', '/api/me/assignments');
    expect(list.status).toBe(200);
    expect((list.json() as { items: { assignmentId: string }[] }).items.map((i) => i.assignmentId)).toEqual([mine.id]);
    for (const s of [theirs.id, ...identitiesOf(theirs.expert_id), 'avoidExperts', AVOIDED.nameZh]) {
      expect(list.text, s).not.toContain(s);
    }
    // What the expert was emailed names neither the avoided expert nor the other experts.
    const toMe = (await stack.mailbox.list()).filter((m) => m.to === emailOf(mine.expert_id));
    expect(toMe.map((m) => m.purpose)).toContain('review_invitation');
    for (const m of toMe) {
      for (const s of [AVOIDED.nameZh, ...EXPERTS.filter((e) => e.id !== mine.expert_id).map((e) => e.nameZh)]) {
        expect(`${m.subject}\n${m.text}`, s).not.toContain(s);
      }
    }

    // Every other expert scores; the review ends and ranks.
    for (const r of assignments.filter((r) => r !== mine && r !== theirs)) {
      const saved = await call({ role: 'expert', id: r.expert_id }, 'PUT', `/api/assignments/${r.id}/review`, {
        scores: rubricScores,
        comment: commentOf(r.expert_id),
      });
      expect(saved.status).toBe(200);
    }
    await handle.result();
    expect(await db('review_results').whereIn('item_id', [a1!.id, a2!.id]).pluck('valid_scores')).toEqual([3, 3]);

    // The applicants: every route each can call on its application and round after the review names no expert.
    for (const [institution, application] of [
      ['zzu', a1!],
      ['henu', a2!],
    ] as const) {
      const reviewers = assignments.filter((r) => r.item_id === application.id).map((r) => r.expert_id);
      const secrets = [...reviewers.flatMap(identitiesOf), ...reviewers.map(commentOf)];
      const applicant = { role: 'applicant' as const, id: institution };
      for (const path of [
        `/api/applications/${application.id}`,
        `/api/rounds/${ROUND}/applications`,
        `/api/rounds/${ROUND}`,
        `/api/rounds/${ROUND}/outcome`,
        `/api/rounds/${ROUND}/publicity`,
      ]) {
        const seen = await call(applicant, 'GET', path);
        expect(seen.status, path).toBe(200);
        for (const s of secrets) expect(seen.text, `${institution} ${path}: ${s}`).not.toContain(s);
      }
      const contact = await db('institutions')
        .where({ id: institution })
        .first<{ contact_email: string }>('contact_email');
      for (const m of (await stack.mailbox.list()).filter((m) => m.to === contact.contact_email)) {
        for (const s of secrets) expect(`${m.subject}\n${m.text}`, `${institution} email: ${s}`).not.toContain(s);
      }
    }
    // The applicant's own draft keeps what it wrote (its avoid list is its own input).
    const own = await call({ role: 'applicant', id: 'zzu' }, 'GET', `/api/applications/${a1!.id}`);
    expect((own.json() as { draft: { avoidExperts: string[] } }).draft.avoidExperts).toEqual([AVOIDED.nameZh]);
  });
});
