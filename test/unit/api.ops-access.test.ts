import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../api/server.js';
import { staffAccessToken } from '../support/accounts.js';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from '../support/api-without-temporal.js';
import type { TestDatabase } from '../support/database.js';
import { insertDemoRound } from '../support/round.demo.js';

/**
 * Issue 15: the staff sub-role ops (engineers) reaches the operational routes only — never a programme decision
 * or an application's content. The API runs on a private database; its Temporal client points at a closed port
 * (every request here is answered before reaching Temporal, or reads PostgreSQL only).
 */

let database: TestDatabase;
let api: RunningApi;
let offline: ApiWithoutTemporal;
let ops: string;
let officer: string;

beforeAll(async () => {
  offline = await startApiWithoutTemporal();
  ({ database, api } = offline);
  await insertDemoRound(database.db);
  ops = (await staffAccessToken(database.db, { email: 'ops@ronghe.example', staffRole: 'ops' })).token;
  officer = (await staffAccessToken(database.db, { email: 'officer@ronghe.example' })).token;
});

afterAll(async () => {
  await offline?.stop();
});

const call = (method: string, url: string, token: string, body?: unknown) =>
  fetch(`${api.url}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('the staff sub-role ops', () => {
  it('when ops reads the outbox, then 200, as an officer', async () => {
    for (const token of [ops, officer]) expect((await call('GET', '/api/outbox', token)).status).toBe(200);
  });

  it('when ops launches a round, confirms a shortlist, changes the calendar or reads applications, then 403 in zh-CN', async () => {
    for (const [method, url, body] of [
      ['POST', '/api/rounds', { programme: 'demo_college', year: 2031 }],
      ['POST', '/api/rounds/round-demo_university-2027/shortlist/confirm', {}],
      ['PUT', '/api/calendar/years/2031', { holidays: [], workdays: [] }],
      ['GET', '/api/rounds/round-demo_university-2027/applications', undefined],
      ['POST', '/api/events', { title: '产教融合对接会' }],
    ] as const) {
      const res = await call(method, url, ops, body);
      const problem = (await res.json()) as { code: string; detail: string };
      expect([method, url, res.status, problem.code]).toEqual([method, url, 403, 'FORBIDDEN']);
      expect(problem.detail).toMatch(/^此操作仅限管理服务中心业务人员或系统管理员(、申报单位用户)?$/);
    }
    // An officer passes the same gate (then meets the request's own checks: never 403 FORBIDDEN here).
    const listed = await call('GET', '/api/rounds/round-demo_university-2027/applications', officer);
    expect(listed.status).toBe(200);
  });
});
