import type { Client } from '@temporalio/client';
import { pingDatabase, type Db } from '../../db/knex.js';
import { z, type ApiRoutes } from '../route.js';

const CheckSchema = z.object({ status: z.enum(['ok', 'down']), latencyMs: z.number(), error: z.string().optional() });
const HealthSchema = z
  .object({ status: z.enum(['ok', 'degraded']), checks: z.object({ temporal: CheckSchema, database: CheckSchema }) })
  .openapi('Health');

/** The most each check waits for its answer. */
const CHECK_TIMEOUT_MS = 3_000;

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<z.infer<typeof CheckSchema>> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      status: 'down',
      latencyMs: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

export function healthRoutes(routes: ApiRoutes, deps: { db: Db; temporal: Client }): void {
  routes.add({
    method: 'get',
    path: '/healthz',
    summary: '健康检查：Temporal 与 PostgreSQL 均可用时返回 200',
    tags: ['运维'],
    access: 'public',
    responses: {
      200: { description: '全部可用', schema: HealthSchema },
      503: { description: '至少一项不可用', schema: HealthSchema },
    },
    async handler() {
      const [temporal, database] = await Promise.all([
        timed(
          // The call itself ends at the deadline: a timeout around it alone would leave it retrying in the background.
          () =>
            deps.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
              deps.temporal.connection.workflowService.describeNamespace({
                namespace: deps.temporal.options.namespace,
              }),
            ),
          CHECK_TIMEOUT_MS,
        ),
        timed(() => pingDatabase(deps.db), CHECK_TIMEOUT_MS),
      ]);
      const ok = temporal.status === 'ok' && database.status === 'ok';
      return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', checks: { temporal, database } } };
    },
  });
}
