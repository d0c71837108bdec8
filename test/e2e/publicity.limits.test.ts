import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../api/server.js';
import { openDemoCollegePublicity } from '../support/publicity.js';
import { startTestStack, testLogger, type TestStack } from '../support/stack.js';

/**
 * Issue 15, point 2: the objection intake's limits, counted in PostgreSQL — per client address, per objector
 * email across addresses, per publicity period — shared by two API instances on one database, and the client
 * address taken from `X-Forwarded-For` only behind a configured proxy (TRUST_PROXY). Each test files to its own
 * publicity with its own emails and addresses; the window is an hour, so nothing here races the clock.
 */

let stack: TestStack;
/** Two more API instances on the same database and engine, behind a proxy on loopback (TRUST_PROXY=loopback). */
let proxied: RunningApi;
let proxiedTwo: RunningApi;
const publicities: string[] = [];

const LIMITS = { OBJECTION_RATE_LIMIT: '3', OBJECTION_EMAIL_RATE_LIMIT: '2', OBJECTION_PUBLICITY_RATE_LIMIT: '4' };

beforeAll(async () => {
  stack = await startTestStack({ env: LIMITS });
  const behindProxy = () =>
    startApi({
      config: { ...stack.config, limits: { ...stack.config.limits, trustProxy: ['loopback'] } },
      db: stack.database.db,
      temporal: stack.client,
      attachments: stack.attachments,
      logger: testLogger(),
    });
  proxied = await behindProxy();
  proxiedTwo = await behindProxy();
  for (const year of [2031, 2032, 2033, 2034, 2035, 2036, 2037]) {
    publicities.push(await openDemoCollegePublicity(stack, year));
  }
});

afterAll(async () => {
  await proxied?.close();
  await proxiedTwo?.close();
  await stack?.stop();
});

type Answer = { status: number; body: { code?: string; policy?: string; detail?: string; objectionId?: string } };

/** Files an objection through `api` (the test stack's by default), `from` sent as X-Forwarded-For. */
async function file(
  publicityId: string,
  email: string,
  options: { from?: string; api?: RunningApi; facts?: string } = {},
): Promise<Answer & { headers: Headers }> {
  const res = await fetch(`${(options.api ?? stack.api).url}/api/publicity/${publicityId}/objections`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(options.from ? { 'X-Forwarded-For': options.from } : {}) },
    body: JSON.stringify({
      name: '钱进',
      unit: '某研究院',
      phone: '13800138000',
      email,
      facts: options.facts ?? `对公示名单有异议，请核查（${email}，${options.from ?? '直连'}）。`,
    }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

const objectionsOf = async (publicityId: string) =>
  Number(
    (await stack.database.db('objections').where({ publicity_id: publicityId }).count<{ n: number }[]>('* as n'))[0]!.n,
  );
const receipts = async () =>
  Number(
    (
      await stack.database.db('audit_events').where({ action: 'objection.receipt' }).count<{ n: number }[]>('* as n')
    )[0]!.n,
  );

describe('objection limits (PostgreSQL)', () => {
  it('ignores X-Forwarded-For without TRUST_PROXY: every objection counts against the connecting address', async () => {
    const p = publicities[0]!;
    for (let i = 1; i <= 3; i++) {
      expect((await file(p, `direct${i}@objector.example`, { from: `203.0.113.${i}` })).status).toBe(201);
    }
    const before = [await objectionsOf(p), await receipts()];
    const limited = await file(p, 'direct4@objector.example', { from: '203.0.113.4' });
    expect([limited.status, limited.body.code, limited.body.policy]).toEqual([
      429,
      'RATE_LIMITED',
      'objection-address',
    ]);
    expect(limited.body.detail).toMatch(/^同一来源提交异议过于频繁，请于.+（北京时间）后再试$/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit')).toContain('"objection-address"; r=0');
    // A refused objection writes nothing: no objection, no receipt.
    expect([await objectionsOf(p), await receipts()]).toEqual(before);
  });

  it('honours X-Forwarded-For behind TRUST_PROXY: each forwarded address has its own count', async () => {
    const p = publicities[1]!;
    for (let i = 1; i <= 3; i++) {
      expect((await file(p, `fwd${i}@objector.example`, { from: '198.51.100.1', api: proxied })).status).toBe(201);
    }
    const limited = await file(p, 'fwd4@objector.example', { from: '198.51.100.1', api: proxied });
    expect([limited.status, limited.body.policy]).toEqual([429, 'objection-address']);
    // Another client behind the same proxy is not held back (the connecting address is loopback for both).
    expect((await file(p, 'fwd4@objector.example', { from: '198.51.100.2', api: proxied })).status).toBe(201);
  });

  it('limits one email across addresses, in the API and on the public page (which keeps what was typed)', async () => {
    const p = publicities[2]!;
    const email = 'Repeat@Objector.example';
    expect((await file(p, email, { from: '192.0.2.1', api: proxied })).status).toBe(201);
    // The same mailbox in other letter case (the JSON API takes no surrounding spaces; the page trims them).
    expect((await file(p, 'repeat@objector.EXAMPLE', { from: '192.0.2.2', api: proxied })).status).toBe(201);
    const before = [await objectionsOf(p), await receipts()];
    const limited = await file(p, email, { from: '192.0.2.3', api: proxied });
    expect([limited.status, limited.body.code, limited.body.policy]).toEqual([429, 'RATE_LIMITED', 'objection-email']);
    expect(limited.body.detail).toMatch(/^同一电子邮箱提交异议过于频繁/);

    const facts = '第三次提交：申报材料中的合作企业与实际不符，请核查。';
    const page = await fetch(`${proxied.url}/publicity/${p}/objection`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': '192.0.2.4' },
      body: new URLSearchParams({
        name: '钱进',
        unit: '某研究院',
        phone: '13800138000',
        email: ` ${email} `,
        facts,
        entryId: '',
        idempotencyKey: randomUUID(),
      }).toString(),
    });
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
    const html = await page.text();
    expect(html).toContain('同一电子邮箱提交异议过于频繁');
    expect(html).toContain(facts);
    expect(html).toContain('value=" Repeat@Objector.example "');
    expect([await objectionsOf(p), await receipts()]).toEqual(before);
  });

  it('limits one publicity period for everyone together, and no other', async () => {
    const p = publicities[3]!;
    for (let i = 1; i <= 4; i++) {
      const answer = await file(p, `many${i}@objector.example`, { from: `198.51.100.${100 + i}`, api: proxied });
      expect(answer.status).toBe(201);
    }
    const limited = await file(p, 'many5@objector.example', { from: '198.51.100.105', api: proxied });
    expect([limited.status, limited.body.policy]).toEqual([429, 'objection-publicity']);
    expect(limited.body.detail).toMatch(/^本公示短时间内收到的异议过多/);
    expect(await objectionsOf(p)).toBe(4);
    // The same person, from the same address, to another publicity: taken.
    expect(
      (await file(publicities[4]!, 'many5@objector.example', { from: '198.51.100.105', api: proxied })).status,
    ).toBe(201);
  });

  it('two API instances on one database share the counts', async () => {
    const p = publicities[5]!;
    const email = 'both@objector.example';
    // One objection through each instance: each alone has seen one, fewer than the limit (2); the third is refused.
    expect((await file(p, email, { from: '192.0.2.50', api: proxied })).status).toBe(201);
    expect((await file(p, email, { from: '192.0.2.51', api: proxiedTwo })).status).toBe(201);
    const limited = await file(p, email, { from: '192.0.2.52', api: proxied });
    expect([limited.status, limited.body.policy]).toEqual([429, 'objection-email']);
    // The same for an address: two instances, one count (limit 3).
    const q = publicities[6]!;
    const from = '192.0.2.60';
    expect((await file(q, 'addr1@objector.example', { from, api: proxied })).status).toBe(201);
    expect((await file(q, 'addr2@objector.example', { from, api: proxiedTwo })).status).toBe(201);
    expect((await file(q, 'addr3@objector.example', { from, api: proxied })).status).toBe(201);
    const byAddress = await file(q, 'addr4@objector.example', { from, api: proxiedTwo });
    expect([byAddress.status, byAddress.body.policy]).toEqual([429, 'objection-address']);
  });
});
