import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Who and where, at the API's door (issue 14): an email address is one plain mailbox wherever a person gives one
 * (point 8), and a development token names an institution or expert that exists (point 11).
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ decisionFaults: false });
});

afterAll(async () => {
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string; errors?: { path: string; message: string }[] };

/** A publicity id no period has: the address is judged before the period is looked up. */
const PUBLICITY = '00000000-0000-4000-8000-000000000000';
const objector = {
  name: '张明',
  unit: '河南省某研究院',
  phone: '0371-12345678',
  facts: '该项目申报材料与实际情况不符，请予核查。',
};
const notOneMailbox = [
  'a@x.example;b',
  'A <a@x.example>',
  'a@x.example,b@y.example',
  'a@x.example\r\nBcc: c@z.example',
  'a@x.example\n',
];

describe('an email address is a single mailbox (point 8)', () => {
  it('the objection API refuses a list, a display name or a line break with 422 naming the field', async () => {
    for (const email of notOneMailbox) {
      const r = await stack.request<Problem>('POST', `/api/publicity/${PUBLICITY}/objections`, {
        body: { ...objector, email },
      });
      expect([r.status, r.body.code], JSON.stringify(email)).toEqual([422, 'VALIDATION_FAILED']);
      expect(r.body.detail).toContain('电子邮箱应为单个邮箱地址');
      expect(r.body.errors?.map((e) => e.path)).toEqual(['email']);
    }
    // A plain mailbox passes the check (and meets the unknown period).
    const plain = await stack.request<Problem>('POST', `/api/publicity/${PUBLICITY}/objections`, {
      body: { ...objector, email: 'zhang@example.com' },
    });
    expect([plain.status, plain.body.code]).toEqual([404, 'PUBLICITY_NOT_FOUND']);
    expect(await stack.database.db('audit_events').where({ action: 'objection.receipt' })).toEqual([]);
  });
  // The public form's refusal of such an address is in test/e2e/publicity.page.test.ts (it needs a real period).
});

describe('development tokens name real things (point 11)', () => {
  it('refuses a token whose applicant institution or expert does not exist (401), and takes seeded ones', async () => {
    const cases = [
      [{ role: 'applicant', id: 'nowhere-university' }, '申报单位（nowhere-university）不存在'],
      [{ role: 'applicant', id: 'exp-001' }, '申报单位（exp-001）不存在'],
      [{ role: 'expert', id: 'exp-999' }, '评审专家（exp-999）不存在'],
      [{ role: 'expert', id: 'zzu' }, '评审专家（zzu）不存在'],
    ] as const;
    for (const [subject, says] of cases) {
      const r = await stack.request<Problem>('GET', '/api/rounds/round-brand_project-2031', {
        token: await stack.token(subject),
      });
      expect([r.status, r.body.code], JSON.stringify(subject)).toEqual([401, 'UNAUTHENTICATED']);
      expect(r.body.detail).toContain(says);
    }
    // Seeded records (a university, a college, an expert) and staff pass authentication: the round is unknown.
    for (const subject of [
      { role: 'applicant', id: 'zzu' },
      { role: 'applicant', id: 'zzu-cs' },
      { role: 'expert', id: 'exp-001' },
      { role: 'staff', id: 'officer-li' },
    ] as const) {
      const r = await stack.request<Problem>('GET', '/api/rounds/round-brand_project-2031', {
        token: await stack.token(subject),
      });
      expect([r.status, r.body.code], JSON.stringify(subject)).toEqual([404, 'ROUND_NOT_FOUND']);
    }
  });
});
