import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { AttachmentStore } from '../../storage/attachments.js';
import { staffAccessToken } from '../support/accounts.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertDemoRound } from '../support/round.demo.js';

/**
 * Issue 15: the staff sub-role ops (engineers) reaches the operational routes only — never a programme decision
 * or an application's content. The API runs on a private database; its Temporal client points at a closed port
 * (every request here is answered before reaching Temporal, or reads PostgreSQL only).
 */

let database: TestDatabase;
let api: RunningApi;
let connection: Connection;
let attachmentsDir: string;
let ops: string;
let officer: string;

beforeAll(async () => {
  database = await createTestDatabase();
  attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-ops-attachments-'));
  connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '200ms' });
  api = await startApi({
    config: loadConfig({ NODE_ENV: 'test', API_PORT: '0' }),
    db: database.db,
    temporal: new Client({ connection, namespace: 'default' }),
    attachments: new AttachmentStore(attachmentsDir, 1024 * 1024),
    logger: createLogger({ level: 'silent' }),
  });
  await insertDemoRound(database.db);
  ops = (await staffAccessToken(database.db, { email: 'ops@ronghe.example', staffRole: 'ops' })).token;
  officer = (await staffAccessToken(database.db, { email: 'officer@ronghe.example' })).token;
});

afterAll(async () => {
  await api?.close();
  await connection?.close();
  await database?.drop();
  if (attachmentsDir) fs.rmSync(attachmentsDir, { recursive: true, force: true });
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
      expect(problem.detail).toMatch(/^此操作仅限管理服务中心工作人员(、申报单位用户)?$/);
    }
    // An officer passes the same gate (then meets the request's own checks: never 403 FORBIDDEN here).
    const listed = await call('GET', '/api/rounds/round-demo_university-2027/applications', officer);
    expect(listed.status).toBe(200);
  });
});
