import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import express, { type Express, type Request } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type pino from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { Db } from '../db/knex.js';
import { CalendarRepository } from '../db/repositories/calendar.js';
import { publicBaseUrlOf, type Config } from '../platform/config.js';
import type { AttachmentStore } from '../storage/attachments.js';
import { systemClock, type Clock } from './clock.js';
import { authenticate, principalsIn } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { jsonBody, refuseNonUtf8Url } from './json.js';
import { ApiRoutes, type RouteEntry } from './route.js';
// After route.js (it extends zod with .openapi): these load schemas that use it.
import { Outbox } from '../mail/outbox.js';
import { createSmtpTransport } from '../mail/transport.js';
import { accountPageErrors, accountPages } from './pages.accounts.js';
import { oidcPages } from './pages.oidc.js';
import { assignmentLinkPages } from './pages.assignment-links.js';
import { OidcProvider } from '../services/oidc.js';
import { accountRoutes } from './routes/accounts.js';
import { accountImportRoutes } from './routes/accounts.imports.js';
import { referenceDataRoutes } from './routes/reference-data.js';
import { referenceExpertRoutes } from './routes/reference-experts.js';
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
import { errorPage, publicPages } from './pages.js';
import { objectionLimits, RateLimits, signInLimits } from './rate-limit.js';
import { programmeRoutes } from './routes/programmes.js';
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

/**
 * Where links in emails point: PUBLIC_BASE_URL (required in production), else the API's own local address —
 * API_HOST (a wildcard address read as 127.0.0.1) and the port the request's socket reached. Never the Host
 * header or X-Forwarded-Host: a password reset requested with `Host: evil.example` must not mail a link there.
 * No trailing slash.
 */
function emailBaseUrl(config: Config): (req: Request) => string {
  return (req) => publicBaseUrlOf(config, req.socket.localPort ?? config.api.port);
}

/**
 * The API app. `rateLimits` holds its limits (counted in PostgreSQL): start it before serving. `close` ends what
 * the app holds — the session store's pool and prune timer, the rate limits' pools, and its own SMTP transport
 * (not an outbox passed in) — after the server stopped (`startApi` does both).
 */
export function createApp(apiDeps: ApiDeps): {
  app: Express;
  openapi: ReturnType<ApiRoutes['document']>;
  /** The API's routes (`ApiRoutes.table`). */
  routes: readonly RouteEntry[];
  rateLimits: RateLimits;
  close(): Promise<void>;
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
  programmeRoutes(routes, deps);
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
  // The API's own SMTP transport when no outbox is passed in: closed with the app.
  const transport = deps.outbox
    ? undefined
    : createSmtpTransport(deps.config.smtp.url ?? `smtp://127.0.0.1:${deps.config.smtp.port}`);
  const outbox =
    deps.outbox ??
    new Outbox(
      deps.db,
      transport!,
      deps.config.smtp.from,
      deps.logger,
      {},
      { maxAttempts: deps.config.outbox.maxAttempts, retrySeconds: deps.config.outbox.retrySeconds },
      deps.config.letterhead,
    );
  const baseUrlOf = emailBaseUrl(deps.config);
  // Failed sign-in attempts are counted per account and per address (api/rate-limit.ts), by the sign-in code
  // itself (api/sign-in.ts) right before each password or TOTP check.
  const limitsOfSignIn = signInLimits(rateLimits, deps.config.limits.signIn);
  // An email naming no account is audited as its digest keyed with the session secret (never in clear).
  const accountDeps = {
    db: deps.db,
    outbox,
    clock: deps.clock,
    baseUrlOf,
    auditKey: deps.config.auth.session.secret,
    signInLimits: limitsOfSignIn,
  };
  const oidcProvider = deps.config.auth.oidc ? new OidcProvider(deps.config.auth.oidc) : undefined;
  const accountRouteDeps = { ...accountDeps, accessTokenMaxDays: deps.config.auth.accessTokenMaxDays };
  accountRoutes(routes, accountRouteDeps);
  accountImportRoutes(routes, accountRouteDeps);
  referenceDataRoutes(routes, deps);
  referenceExpertRoutes(routes, deps);
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
  const browserSessions = sessions(deps.db, {
    secret: deps.config.auth.session.secret,
    idleMinutes: deps.config.auth.session.idleMinutes,
    production: deps.config.production,
  });
  app.use(browserSessions.middleware);
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
  if (oidcProvider) app.use(oidcPages({ ...accountDeps, provider: oidcProvider }));
  app.use(accountPages({ ...accountDeps, oidc: oidcProvider !== undefined }));
  // Experts act from the email: the assignment link's pages (a session ended meanwhile answered as a page too).
  app.use('/review', accountPageErrors);
  app.use(assignmentLinkPages({ ...accountDeps, letterhead: deps.config.letterhead }));
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
  app.use(errorHandler(deps.logger, errorPage));
  const close = async () => {
    await Promise.allSettled([browserSessions.close(), rateLimits.close()]);
    transport?.close();
  };
  return { app, openapi, routes: routes.table, rateLimits, close };
}
