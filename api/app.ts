import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type pino from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { Db } from '../db/knex.js';
import { CalendarRepository } from '../db/repositories/calendar.js';
import type { Config } from '../platform/config.js';
import type { AttachmentStore } from '../storage/attachments.js';
import { systemClock, type Clock } from './clock.js';
import { authenticate, principalsIn } from './auth.js';
import { errorHandler, notFoundHandler, problemFor } from './errors.js';
import { jsonBody, refuseNonUtf8Url } from './json.js';
import { ApiRoutes } from './route.js';
// After route.js (it extends zod with .openapi): these load schemas that use it.
import { Outbox } from '../mail/outbox.js';
import { createSmtpTransport } from '../mail/transport.js';
import { accountPages } from './pages.accounts.js';
import { oidcPages } from './pages.oidc.js';
import { OidcProvider } from '../services/oidc.js';
import { escape, page, send } from './pages.js';
import { accountRoutes } from './routes/accounts.js';
import { csrfGuard, sessions } from './session.js';
import { applicationRoutes } from './routes/round.applications.js';
import { attachmentRoutes } from './routes/round.attachments.js';
import { submissionRoutes } from './routes/round.submissions.js';
import { calendarRoutes } from './routes/calendar.js';
import { memberRoutes } from './routes/member.js';
import { evaluationRoutes } from './routes/evaluation.js';
import { eventRoutes } from './routes/event.js';
import { projectRoutes } from './routes/project.js';
import { showcaseRoutes } from './routes/showcase.js';
import { scheduleRoutes } from './routes/schedule.js';
import { healthRoutes } from './routes/health.js';
import { outboxRoutes } from './routes/outbox.js';
import { receiptRoutes } from './routes/receipts.js';
import { publicityRoutes } from './routes/publicity.js';
import { reviewRoutes } from './routes/review.js';
import { workflowRoutes } from './routes/workflows.js';
import { publicPages } from './pages.js';
import { objectionLimits, RateLimits, signInLimits } from './rate-limit.js';
import { roundRoutes } from './routes/round.js';
import { roundLaunchRoutes } from './routes/round.launch.js';
import { shortlistRoutes } from './routes/round.shortlist.js';

export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: Client;
  attachments: AttachmentStore;
  logger: pino.Logger;
  /** Stamps receipt times; the system clock unless a test brings the time-skipping server's. */
  clock?: Clock;
  /**
   * Sends the account emails (invitations, password resets) the API writes to the outbox; by default one over
   * SMTP_URL (a row it cannot send stays pending for the worker's outbox sweeper).
   */
  outbox?: Outbox;
}

const API_VERSION = '0.1.0';

/** An error before an account page ran (an ended session, a store failure) as a zh-CN page with its status. */
const accountPageErrors: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const { problem, known } = problemFor(err, req);
  if (!known || problem.status >= 500) req.log?.error({ err }, 'account page failed');
  const title = problem.code === 'SESSION_ENDED' ? '登录已失效' : problem.title;
  send(
    res.status(problem.status),
    problem.status,
    page(
      title,
      `<h1>${escape(title)}</h1><div class="error"><p>${escape(problem.detail ?? problem.title)}</p></div><p><a href="/account/sign-in">重新登录</a></p>`,
    ),
  );
};

/**
 * The API app. `rateLimits` holds its limits (counted in PostgreSQL): start it before serving and close it with
 * the app (`startApi` does both).
 */
export function createApp(apiDeps: ApiDeps): {
  app: Express;
  openapi: ReturnType<ApiRoutes['document']>;
  rateLimits: RateLimits;
} {
  const deps = { ...apiDeps, clock: apiDeps.clock ?? systemClock };
  const rateLimits = new RateLimits({ db: deps.db, logger: deps.logger });
  const limits = objectionLimits(rateLimits, deps.config.limits.objection);
  const routes = new ApiRoutes({ db: deps.db, clock: deps.clock, temporal: deps.temporal });
  const calendar = new CalendarRepository(deps.db);
  healthRoutes(routes, deps);
  calendarRoutes(routes, { db: deps.db, calendar, temporal: deps.temporal, logger: deps.logger });
  roundLaunchRoutes(routes, deps);
  roundRoutes(routes, deps);
  applicationRoutes(routes, deps);
  attachmentRoutes(routes, deps);
  submissionRoutes(routes, deps);
  reviewRoutes(routes, deps);
  shortlistRoutes(routes, deps);
  publicityRoutes(routes, { ...deps, limits });
  memberRoutes(routes, deps);
  evaluationRoutes(routes, deps);
  scheduleRoutes(routes, deps);
  eventRoutes(routes, deps);
  projectRoutes(routes, deps);
  showcaseRoutes(routes, deps);
  outboxRoutes(routes, deps);
  receiptRoutes(routes, deps);
  workflowRoutes(routes, deps);
  const outbox =
    deps.outbox ??
    new Outbox(
      deps.db,
      createSmtpTransport(deps.config.smtp.url ?? `smtp://127.0.0.1:${deps.config.smtp.port}`),
      deps.config.smtp.from,
      deps.logger,
      {},
      { maxAttempts: deps.config.outbox.maxAttempts, retrySeconds: deps.config.outbox.retrySeconds },
      deps.config.letterhead,
    );
  // Links in emails: PUBLIC_BASE_URL (required in production), else the address this request came to.
  const baseUrlOf = (req: Request) =>
    (deps.config.api.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`).replace(/\/+$/, '');
  // Failed sign-in and password-reset attempts are counted per account (the email typed) and per address.
  const signInAttempts = signInLimits(rateLimits, deps.config.limits.signIn);
  const accountDeps = { db: deps.db, outbox, clock: deps.clock, baseUrlOf };
  const oidcProvider = deps.config.auth.oidc ? new OidcProvider(deps.config.auth.oidc) : undefined;
  routes.router.post('/api/session', ...signInAttempts);
  accountRoutes(routes, { ...accountDeps, accessTokenMaxDays: deps.config.auth.accessTokenMaxDays });
  const openapi = routes.document({ version: API_VERSION, serverUrl: deps.config.api.publicBaseUrl });

  const app = express();
  app.disable('x-powered-by');
  // Whose X-Forwarded-For is believed for req.ip (the rate limits' client address): TRUST_PROXY, none by default.
  app.set('trust proxy', deps.config.limits.trustProxy);
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // One short line per request; never headers (they carry bearer tokens).
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req) => req.url === '/healthz' },
    }),
  );
  // Plain-HTTP deployments (a LAN address, docker-compose) must still load the docs' assets.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // Before anything reads req.query or req.params: a path or query that is not UTF-8 is refused, not guessed at.
  app.use(refuseNonUtf8Url);
  // The public pages read their own form posts (any content type answered with a page), before the API's JSON.
  app.use(publicPages({ db: deps.db, temporal: deps.temporal, limits, clock: deps.clock }));
  // Browser sessions (PostgreSQL), then who is asking: a bearer token, else the session's account.
  app.use(
    sessions(deps.db, {
      secret: deps.config.auth.session.secret,
      idleMinutes: deps.config.auth.session.idleMinutes,
      production: deps.config.production,
    }),
  );
  app.use(
    authenticate({
      db: deps.db,
      clock: deps.clock,
      secret: deps.config.auth.secret,
      production: deps.config.production,
      sessionAbsoluteMs: deps.config.auth.session.absoluteHours * 3_600_000,
      check: principalsIn(deps.db),
    }),
  );
  // The account pages answer with pages, also when the session has just ended.
  app.use('/account', accountPageErrors);
  // Sign-in through the province's identity provider, when OIDC_ISSUER is configured.
  if (oidcProvider) app.use(oidcPages({ db: deps.db, clock: deps.clock, provider: oidcProvider, baseUrlOf }));
  app.use(accountPages({ ...accountDeps, signInAttempts, oidc: oidcProvider !== undefined }));
  app.use(jsonBody(deps.config.api.bodyLimit));
  app.use(csrfGuard(deps.db));

  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' }, customSiteTitle: 'ronghe API 文档' }),
  );
  app.get('/', (_req, res) => {
    res.redirect('/docs');
  });
  app.use(routes.router);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return { app, openapi, rateLimits };
}
