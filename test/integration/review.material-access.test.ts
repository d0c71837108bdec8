import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expertMayRead } from '../../db/repositories/review.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Issue 15, point 5: an expert reads an application's materials (its attachments) only while reviewing it —
 * invited, accepted or submitted; not once declined, nor once the assignment timed out and went to a
 * replacement. On a private PostgreSQL.
 */

let database: TestDatabase;
const APPLICATION = 'application-under-review';

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

describe('who reads an application’s materials among experts', () => {
  it.each([
    ['invited', true],
    ['accepted', true],
    ['submitted', true],
    ['declined', false],
    ['timed_out', false],
  ] as const)('when the expert’s assignment is %s, then reading is %s', async (status, may) => {
    const db = database.db;
    const expertId = `exp-material-${status}`;
    await db('experts').insert({
      id: expertId,
      name_zh: `专家${status}`,
      email: `${expertId}@pool.ronghe.example`,
      affiliation_kind: 'academic',
      title_zh: '教授',
      fields: ['next_gen_it'],
    });
    const [review] = await db('reviews')
      .insert({
        subject_kind: 'round',
        subject_id: `round-material-${status}`,
        programme: 'research_project',
        rubric: JSON.stringify([]),
        experts_per_item: 3,
        status: 'reviewing',
      })
      .returning<{ id: string }[]>('id');
    await db('review_assignments').insert({
      review_id: review!.id,
      item_kind: 'application',
      item_id: APPLICATION,
      expert_id: expertId,
      status,
      due_at: new Date('2027-10-08T16:00:00Z'),
    });
    expect(await expertMayRead(db, expertId, APPLICATION)).toBe(may);
  });
});
