import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../api/auth.js';
import { DEVELOPMENT_TOKEN_SECRET } from '../../platform/config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { projectRoot } from '../support/paths.js';

/** The script looks experts and institutions up: here in a private copy of the seeded template database. */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const run = promisify(execFile);
const token = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url },
  });

describe('npm run -s token', () => {
  it('prints signed development tokens for each role', async () => {
    const staff = await verifyToken((await token('staff')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(staff).toEqual({ role: 'staff', actor: 'staff:dev', staffRole: 'officer', via: 'development-token' });
    const expert = await verifyToken((await token('expert', 'exp-001')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(expert).toEqual({
      role: 'expert',
      actor: 'expert:exp-001',
      expertId: 'exp-001',
      via: 'development-token',
    });
    const applicant = await verifyToken((await token('applicant', 'zzu-cs')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(applicant).toEqual({
      role: 'applicant',
      actor: 'applicant:zzu-cs',
      institutionId: 'zzu-cs',
      via: 'development-token',
    });
  });

  it('refuses (exit 1, no token) an applicant or expert token for a record that does not exist (issue 14, point 11)', async () => {
    for (const [role, id, says] of [
      ['applicant', 'nowhere-university', 'no institution "nowhere-university"'],
      ['applicant', 'zzu-nope', 'no institution "zzu-nope"'],
      ['expert', 'exp-999', 'no expert "exp-999"'],
      // An institution is not an expert, nor the other way round.
      ['expert', 'zzu', 'no expert "zzu"'],
      ['applicant', 'exp-001', 'no institution "exp-001"'],
    ] as const) {
      await expect(token(role, id), `${role} ${id}`).rejects.toMatchObject({
        code: 1,
        stdout: '',
        stderr: expect.stringContaining(says),
      });
    }
  });

  it('says so when it cannot reach the database to check', async () => {
    await expect(
      run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', 'expert', 'exp-001'], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none' },
      }),
    ).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('database is not reachable') });
  });

  it('explains its usage when the role or id is missing', async () => {
    await expect(token('expert')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: npm run -s token'),
    });
  });

  it('signs with TOKEN_SECRET when one is set, so its tokens are not valid for other secrets', async () => {
    const secret = 'another-secret-of-sufficient-length-0123456789';
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', 'staff'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TOKEN_SECRET: secret },
    });
    await expect(verifyToken(stdout.trim(), secret)).resolves.toMatchObject({ role: 'staff' });
    await expect(verifyToken(stdout.trim(), DEVELOPMENT_TOKEN_SECRET)).rejects.toThrow();
  });
});
