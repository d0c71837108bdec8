import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { freePort } from '../../infra/ports.js';
import { DEVELOPMENT_TOKEN_SECRET } from '../../platform/config.js';
import { projectRoot } from '../support/paths.js';

/**
 * README command 1, as a user runs it: the start script brings up every service on its own, prints where
 * everything is, stops cleanly on Ctrl-C (SIGINT), and a second start finds the data of the first.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-start-'));
fs.chmodSync(dataDir, 0o755);
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
}

async function start(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 90_000);
    const check = () => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output };
}

async function stop({ child }: Started): Promise<number | null> {
  child.kill('SIGINT');
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm start', () => {
  it('when started twice on the same data folder, then it prints the URLs, serves them, stops cleanly and keeps the rounds', async () => {
    const ports = {
      API_PORT: await freePort(),
      TEMPORAL_PORT: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      SMTP_PORT: await freePort(),
      MAIL_WEB_PORT: await freePort(),
      POSTGRES_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      RONGHE_DATA_DIR: dataDir,
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const api = `http://127.0.0.1:${ports.API_PORT}`;
    const staff = await signToken({ role: 'staff', id: 'npm-start' }, DEVELOPMENT_TOKEN_SECRET);

    const first = await start(env);
    for (const line of [
      `API              ${api}`,
      `OpenAPI docs     ${api}/docs`,
      `Temporal UI      http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`,
      `Mail web view    http://127.0.0.1:${ports.MAIL_WEB_PORT}/index.html`,
    ]) {
      expect(first.output()).toContain(line);
    }
    expect(first.output()).toMatch(/\[1\/8\][\s\S]*\[8\/8\] Starting the API — done/);
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.MAIL_WEB_PORT}/index.html`)).status).toBe(200);
    expect((await fetch(`${api}/docs/`)).status).toBe(200);

    const launch = await fetch(`${api}/api/rounds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ programme: 'teacher_station', year: 2027 }),
    });
    expect(launch.status).toBe(201);
    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('Stopped.');

    const second = await start(env);
    const round = await fetch(`${api}/api/rounds/round-teacher_station-2027`, {
      headers: { Authorization: `Bearer ${staff}` },
    });
    expect(round.status).toBe(200);
    const body = (await round.json()) as { workflow: { status: string } | null };
    expect(body.workflow?.status).toBe('RUNNING');
    expect(second.output()).toContain('already up to date');
    expect(await stop(second)).toBe(0);
  });

  it('when production mode has no real signing secret, then it refuses to start and says why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', RONGHE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('Refusing to start in production mode');
    expect(output).toContain('TOKEN_SECRET');
  });
});
