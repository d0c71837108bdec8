import type { Clock } from '../../api/clock.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadConfig, type Config } from '../../platform/config.js';
import { testLogger, type TestStack } from './stack.js';

/**
 * A second API on a test stack's database, Temporal client and attachment store, with another config or clock
 * (the stack's own by default). The caller closes it.
 */
export function startAnotherApi(
  stack: TestStack,
  { config = stack.config, clock }: { config?: Config; clock?: Clock } = {},
): Promise<RunningApi> {
  return startApi({
    config,
    db: stack.database.db,
    temporal: stack.client,
    attachments: stack.attachments,
    logger: testLogger(),
    ...(clock ? { clock } : {}),
  });
}

/**
 * A second API on a test stack in production mode (NODE_ENV=production: development tokens refused, Secure
 * cookies, compressed time refused), with production-grade secrets and an HTTPS PUBLIC_BASE_URL; `env` adds to
 * or overrides its environment. Returns the API (the caller closes it) and its config.
 */
export async function startProductionApi(
  stack: TestStack,
  env: Record<string, string> = {},
): Promise<{ api: RunningApi; config: Config }> {
  const config = loadConfig({
    NODE_ENV: 'production',
    TOKEN_SECRET: 'x'.repeat(40),
    SESSION_SECRET: 'y'.repeat(40),
    PUBLIC_BASE_URL: 'https://ronghe.example.edu.cn',
    API_PORT: '0',
    DATABASE_URL: stack.database.url,
    SMTP_URL: stack.maildev.smtpUrl,
    TEMPORAL_ADDRESS: stack.temporal.address,
    ...env,
  });
  return { api: await startAnotherApi(stack, { config }), config };
}
