// The one place that reads the environment. Every problem is collected so a person fixes
// their `.env` once, not one complaint at a time.
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

export type ZendeskAuth =
  | { kind: 'token'; email: string; token: string }
  | { kind: 'oauth'; token: string };

export interface ZendeskConfig {
  baseUrl: string;
  auth: ZendeskAuth;
  requestTimeoutMs: number;
}

export interface Config {
  /** Unset means: use the embedded Postgres kept under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  rateLimit: number;
  exportRateLimit: number;
  /** convlog's share of Zendesk's account-wide limit (tickets by id, groups, brands, organizations). */
  accountRateLimit: number;
  concurrency: number;
  logLevel: string;
  redactSystemMetadata: boolean;
  /** What a ticket Zendesk deleted leaves behind: `purge` removes its rows, `keep` marks them deleted. */
  onDelete: OnDelete;
  /** Tickets larger than a page are read again from their first event at least this often. */
  fullResyncDays: number;
  /** The share (0..1) of a minute's conversation-log budget each backfill spends on those full reads. */
  fullResyncShare: number;
  /** Present when the environment names an account and credentials. */
  zendesk: ZendeskConfig | undefined;
  /** Why `zendesk` is missing, for commands that need it. */
  zendeskProblems: string[];
  /** `convlog serve` and `convlog webhook test`. */
  serve: ServeConfig;
}

/** Where `convlog serve` listens unless told otherwise. */
export const DEFAULT_SERVE_PORT = 8787;
/** The role `convlog grant-readonly` creates when given no name. */
export const DEFAULT_READONLY_ROLE = 'convlog_readonly';
/** A signed request whose timestamp is further than this from now is refused (replay window). */
export const DEFAULT_WEBHOOK_MAX_AGE_SECONDS = 300;
/**
 * Tickets in flight per worker process, CONVLOG_CONCURRENCY and `--concurrency` alike: each holds
 * a page of events in memory, so a typo such as 100000 would exhaust the heap.
 */
export const MAX_CONCURRENCY = 256;
/** CONVLOG_REQUEST_TIMEOUT, in seconds: an hour. Timers overflow past 2,147,483 s. */
export const MAX_REQUEST_TIMEOUT_SECONDS = 3_600;
/**
 * Requests per minute for any of the three rate limits. Far above any Zendesk plan (2,500), it
 * leaves the benchmarks their 1,000,000; the shared budgets store a limit as a 32-bit integer.
 */
export const MAX_RATE_LIMIT = 1_000_000;
/** CONVLOG_FULL_RESYNC_DAYS: ten years, which is never in practice. */
export const MAX_FULL_RESYNC_DAYS = 3_650;

export interface ServeConfig {
  /** Signing secrets in any order: a request signed with any of them is accepted. Empty unless set. */
  secrets: string[];
  maxAgeSeconds: number;
  /** Unset: every interface. */
  host: string | undefined;
  port: number;
}

export const ON_DELETE_MODES = ['purge', 'keep'] as const;
export type OnDelete = (typeof ON_DELETE_MODES)[number];

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number from 1 to `max`; `unit` words the maximum in its message ("seconds"). */
function positiveInteger(fallback: number, max: number, unit = '') {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a positive integer, got "${value}"` });
      return z.NEVER;
    }
    if (n > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max}${unit ? ` ${unit}` : ''}, got "${value}"` });
      return z.NEVER;
    }
    return n;
  });
}

function oneOf<T extends string>(values: readonly T[], fallback: T) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (!values.includes(lower)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got "${value}"` });
      return z.NEVER;
    }
    return lower;
  });
}

const boolean = optionalText.transform((value, ctx) => {
  if (value === undefined) return false;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  ctx.addIssue({ code: 'custom', message: `must be true or false, got "${value}"` });
  return z.NEVER;
});

/** The port of a URL's authority (after any user name and password), as written. */
function writtenPort(url: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  return /:(\d*)$/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
}

function badPort(url: string): string | undefined {
  const port = writtenPort(url);
  if (port === undefined || port === '') return undefined;
  const n = Number(port);
  return n >= 1 && n <= 65_535 ? undefined : `has port ${port}: a port is from 1 to 65535`;
}

// Never quoted in a message: a user name, password or query may hold a credential.
const httpUrl = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!/^https?:\/\/[^\s/]+/i.test(v)) return problem('must be an http(s) URL such as https://acme.zendesk.com');
  // fetch refuses such a URL on every request, and its error quotes the password.
  const authority = /^https?:\/\/([^/?#]*)/i.exec(v)?.[1] ?? '';
  if (authority.includes('@')) {
    return problem('must not carry a user name or password: use ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN');
  }
  const port = badPort(v);
  if (port) return problem(port);
  if (!URL.canParse(v)) return problem('is not a valid URL: give one such as https://acme.zendesk.com');
  // Request paths are appended to the base URL: a query or fragment would end up in the middle.
  if (/[?#]/.test(v)) return problem('must not have a query string (?...) or fragment (#...): give the root, such as https://acme.zendesk.com');
});

const postgresUrl = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  if (!/^postgres(ql)?:\/\/\S+$/i.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be a postgres:// URL such as postgres://user:password@localhost:5432/convlog' });
    return;
  }
  // A port out of range is not a character to percent-encode.
  const port = badPort(v);
  if (port) {
    ctx.addIssue({ code: 'custom', message: port });
    return;
  }
  // A Postgres URL has no fragment, so a # can only be a password character, which cuts the URL
  // short (often into a valid one with the wrong host). The other characters fail to parse.
  const special = v.includes('#') ? 'contains "#"' : !URL.canParse(v) ? 'is not a valid URL' : undefined;
  if (special) {
    ctx.addIssue({
      code: 'custom',
      message: `${special}: percent-encode special characters in the user name or password (# as %23, @ as %40, : as %3A, / as %2F, ? as %3F, % as %25)`,
    });
  }
});

/**
 * node-postgres 8 treats sslmode=prefer, require and verify-ca as verify-full (the server's
 * certificate and host name are checked) and prints a nine-line warning on every start that
 * version 9 will weaken them to libpq's meaning. convlog asks for verify-full by name: the same
 * connection, no warning. With uselibpqcompat=true in the URL, pg follows libpq and the URL is
 * left as given (pg reads the parameter only in lower case, and only "true").
 */
export function explicitSslMode(url: string): string {
  const query = url.indexOf('?');
  if (query < 0 || /[?&]uselibpqcompat=true(?=&|$)/.test(url)) return url;
  return url.slice(0, query) + url.slice(query).replace(/([?&])sslmode=(?:prefer|require|verify-ca)(?=&|$)/g, '$1sslmode=verify-full');
}

const subdomain = optionalText.refine((v) => v === undefined || /^[a-z0-9][a-z0-9-]*$/i.test(v), {
  message: 'must be the account name only, such as "acme" for https://acme.zendesk.com',
});

// convlog serve: webhooks
const webhookSecrets = optionalText.transform((value, ctx) => {
  const secrets = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // Zendesk's secrets are long random strings; a short one is a typo or a placeholder.
  if (secrets.some((s) => s.length < 8)) {
    ctx.addIssue({ code: 'custom', message: 'has a secret shorter than 8 characters' });
    return z.NEVER;
  }
  return secrets;
});

function integerFrom(min: number, max: number, fallback: number, what: string) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be ${what} from ${min} to ${max}, got "${value}"` });
      return z.NEVER;
    }
    return n;
  });
}

const MISSING_WEBHOOK_SECRET = 'CONVLOG_WEBHOOK_SECRET is missing: set the webhook signing secret (several, comma-separated, while rotating)';

const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  CONVLOG_DATA_DIR: optionalText,
  ZENDESK_SUBDOMAIN: subdomain,
  ZENDESK_BASE_URL: httpUrl,
  ZENDESK_EMAIL: optionalText,
  ZENDESK_API_TOKEN: optionalText,
  ZENDESK_OAUTH_TOKEN: optionalText,
  CONVLOG_RATE_LIMIT: positiveInteger(100, MAX_RATE_LIMIT),
  CONVLOG_EXPORT_RATE_LIMIT: positiveInteger(10, MAX_RATE_LIMIT),
  CONVLOG_ACCOUNT_RATE_LIMIT: positiveInteger(100, MAX_RATE_LIMIT),
  CONVLOG_CONCURRENCY: positiveInteger(4, MAX_CONCURRENCY),
  CONVLOG_REQUEST_TIMEOUT: positiveInteger(30, MAX_REQUEST_TIMEOUT_SECONDS, 'seconds'),
  CONVLOG_REDACT_SYSTEM_METADATA: boolean,
  CONVLOG_ON_DELETE: oneOf(ON_DELETE_MODES, 'purge'),
  CONVLOG_FULL_RESYNC_DAYS: positiveInteger(30, MAX_FULL_RESYNC_DAYS, 'days'),
  CONVLOG_FULL_RESYNC_PERCENT: integerFrom(0, 100, 10, 'a percentage'),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  // convlog serve: webhooks
  CONVLOG_WEBHOOK_SECRET: webhookSecrets,
  CONVLOG_WEBHOOK_MAX_AGE_SECONDS: integerFrom(1, 86_400, DEFAULT_WEBHOOK_MAX_AGE_SECONDS, 'a number of seconds'),
  CONVLOG_SERVE_HOST: optionalText,
  CONVLOG_SERVE_PORT: integerFrom(1, 65_535, DEFAULT_SERVE_PORT, 'a port'),
});

type Env = z.infer<typeof envSchema>;

type ZendeskEnv = Pick<Env, 'ZENDESK_BASE_URL' | 'ZENDESK_SUBDOMAIN' | 'ZENDESK_EMAIL' | 'ZENDESK_API_TOKEN' | 'ZENDESK_OAUTH_TOKEN'> & {
  CONVLOG_REQUEST_TIMEOUT: number;
};

function zendeskFrom(env: ZendeskEnv): { zendesk?: ZendeskConfig; problems: string[] } {
  const problems: string[] = [];
  const baseUrl =
    env.ZENDESK_BASE_URL?.replace(/\/+$/, '') ??
    (env.ZENDESK_SUBDOMAIN ? `https://${env.ZENDESK_SUBDOMAIN}.zendesk.com` : undefined);
  if (!baseUrl) problems.push('ZENDESK_SUBDOMAIN is missing (or set ZENDESK_BASE_URL)');

  let auth: ZendeskAuth | undefined;
  if (env.ZENDESK_OAUTH_TOKEN) {
    auth = { kind: 'oauth', token: env.ZENDESK_OAUTH_TOKEN };
  } else if (env.ZENDESK_EMAIL && env.ZENDESK_API_TOKEN) {
    auth = { kind: 'token', email: env.ZENDESK_EMAIL, token: env.ZENDESK_API_TOKEN };
  } else if (env.ZENDESK_EMAIL) {
    problems.push('ZENDESK_API_TOKEN is missing');
  } else if (env.ZENDESK_API_TOKEN) {
    problems.push('ZENDESK_EMAIL is missing');
  } else {
    problems.push('credentials are missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN');
  }
  if (!baseUrl || !auth) return { problems };
  return { zendesk: { baseUrl, auth, requestTimeoutMs: env.CONVLOG_REQUEST_TIMEOUT * 1000 }, problems };
}

export interface LoadConfigOptions {
  /** Commands that call Zendesk fail unless an account and credentials are configured. */
  needZendesk?: boolean;
  /** `serve` and `webhook test` fail unless CONVLOG_WEBHOOK_SECRET names at least one secret. */
  needWebhookSecret?: boolean;
}

/**
 * Reads `.env` (without overriding the real environment) and validates every variable.
 * Throws one ConfigError listing all problems. Zendesk settings are only required with
 * `needZendesk`, because `migrate` and `status` work without an account.
 */
export function loadConfig(env: NodeJS.ProcessEnv = processEnvironment(), options: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    if (options.needZendesk) {
      const raw = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
      const missing = zendeskFrom({
        ZENDESK_BASE_URL: raw('ZENDESK_BASE_URL'),
        ZENDESK_SUBDOMAIN: raw('ZENDESK_SUBDOMAIN'),
        ZENDESK_EMAIL: raw('ZENDESK_EMAIL'),
        ZENDESK_API_TOKEN: raw('ZENDESK_API_TOKEN'),
        ZENDESK_OAUTH_TOKEN: raw('ZENDESK_OAUTH_TOKEN'),
        CONVLOG_REQUEST_TIMEOUT: 30,
      }).problems;
      problems.unshift(...missing);
    }
    if (options.needWebhookSecret && !env.CONVLOG_WEBHOOK_SECRET?.replaceAll(',', '').trim()) problems.unshift(MISSING_WEBHOOK_SECRET);
    throw new ConfigError(`${problems.join('; ')} (see .env.example)`);
  }
  const e = parsed.data;
  const { zendesk, problems } = zendeskFrom(e);
  if (options.needZendesk && !zendesk) throw new ConfigError(`${problems.join('; ')} (see .env.example)`);
  if (options.needWebhookSecret && e.CONVLOG_WEBHOOK_SECRET.length === 0) throw new ConfigError(`${MISSING_WEBHOOK_SECRET} (see .env.example)`);
  return {
    databaseUrl: e.DATABASE_URL === undefined ? undefined : explicitSslMode(e.DATABASE_URL),
    dataDir: path.resolve(e.CONVLOG_DATA_DIR ?? '.convlog'),
    rateLimit: e.CONVLOG_RATE_LIMIT,
    exportRateLimit: e.CONVLOG_EXPORT_RATE_LIMIT,
    accountRateLimit: e.CONVLOG_ACCOUNT_RATE_LIMIT,
    concurrency: e.CONVLOG_CONCURRENCY,
    logLevel: e.LOG_LEVEL,
    redactSystemMetadata: e.CONVLOG_REDACT_SYSTEM_METADATA,
    onDelete: e.CONVLOG_ON_DELETE,
    fullResyncDays: e.CONVLOG_FULL_RESYNC_DAYS,
    fullResyncShare: e.CONVLOG_FULL_RESYNC_PERCENT / 100,
    zendesk,
    zendeskProblems: problems,
    serve: {
      secrets: e.CONVLOG_WEBHOOK_SECRET,
      maxAgeSeconds: e.CONVLOG_WEBHOOK_MAX_AGE_SECONDS,
      host: e.CONVLOG_SERVE_HOST,
      port: e.CONVLOG_SERVE_PORT,
    },
  };
}

/**
 * Where `convlog demo` keeps its embedded Postgres: a cluster of its own beside the real one,
 * so simulated tickets 1..N never land where real syncs go. Deleting it resets the demo alone.
 */
export function demoDataDir(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'demo');
}

/** The process's environment, with what .env in the working directory adds (it overrides nothing set). */
export function processEnvironment(): NodeJS.ProcessEnv {
  dotenv.config({ quiet: true });
  return process.env;
}
