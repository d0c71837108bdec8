import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_LETTERHEAD, type Letterhead } from '../mail/templates/common.js';

/** The session cookie's signing secret used when none is configured. Refused in production mode. */
export const DEVELOPMENT_SESSION_SECRET = 'ronghe-development-only-session-secret-never-in-production';

/** The signing secret used when none is configured. Refused in production mode. */
export const DEVELOPMENT_TOKEN_SECRET = 'ronghe-development-only-secret-never-use-in-production';

/** A whole number from `min` to `max`, `fallback` when unset. */
const wholeNumber = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const port = (fallback: number) => wholeNumber(0, 65535, fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port(3000),
  PUBLIC_BASE_URL: optionalString,
  API_BODY_LIMIT: z.string().default('1mb'),

  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('ronghe'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_UI_URL: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_TEST_SERVER_PATH: optionalString,
  WORKFLOW_BUNDLE_PATH: optionalString,

  DATABASE_URL: optionalString,
  POSTGRES_PORT: port(5433),

  SMTP_URL: optionalString,
  SMTP_PORT: port(1025),
  MAIL_WEB_PORT: port(1080),
  MAIL_WEB_URL: optionalString,
  MAIL_FROM: z.string().default('noreply@ronghe.example'),
  NOTICE_ISSUER: z.string().trim().min(1).default(DEFAULT_LETTERHEAD.issuer),
  NOTICE_CONTACT_NAME: z.string().trim().min(1).default(DEFAULT_LETTERHEAD.contactName),
  NOTICE_CONTACT_PHONE: z
    .string()
    .trim()
    .regex(/^[0-9+()\- ]{5,30}$/, 'a telephone number: digits, spaces, + ( ) -')
    .default(DEFAULT_LETTERHEAD.contactPhone),
  STAFF_EMAIL: z.email().default('staff@ronghe.example'),

  TOKEN_SECRET: optionalString,
  TOKEN_TTL: z.string().default('12h'),
  SESSION_SECRET: optionalString,
  SESSION_IDLE_MINUTES: wholeNumber(1, 24 * 60, 30),
  SESSION_ABSOLUTE_HOURS: wholeNumber(1, 24 * 30, 12),
  ACCESS_TOKEN_MAX_DAYS: wholeNumber(1, 366, 90),
  OIDC_ISSUER: optionalString,
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_SCOPES: z.string().trim().min(1).default('openid email profile'),
  OIDC_STAFF_MFA: optionalString,

  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const parsed = parseTrustProxy(value);
      if (typeof parsed === 'object' && 'problem' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      }
      return parsed;
    }),
  OBJECTION_RATE_WINDOW_MINUTES: wholeNumber(1, 10_080, 60),
  OBJECTION_RATE_LIMIT: wholeNumber(1, 100_000, 20),
  OBJECTION_EMAIL_RATE_LIMIT: wholeNumber(1, 100_000, 10),
  OBJECTION_PUBLICITY_RATE_LIMIT: wholeNumber(1, 1_000_000, 1000),
  SIGNIN_RATE_WINDOW_MINUTES: wholeNumber(1, 10_080, 15),
  SIGNIN_ACCOUNT_RATE_LIMIT: wholeNumber(1, 100_000, 5),
  SIGNIN_ACCOUNT_TOTAL_RATE_LIMIT: wholeNumber(1, 100_000, 50),
  SIGNIN_ADDRESS_RATE_LIMIT: wholeNumber(1, 100_000, 100),
  RESET_EMAIL_RATE_LIMIT: wholeNumber(1, 100_000, 3),
  ATTACHMENTS_DIR: optionalString,
  ATTACHMENT_MAX_MB: z.coerce.number().positive().max(1024).default(20),

  OUTBOX_SWEEP_SECONDS: wholeNumber(1, 86_400, 60),
  OUTBOX_SWEEP_BATCH: wholeNumber(1, 1000, 100),
  OUTBOX_SWEEP_PARALLELISM: wholeNumber(1, 16, 2),
  OUTBOX_MAX_ATTEMPTS: wholeNumber(1, 100, 8),
  OUTBOX_RETRY_SECONDS: wholeNumber(1, 3600, 30),

  RONGHE_DATA_DIR: optionalString,
  RONGHE_CACHE_DIR: optionalString,
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  mode: Env['NODE_ENV'];
  production: boolean;
  logLevel: Env['LOG_LEVEL'];
  api: {
    host: string;
    port: number;
    publicBaseUrl: string | undefined;
    bodyLimit: string;
  };
  limits: RateLimitConfig;
  temporal: {
    /** Set when an external cluster is used; then nothing is started locally. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    port: number;
    uiPort: number;
    uiUrl: string | undefined;
    cliPath: string | undefined;
    testServerPath: string | undefined;
    /** A workflow bundle built ahead (`bundleWorkflowCode`); otherwise the worker bundles at start. */
    workflowBundlePath: string | undefined;
  };
  database: { url: string | undefined; port: number };
  /**
   * `from` is the sender as SMTP sees it: the letterhead's issuer as display name and MAIL_FROM's address, so
   * the name in a mail client is the signature under the notice.
   */
  smtp: { url: string | undefined; port: number; webPort: number; webUrl: string | undefined; from: string };
  /** The foot of every notice: issuing body, contact person and telephone (NOTICE_ISSUER, NOTICE_CONTACT_*). */
  letterhead: Letterhead;
  /** Where notices to staff go (flags, blocked reviews, summaries). */
  staffEmail: string;
  /**
   * `secret`/`ttl`: the development tokens (`npm run token`; refused by the API in production). `session`: the
   * browser session cookie (signed with `secret`; expires after `idleMinutes` without a request, and
   * `absoluteHours` after sign-in whatever the activity). `accessTokenMaxDays`: the longest a personal access
   * token may live.
   */
  auth: {
    secret: string;
    ttl: string;
    usingDevelopmentSecret: boolean;
    session: { secret: string; idleMinutes: number; absoluteHours: number };
    accessTokenMaxDays: number;
    /** Sign-in through the province's identity provider; `undefined` when OIDC_ISSUER is unset. */
    oidc: OidcConfig | undefined;
  };
  /** Attachments are files outside the database, content-addressed by SHA-256. */
  attachments: { dir: string; maxBytes: number };
  outbox: OutboxConfig;
  dataDir: string;
  cacheDir: string;
}

/**
 * Express's `trust proxy` setting (TRUST_PROXY): `false` trusts no proxy (the client address is the socket's
 * peer, `X-Forwarded-For` is ignored); a number trusts that many hops in front of the API; a list trusts the
 * proxies at those addresses or subnets (`10.0.0.1`, `10.0.0.0/8`, `loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustProxy = false | number | string[];

/** The names Express (proxy-addr) accepts for address ranges in `trust proxy`. */
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY as Express's `trust proxy` setting (see `TrustProxy`): unset, empty or `false` → `false`; digits →
 * a hop count; otherwise a comma-separated list of IPv4/IPv6 addresses, CIDR subnets (`10.0.0.0/8`) or the names
 * `loopback`, `linklocal`, `uniquelocal`. `true` is refused: trusting every hop lets any client choose the address
 * it is counted under.
 *
 * @returns the setting, or `{ problem }` saying what is wrong (English, for the operator).
 */
function parseTrustProxy(value: string | undefined): TrustProxy | { problem: string } {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') {
    return {
      problem:
        'true would trust every X-Forwarded-For, so any client could choose its own address; give the number of proxies in front of the API or their addresses',
    };
  }
  if (/^\d+$/.test(text)) return Number(text);
  const items = text.split(',').map((item) => item.trim());
  const bad = items.filter((item) => {
    if (TRUST_PROXY_NAMES.has(item)) return false;
    const [address, prefix, ...rest] = item.split('/');
    const family = net.isIP(address ?? '');
    if (family === 0 || rest.length > 0) return true;
    if (prefix === undefined) return false;
    if (!/^\d+$/.test(prefix)) return !(family === 4 && net.isIPv4(prefix));
    return Number(prefix) > (family === 4 ? 32 : 128);
  });
  if (bad.length > 0) {
    return {
      problem: `not an address, subnet or loopback/linklocal/uniquelocal: ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
    };
  }
  return items;
}

/**
 * Rate limits, counted in PostgreSQL (see `api/rate-limit.ts` and README "Rate limits"). Each limit is how many
 * requests one key may make in its window; windows are in milliseconds.
 */
export interface RateLimitConfig {
  /** Which proxies' `X-Forwarded-For` is believed (TRUST_PROXY, default none). */
  trustProxy: TrustProxy;
  /** Objections through the public API and page (OBJECTION_RATE_WINDOW_MINUTES, default 60). */
  objection: {
    windowMs: number;
    /** Per client address (OBJECTION_RATE_LIMIT, default 20). */
    perAddress: number;
    /** Per objector email, trimmed and lower-cased, across addresses (OBJECTION_EMAIL_RATE_LIMIT, default 10). */
    perEmail: number;
    /** Per publicity period, everyone together (OBJECTION_PUBLICITY_RATE_LIMIT, default 1000). */
    perPublicity: number;
  };
  /** Failed sign-in attempts (SIGNIN_RATE_WINDOW_MINUTES, default 15). */
  signIn: {
    windowMs: number;
    /**
     * Per account from one client address (SIGNIN_ACCOUNT_RATE_LIMIT, default 5): a guesser at one address is
     * stopped, the person at another is not.
     */
    perAccount: number;
    /**
     * Per account from every address together (SIGNIN_ACCOUNT_TOTAL_RATE_LIMIT, default 50): a ceiling against
     * guessing spread over many addresses. A completed password reset lifts both counts of the account.
     */
    perAccountTotal: number;
    /**
     * Per client address, whichever accounts (SIGNIN_ADDRESS_RATE_LIMIT, default 100: a university's staff may sign
     * in from behind one address).
     */
    perAddress: number;
    /**
     * Password-reset requests per email typed, answered or not, in the same window (RESET_EMAIL_RATE_LIMIT,
     * default 3): nobody can make the API send one person reset emails over and over.
     */
    resetPerEmail: number;
  };
}

/**
 * The outbox's retries and its sweeper (a Temporal workflow every worker starts if it is not running; see
 * README "Email outbox").
 */
export interface OutboxConfig {
  /** Seconds between sweeps of rows nobody is sending (OUTBOX_SWEEP_SECONDS, default 60). */
  sweepSeconds: number;
  /** Rows one sweep activity claims at most (OUTBOX_SWEEP_BATCH, default 100). */
  sweepBatch: number;
  /** Sweep activities at once, on any workers (OUTBOX_SWEEP_PARALLELISM, default 2). */
  sweepParallelism: number;
  /** Hand-overs to SMTP before a row is `failed` (OUTBOX_MAX_ATTEMPTS, default 8). */
  maxAttempts: number;
  /** Back-off after the first failure, doubled per attempt up to an hour (OUTBOX_RETRY_SECONDS, default 30). */
  retrySeconds: number;
}

/**
 * Sign-in through the province's OpenID Connect identity provider (README "Accounts", "Signing in through the
 * province's identity provider"). Set together: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET.
 */
export interface OidcConfig {
  /** The issuer identifier (OIDC_ISSUER); its `/.well-known/openid-configuration` is read on first use. */
  issuer: string;
  clientId: string;
  /** Sent with HTTP Basic authentication at the token endpoint (`client_secret_basic`, OAuth's default). */
  clientSecret: string;
  /** OIDC_SCOPES, space-separated, always with `openid` (default `openid email profile`). */
  scopes: string;
  /**
   * OIDC_STAFF_MFA: the `acr` values (comma-separated) that mean the provider checked a second factor. A staff
   * member whose ID token carries one is signed in without the TOTP code; otherwise (and when unset) staff give
   * their TOTP code after the provider's sign-in.
   */
  staffMfaAcr: string[];
}

/**
 * OIDC_* as `OidcConfig`, `undefined` when none is set, or the problems (English, for the operator): the three
 * required variables come together; the issuer is an http(s) URL without query or fragment, https in production
 * (http is for a provider on this machine in development and tests); the scopes include `openid`.
 */
function oidcConfigOf(e: Env, production: boolean): OidcConfig | undefined | { problems: string[] } {
  const required = {
    OIDC_ISSUER: e.OIDC_ISSUER,
    OIDC_CLIENT_ID: e.OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET: e.OIDC_CLIENT_SECRET,
  };
  const missing = Object.entries(required).filter(([, v]) => v === undefined);
  if (missing.length === 3) return undefined;
  const problems = missing.map(([k]) => `${k} is required with the other OIDC_ settings`);
  const issuer = e.OIDC_ISSUER === undefined ? undefined : URL.parse(e.OIDC_ISSUER);
  if (e.OIDC_ISSUER !== undefined) {
    if (!issuer || !['https:', 'http:'].includes(issuer.protocol) || issuer.search || issuer.hash) {
      problems.push("OIDC_ISSUER must be the provider's issuer URL (https://…, no query or fragment)");
    } else if (production && issuer.protocol !== 'https:') {
      problems.push('OIDC_ISSUER must use https in production');
    }
  }
  const scopes = e.OIDC_SCOPES.split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.push('OIDC_SCOPES must include openid');
  if (problems.length > 0) return { problems };
  return {
    issuer: e.OIDC_ISSUER!,
    clientId: e.OIDC_CLIENT_ID!,
    clientSecret: e.OIDC_CLIENT_SECRET!,
    scopes: scopes.join(' '),
    staffMfaAcr: (e.OIDC_STAFF_MFA ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  };
}

/**
 * The address people open, as emails link to it (no trailing slash): PUBLIC_BASE_URL (required in production),
 * else the API's own local address — API_HOST (a wildcard address read as 127.0.0.1) and `port` (default
 * API_PORT; the API passes the port a request reached, a test the port it started on). Never a request's Host
 * header: a link in an email must not point where a caller says.
 */
export function publicBaseUrlOf(config: Pick<Config, 'api'>, port: number = config.api.port): string {
  const configured = config.api.publicBaseUrl?.replace(/\/+$/, '');
  if (configured) return configured;
  const host = ['', '0.0.0.0', '::', '[::]'].includes(config.api.host) ? '127.0.0.1' : config.api.host;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${hostPart}:${port}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function xdg(envName: string, fallback: string[]): string {
  const fromEnv = process.env[envName];
  return fromEnv && path.isAbsolute(fromEnv) ? fromEnv : path.join(os.homedir(), ...fallback);
}

/**
 * Reads `.env` from the working directory when there is one (see `.env.example`). Variables already set in
 * the environment win over the file.
 */
export function loadDotEnv(file = '.env'): void {
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

/**
 * The sender for the letterhead's `issuer`: MAIL_FROM is an address (`noreply@ronghe.example`), or
 * `<issuer> <address>` when it names the issuer itself.
 *
 * @throws ConfigError when MAIL_FROM carries another display name: the sender would differ from the signature.
 */
function senderOf(mailFrom: string, issuer: string): string {
  const named = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+)>\s*$/.exec(mailFrom);
  const address = named ? named[2]! : mailFrom.trim();
  if (named && named[1] !== issuer) {
    throw new ConfigError(
      `Invalid configuration:\n  MAIL_FROM: the display name "${named[1]}" differs from NOTICE_ISSUER "${issuer}"; give the address alone`,
    );
  }
  if (!z.email().safeParse(address).success) {
    throw new ConfigError(`Invalid configuration:\n  MAIL_FROM: "${mailFrom}" is not an email address`);
  }
  return `${issuer} <${address}>`;
}

/** What is wrong with a secret production mode needs (`name`): unset, the development one, or short. */
function secretProblem(name: string, value: string | undefined, development: string): string | undefined {
  if (!value) return `${name} (a random string of at least 32 characters)`;
  if (value === development || value.length < 32) {
    return `${name} must be a real secret of at least 32 characters, not the development one`;
  }
  return undefined;
}

/** Parses and validates the environment once, at start-up. Fails fast with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production) {
    const missing = [
      secretProblem('TOKEN_SECRET', e.TOKEN_SECRET, DEVELOPMENT_TOKEN_SECRET),
      secretProblem('SESSION_SECRET', e.SESSION_SECRET, DEVELOPMENT_SESSION_SECRET),
    ].filter((problem) => problem !== undefined);
    if (!e.PUBLIC_BASE_URL) missing.push('PUBLIC_BASE_URL (the address people open; emails link to it)');
    if (!e.DATABASE_URL) missing.push('DATABASE_URL (production does not run embedded PostgreSQL)');
    if (!e.SMTP_URL) missing.push('SMTP_URL (production does not run the local mail sink)');
    if (!e.TEMPORAL_ADDRESS) missing.push('TEMPORAL_ADDRESS (production does not run the Temporal dev server)');
    if (missing.length > 0) {
      throw new ConfigError(`Refusing to start in production mode:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
    }
  }
  const oidc = oidcConfigOf(e, production);
  if (oidc && 'problems' in oidc) {
    throw new ConfigError(`Invalid configuration:\n${oidc.problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const secret = e.TOKEN_SECRET ?? DEVELOPMENT_TOKEN_SECRET;
  const dataDir = e.RONGHE_DATA_DIR ?? path.join(xdg('XDG_DATA_HOME', ['.local', 'share']), 'ronghe');
  return {
    mode: e.NODE_ENV,
    production,
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      publicBaseUrl: e.PUBLIC_BASE_URL,
      bodyLimit: e.API_BODY_LIMIT,
    },
    limits: {
      trustProxy: e.TRUST_PROXY,
      objection: {
        windowMs: e.OBJECTION_RATE_WINDOW_MINUTES * 60_000,
        perAddress: e.OBJECTION_RATE_LIMIT,
        perEmail: e.OBJECTION_EMAIL_RATE_LIMIT,
        perPublicity: e.OBJECTION_PUBLICITY_RATE_LIMIT,
      },
      signIn: {
        windowMs: e.SIGNIN_RATE_WINDOW_MINUTES * 60_000,
        perAccount: e.SIGNIN_ACCOUNT_RATE_LIMIT,
        perAccountTotal: e.SIGNIN_ACCOUNT_TOTAL_RATE_LIMIT,
        perAddress: e.SIGNIN_ADDRESS_RATE_LIMIT,
        resetPerEmail: e.RESET_EMAIL_RATE_LIMIT,
      },
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL,
      cliPath: e.TEMPORAL_CLI_PATH,
      testServerPath: e.TEMPORAL_TEST_SERVER_PATH,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    database: { url: e.DATABASE_URL, port: e.POSTGRES_PORT },
    smtp: {
      url: e.SMTP_URL,
      port: e.SMTP_PORT,
      webPort: e.MAIL_WEB_PORT,
      webUrl: e.MAIL_WEB_URL,
      from: senderOf(e.MAIL_FROM, e.NOTICE_ISSUER),
    },
    letterhead: { issuer: e.NOTICE_ISSUER, contactName: e.NOTICE_CONTACT_NAME, contactPhone: e.NOTICE_CONTACT_PHONE },
    staffEmail: e.STAFF_EMAIL,
    auth: {
      secret,
      ttl: e.TOKEN_TTL,
      usingDevelopmentSecret: secret === DEVELOPMENT_TOKEN_SECRET,
      session: {
        secret: e.SESSION_SECRET ?? DEVELOPMENT_SESSION_SECRET,
        idleMinutes: e.SESSION_IDLE_MINUTES,
        absoluteHours: e.SESSION_ABSOLUTE_HOURS,
      },
      accessTokenMaxDays: e.ACCESS_TOKEN_MAX_DAYS,
      oidc,
    },
    attachments: {
      dir: e.ATTACHMENTS_DIR ?? path.join(dataDir, 'attachments'),
      maxBytes: e.ATTACHMENT_MAX_MB * 1024 * 1024,
    },
    outbox: {
      sweepSeconds: e.OUTBOX_SWEEP_SECONDS,
      sweepBatch: e.OUTBOX_SWEEP_BATCH,
      sweepParallelism: e.OUTBOX_SWEEP_PARALLELISM,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      retrySeconds: e.OUTBOX_RETRY_SECONDS,
    },
    dataDir,
    cacheDir: e.RONGHE_CACHE_DIR ?? path.join(xdg('XDG_CACHE_HOME', ['.cache']), 'ronghe'),
  };
}
