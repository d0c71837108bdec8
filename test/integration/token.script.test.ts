import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../api/auth.js';
import { DEVELOPMENT_TOKEN_SECRET } from '../../platform/config.js';
import { projectRoot } from '../support/paths.js';

const run = promisify(execFile);
const token = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });

describe('npm run -s token', () => {
  it('prints signed development tokens for each role', async () => {
    const staff = await verifyToken((await token('staff')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(staff).toEqual({ role: 'staff', actor: 'staff:dev' });
    const expert = await verifyToken((await token('expert', 'exp-001')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(expert).toEqual({ role: 'expert', actor: 'expert:exp-001', expertId: 'exp-001' });
    const applicant = await verifyToken((await token('applicant', 'zzu-cs')).stdout.trim(), DEVELOPMENT_TOKEN_SECRET);
    expect(applicant).toEqual({ role: 'applicant', actor: 'applicant:zzu-cs', institutionId: 'zzu-cs' });
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
