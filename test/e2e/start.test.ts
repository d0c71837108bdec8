import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../api/auth.js';
import { freePort } from '../../local-stack/ports.js';
import { DEVELOPMENT_TOKEN_SECRET } from '../../platform/config.js';
import { projectRoot } from '../support/paths.js';

/**
 * README command 1, as a user runs it: the start script brings up every service on its own, prints where
 * everything is, stops cleanly on Ctrl-C (SIGINT), and a second start finds the data of the first.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-start-'));
fs.chmodSync(dataDir, 0o755);
const running: ChildProcess[] = [];

afterAll(async () => {
  // A failed test must not leave its Temporal, PostgreSQL or maildev (each runs in a process group of its own):
  // a start still running is asked to stop as Ctrl-C would, and killed only if it has not within a minute.
  for (const child of running.filter((c) => c.exitCode === null && c.signalCode === null)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
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

const PORT_VARIABLES = [
  'API_PORT',
  'TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'SMTP_PORT',
  'MAIL_WEB_PORT',
  'POSTGRES_PORT',
] as const;

/**
 * Free ports are asked of the kernel, but other test files start servers at the same time and may take
 * one first; the start script then refuses with "already in use", and we try again on new ports.
 */
async function startOnFreePorts(baseEnv: NodeJS.ProcessEnv) {
  for (let attempt = 1; ; attempt++) {
    const ports = Object.fromEntries(
      await Promise.all(PORT_VARIABLES.map(async (v) => [v, await freePort()] as const)),
    ) as Record<(typeof PORT_VARIABLES)[number], number>;
    const env = { ...baseEnv, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
    try {
      return { first: await start(env), ports, env };
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('already in use')) throw err;
    }
  }
}

describe('npm start', () => {
  it('when started twice on the same data folder, then it prints the URLs, serves them, stops cleanly and keeps the rounds', async () => {
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      RONGHE_DATA_DIR: dataDir,
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
    };
    const { first, ports, env } = await startOnFreePorts(baseEnv);
    const api = `http://127.0.0.1:${ports.API_PORT}`;
    const staff = await signToken({ role: 'staff', id: 'npm-start' }, DEVELOPMENT_TOKEN_SECRET);

    for (const line of [
      `API              ${api}`,
      `OpenAPI docs     ${api}/docs`,
      `Temporal UI      http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`,
      `Mail web view    http://127.0.0.1:${ports.MAIL_WEB_PORT}/`,
    ]) {
      expect(first.output()).toContain(line);
    }
    expect(first.output()).toMatch(/\[1\/8\][\s\S]*\[8\/8\] Starting the API — done/);
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200);
    // maildev 3 serves its web view at the root to browsers (Accept: text/html), with the <base> its client needs.
    const mailView = await fetch(`http://127.0.0.1:${ports.MAIL_WEB_PORT}/`, { headers: { Accept: 'text/html' } });
    expect(mailView.status).toBe(200);
    expect(await mailView.text()).toContain('<base href="/"');
    expect((await fetch(`${api}/docs/`)).status).toBe(200);

    const launch = await fetch(`${api}/api/rounds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ programme: 'teacher_station', year: 2027 }),
    });
    expect(launch.status).toBe(201);
    // README "Trying the API": the Temporal CLI through npm, pointed at this stack's server.
    const listed = await new Promise<string>((resolve, reject) => {
      const cli = spawn(
        process.execPath,
        ['--import', 'tsx', 'scripts/temporal.ts', 'workflow', 'list', '--query', "Programme='teacher_station'"],
        {
          cwd: projectRoot,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
      cli.stderr.on('data', (c: Buffer) => (out += c.toString()));
      cli.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`temporal exited ${code}: ${out}`))));
    });
    expect(listed).toContain('round-teacher_station-2027');
    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('Stopped.');

    // Ports may differ the second time; the data folder is what carries the rounds over.
    const { first: second, ports: again } = await startOnFreePorts(baseEnv);
    const round = await fetch(`http://127.0.0.1:${again.API_PORT}/api/rounds/round-teacher_station-2027`, {
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
