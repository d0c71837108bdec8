import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../platform/config.js';
import { projectRoot } from '../support/paths.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: unknown };
  volumes?: string[];
}

const compose = parse(fs.readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
const envExample = fs.readFileSync(path.join(projectRoot, '.env.example'), 'utf8');

/** Rows of the README's "Services and ports" table: service, default port, variable, compose service. */
function readmeServices(): { name: string; port: number | undefined; variable: string | undefined; compose: string }[] {
  const section = readme.split('## Services and ports')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.includes('---') && !line.includes('default port'))
    .map((line) => {
      const [name, port, variable, service] = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replaceAll('`', ''));
      return {
        name: name!,
        port: port === '—' ? undefined : Number(port),
        variable: variable === '—' ? undefined : variable,
        compose: service!,
      };
    });
}

describe('docker-compose.yml', () => {
  const rows = readmeServices();

  it('names in the README every service the stack has', () => {
    expect(rows.map((r) => r.name)).toEqual([
      'API',
      'Temporal frontend',
      'Temporal Web UI',
      'SMTP (maildev)',
      'Mail web view',
      'PostgreSQL',
      'Worker',
    ]);
  });

  it.each(readmeServices())('defines $name as service "$compose" with its published port', (row) => {
    const service = compose.services[row.compose];
    expect(service, row.compose).toBeDefined();
    if (row.port !== undefined) {
      expect(service!.ports ?? []).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${row.port}:\\d+$`))]),
      );
    }
  });

  it('documents each port with the same default in the README, .env.example and the code', () => {
    const defaults = loadConfig({});
    const codeDefaults: Record<string, number> = {
      API_PORT: defaults.api.port,
      TEMPORAL_PORT: defaults.temporal.port,
      TEMPORAL_UI_PORT: defaults.temporal.uiPort,
      SMTP_PORT: defaults.smtp.port,
      MAIL_WEB_PORT: defaults.smtp.webPort,
      POSTGRES_PORT: defaults.database.port,
    };
    for (const row of rows.filter((r) => r.variable)) {
      expect(codeDefaults[row.variable!], row.variable).toBe(row.port);
      expect(envExample).toContain(`${row.variable}=${row.port}`);
    }
  });

  it('gives the worker and the API production settings for every service they use', () => {
    for (const name of ['worker', 'api', 'migrate']) {
      const env = compose.services[name]!.environment!;
      expect(env, name).toMatchObject({
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: 'temporal:7233',
        SMTP_URL: 'smtp://mail:1025',
      });
      expect(String(env.DATABASE_URL)).toMatch(/^postgres:\/\/.+@db:5432\/ronghe$/);
      expect(String(env.TOKEN_SECRET)).toContain('TOKEN_SECRET');
      expect(compose.services[name]!.build).toBeDefined();
    }
    // Each process loads a config that production mode accepts.
    expect(() => loadConfig({ ...compose.services.api!.environment, TOKEN_SECRET: 'x'.repeat(40) })).not.toThrow();
  });

  it('health-checks every long-running service that others wait on', () => {
    for (const name of ['temporal-db', 'temporal', 'temporal-ui', 'db', 'mail', 'api']) {
      expect(compose.services[name]!.healthcheck, name).toBeDefined();
    }
    expect(compose.services.worker!.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      temporal: { condition: 'service_healthy' },
    });
  });

  it('when the API stores an upload, then the worker reads it: both mount one attachments volume where ATTACHMENTS_DIR points', () => {
    const dockerfile = fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    const mounts = (name: string) =>
      (compose.services[name]!.volumes ?? []).map((v) => {
        const [volume, target] = v.split(':');
        return { volume: volume!, target: target! };
      });
    const dir = String(compose.services.api!.environment!.ATTACHMENTS_DIR);
    expect(dir).toMatch(/^\//);
    expect(String(compose.services.worker!.environment!.ATTACHMENTS_DIR)).toBe(dir);
    const apiMount = mounts('api').find((m) => m.target === dir);
    const workerMount = mounts('worker').find((m) => m.target === dir);
    expect(apiMount, 'api mounts the attachments folder').toBeDefined();
    expect(workerMount?.volume, 'worker mounts the same volume').toBe(apiMount!.volume);
    expect(Object.keys(compose.volumes ?? {})).toContain(apiMount!.volume);
    // A named volume starts as a copy of the image's folder: the app's user must own it to write uploads.
    expect(dockerfile).toContain(`chown node:node ${dir}`);
  });

  it('runs the worker and the API with the entry points this repository has', () => {
    for (const name of ['worker', 'api', 'migrate']) {
      const entry = compose.services[name]!.command!.at(-1)!;
      expect(fs.existsSync(path.join(projectRoot, entry)), entry).toBe(true);
    }
  });
});
