/**
 * A child process for test/e2e/accounts.pages.test.ts ("closing the API leaves nothing open"): starts an API on
 * the test's database, SMTP sink and Temporal (RONGHE_CHILD_DATABASE_URL, RONGHE_CHILD_SMTP_URL,
 * RONGHE_CHILD_TEMPORAL_ADDRESS), uses what the API holds — a session (the session store), a counted sign-in
 * attempt (the rate limits) and a password-reset email to RONGHE_CHILD_EMAIL (the API's own SMTP transport) —
 * then closes the API, the Temporal connection and the database. When the event loop has nothing left to do it
 * prints one JSON line: `{ closed: true, openSockets, timersLeft, resources, unhandled }` — the TCP sockets still
 * open (not even closing) right after the closes, the timers of the API's libraries still set (the session
 * store's prune timer…), `process.getActiveResourcesInfo()` then, and every unhandled rejection or uncaught
 * exception seen.
 */
import { createHook } from 'node:async_hooks';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startApi } from '../../api/server.js';
import { createDb } from '../../db/knex.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { AttachmentStore } from '../../storage/attachments.js';

/**
 * Timers made by the libraries the API holds (an unref'd one does not keep the process alive, nor is it listed
 * by `getActiveResourcesInfo`, but it fires later on a closed pool): the package that made each one still alive.
 */
const OWNED = ['connect-pg-simple', 'nodemailer', 'pg-pool', 'express-rate-limit', '@acpr/rate-limit-postgresql'];
const timers = new Map<number, string>();
createHook({
  init(id, type) {
    if (type !== 'Timeout') return;
    const stack = new Error().stack ?? '';
    const owner = OWNED.find((name) => stack.includes(`node_modules/${name}/`));
    if (owner) timers.set(id, owner);
  },
  destroy(id) {
    timers.delete(id);
  },
}).enable();

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(`unhandledRejection: ${String(reason)}`));
process.on('uncaughtException', (err) => unhandled.push(`uncaughtException: ${String(err)}`));

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'test',
    API_PORT: '0',
    DATABASE_URL: env('RONGHE_CHILD_DATABASE_URL'),
    SMTP_URL: env('RONGHE_CHILD_SMTP_URL'),
    TEMPORAL_ADDRESS: env('RONGHE_CHILD_TEMPORAL_ADDRESS'),
  });
  const db = createDb(config.database.url!);
  const connection = await Connection.connect({ address: config.temporal.address! });
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-close-'));
  const api = await startApi({
    config,
    db,
    temporal: new Client({ connection, namespace: config.temporal.namespace }),
    attachments: new AttachmentStore(attachmentsDir, 1024 * 1024),
    logger: createLogger({ level: 'silent' }),
  });
  const form = await fetch(`${api.url}/account/reset`);
  const cookie = form.headers.get('set-cookie')!.split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const reset = await fetch(`${api.url}/account/reset`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email: env('RONGHE_CHILD_EMAIL') }).toString(),
  });
  await reset.text();
  // A failed sign-in: counted in the rate limits' store.
  await (
    await fetch(`${api.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@ronghe.example', password: 'not the password' }),
    })
  ).text();
  if (reset.status !== 200) throw new Error(`reset answered ${reset.status}`);
  await api.close();
  await connection.close();
  await db.destroy();
  fs.rmSync(attachmentsDir, { recursive: true, force: true });
  // Right after closing: every TCP socket is closed or closing (its end sent). One still open is a pool or a
  // transport nobody closed (it would keep the process alive until the server drops it).
  const openSockets = (process as unknown as { _getActiveHandles(): unknown[] })
    ._getActiveHandles()
    .filter(
      (h): h is net.Socket => h instanceof net.Socket && h.remotePort !== undefined && !h.destroyed && !h.writableEnded,
    )
    .map((s) => `${s.remoteAddress}:${s.remotePort}`);
  process.once('beforeExit', () => {
    const timersLeft = [...timers.values()];
    const resources = process.getActiveResourcesInfo();
    console.log(JSON.stringify({ closed: true, openSockets, timersLeft, resources, unhandled }));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
