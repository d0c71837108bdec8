import { expect } from 'vitest';
import type { TokenSubject } from '../../api/auth.js';
import type { Db } from '../../db/knex.js';
import type { ApiResponse } from './stack.js';
import { eventually } from './wait.js';

/** What of a test stack the experts need: the database to find their assignments, and the API. */
export interface ReviewingStack {
  database: { db: Db };
  token(subject: TokenSubject): Promise<string>;
  request<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string | undefined; body?: unknown },
  ): Promise<ApiResponse<T>>;
}

export interface Assignment {
  id: string;
  item_id: string;
  expert_id: string;
  due_at: Date;
}

/**
 * Waits for the review of a subject and its first assignments, then has every assigned expert submit through
 * the API: `scoresOf` gives an item's rubric scores for its `nth` assignment (0, 1, … in the order found), or
 * null to leave that one unscored. Returns the review, the assignments and the latest due time among them.
 */
export async function scoreAssignedReviews(
  stack: ReviewingStack,
  subject: { kind: string; id: string },
  scoresOf: (itemId: string, nth: number) => Record<string, number> | null,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<{ reviewId: string; assignments: Assignment[]; dueAt: Date }> {
  const { db } = stack.database;
  const review = await eventually(
    async () =>
      db('reviews')
        .where({ subject_kind: subject.kind, subject_id: subject.id })
        .first<{ id: string } | undefined>('id'),
    { ...(timeoutMs ? { timeoutMs } : {}), what: `the expert review of ${subject.kind} ${subject.id}` },
  );
  const assignments = await eventually(
    async () => {
      const rows = await db('review_assignments')
        .where({ review_id: review.id })
        .whereIn('status', ['invited', 'accepted'])
        .select<Assignment[]>('id', 'item_id', 'expert_id', 'due_at');
      return rows.length > 0 ? rows : undefined;
    },
    { what: `the first assignments of ${subject.kind} ${subject.id}` },
  );
  const seen = new Map<string, number>();
  for (const a of assignments) {
    const nth = seen.get(a.item_id) ?? 0;
    seen.set(a.item_id, nth + 1);
    const scores = scoresOf(a.item_id, nth);
    if (!scores) continue;
    const put = await stack.request('PUT', `/api/assignments/${a.id}/review`, {
      token: await stack.token({ role: 'expert', id: a.expert_id }),
      body: { scores },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  }
  return {
    reviewId: review.id,
    assignments,
    dueAt: new Date(Math.max(...assignments.map((a) => a.due_at.getTime()))),
  };
}

/** The same score on every criterion of a rubric. */
export function uniformScores(keys: readonly string[], score: number): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, score]));
}
