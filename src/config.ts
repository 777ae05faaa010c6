// The one place that reads the environment. Every problem is collected so a person fixes
// their `.env` once, not one complaint at a time.
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { boolean, explicitSslMode, httpUrl, integerFrom, oneOf, optionalText, positiveInteger, postgresUrl, servePort, subdomain, webhookSecrets, zendeskApiToken, zendeskEmail, zendeskOauthToken } from './config-fields.ts';
// The simulator checks a token as convlog does; config-fields is config's own (test/architecture).
export { tokenProblem } from './config-fields.ts';
import { ConfigError } from './errors/convlog-errors.ts';
import { nearest } from './text.ts';
import { projectFolder } from './project-folder.ts';

// `webhook --url` refuses credentials as ZENDESK_BASE_URL does, and `serve --port` the ports
// CONVLOG_SERVE_PORT refuses; the fields are read through this module only.
export { carriesCredentials, fetchBlockedPort } from './config-fields.ts';
// Commands name a relative data folder from there; read through this module as the rest.
export { projectFolder } from './project-folder.ts';

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
  /** Where `convlog work` serves /healthz and /metrics; off when unset. */
  healthPort: number | undefined;
  /** Where that server listens (unset: every interface, for a scraper on another machine). */
  healthHost: string | undefined;
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
const MAX_REQUEST_TIMEOUT_SECONDS = 3_600;
/**
 * Requests per minute for any of the three rate limits. Far above any Zendesk plan (2,500), it
 * leaves the benchmarks their 1,000,000; the shared budgets store a limit as a 32-bit integer.
 */
const MAX_RATE_LIMIT = 1_000_000;
/** CONVLOG_FULL_RESYNC_DAYS: ten years, which is never in practice. */
const MAX_FULL_RESYNC_DAYS = 3_650;

export interface ServeConfig {
  /** Signing secrets in any order: a request signed with any of them is accepted. Empty unless set. */
  secrets: string[];
  maxAgeSeconds: number;
  /** Unset: every interface. */
  host: string | undefined;
  port: number;
}

const ON_DELETE_MODES = ['purge', 'keep'] as const;
export type OnDelete = (typeof ON_DELETE_MODES)[number];

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Says where the secret comes from: an operator starting serve first has no webhook yet.
function missingWebhookSecret(env: NodeJS.ProcessEnv): string {
  return (
    `${absent('CONVLOG_WEBHOOK_SECRET', env)}: set the webhook signing secret that "convlog webhook create --url https://<your host>/webhooks/zendesk" prints ` +
    '(for a webhook that exists: Admin Center > Webhooks > the webhook > Reveal secret; several, comma-separated, while rotating)'
  );
}

/**
 * "NAME is missing", or "NAME is empty" when it is set to nothing (`ZENDESK_API_TOKEN=`, as
 * .env.example has it): a line left blank is another slip than a line never written.
 */
function absent(name: string, env: NodeJS.ProcessEnv): string {
  return `${name} is ${env[name] === undefined ? 'missing' : 'empty'}`;
}

const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  CONVLOG_DATA_DIR: optionalText,
  ZENDESK_SUBDOMAIN: subdomain,
  ZENDESK_BASE_URL: httpUrl,
  ZENDESK_EMAIL: zendeskEmail,
  ZENDESK_API_TOKEN: zendeskApiToken,
  ZENDESK_OAUTH_TOKEN: zendeskOauthToken,
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
  CONVLOG_SERVE_PORT: servePort(DEFAULT_SERVE_PORT),
  // convlog work: /healthz and /metrics (0: any free port)
  CONVLOG_HEALTH_PORT: integerFrom(0, 65_535, undefined, 'a port'),
  CONVLOG_HEALTH_HOST: optionalText,
});

type Env = z.infer<typeof envSchema>;

/**
 * Every CONVLOG_ and ZENDESK_ variable the project knows: the settings above, and the knobs of
 * its tests and benchmarks (docs/development.md, docs/performance.md), which are no settings.
 * Any other name with those prefixes is a slip (CONVLOG_RATE_LIMT) that would silently change
 * nothing: the CLI warns of it.
 */
const KNOWN_VARIABLES: readonly string[] = [
  ...Object.keys(envSchema.shape),
  'CONVLOG_SUPERVISE_SECONDS',
  'CONVLOG_TEST_POSTGRES',
  'CONVLOG_BENCH_EVENTS',
  'CONVLOG_BENCH_KEEP',
];

/**
 * CONVLOG_ and ZENDESK_ variables that no setting has but a known name is a slip away from (a third
 * of the name's letters, or three), each with that name. Another tool's variable (a Zendesk app's
 * ZENDESK_MARKETPLACE_APP_KEY) is no typo and says nothing: a warning it added to every command
 * would come before each one-line error.
 */
export function misspeltVariables(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.keys(env)
    .filter((name) => /^(CONVLOG|ZENDESK)_/.test(name) && !KNOWN_VARIABLES.includes(name))
    .flatMap((name) => {
      const near = nearest(KNOWN_VARIABLES, name, Math.max(3, Math.floor(name.length / 3)));
      return near ? [[name, near] as [string, string]] : [];
    });
}

type ZendeskEnv = Pick<Env, 'ZENDESK_BASE_URL' | 'ZENDESK_SUBDOMAIN' | 'ZENDESK_EMAIL' | 'ZENDESK_API_TOKEN' | 'ZENDESK_OAUTH_TOKEN'> & {
  CONVLOG_REQUEST_TIMEOUT: number;
};

function zendeskFrom(values: ZendeskEnv, env: NodeJS.ProcessEnv): { zendesk?: ZendeskConfig; problems: string[] } {
  const problems: string[] = [];
  const baseUrl =
    values.ZENDESK_BASE_URL?.replace(/\/+$/, '') ??
    (values.ZENDESK_SUBDOMAIN ? `https://${values.ZENDESK_SUBDOMAIN}.zendesk.com` : undefined);
  if (!baseUrl) problems.push(`${absent('ZENDESK_SUBDOMAIN', env)} (or set ZENDESK_BASE_URL)`);

  let auth: ZendeskAuth | undefined;
  if (values.ZENDESK_OAUTH_TOKEN) {
    auth = { kind: 'oauth', token: values.ZENDESK_OAUTH_TOKEN };
  } else if (values.ZENDESK_EMAIL && values.ZENDESK_API_TOKEN) {
    auth = { kind: 'token', email: values.ZENDESK_EMAIL, token: values.ZENDESK_API_TOKEN };
  } else if (values.ZENDESK_EMAIL) {
    problems.push(absent('ZENDESK_API_TOKEN', env));
  } else if (values.ZENDESK_API_TOKEN) {
    problems.push(absent('ZENDESK_EMAIL', env));
  } else {
    const empty = CREDENTIALS.filter((name) => env[name] !== undefined);
    const named = empty.length > 1 ? `${empty.slice(0, -1).join(', ')} and ${empty.at(-1)}` : empty.join('');
    const said = empty.length === 0 ? '' : ` (${named} ${empty.length === 1 ? 'is' : 'are'} empty)`;
    problems.push(`credentials are missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN${said}`);
  }
  if (!baseUrl || !auth) return { problems };
  return { zendesk: { baseUrl, auth, requestTimeoutMs: values.CONVLOG_REQUEST_TIMEOUT * 1000 }, problems };
}

const CREDENTIALS = ['ZENDESK_EMAIL', 'ZENDESK_API_TOKEN', 'ZENDESK_OAUTH_TOKEN'];

/**
 * `missing` (what is missing or empty), then each misspelt variable that meant a name they ask
 * for: ZENDESK_API_TOKN=abc is the answer to "ZENDESK_API_TOKEN is missing", which the warning
 * that names it (once the values are good) came too late to give.
 */
function withSlips(missing: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const slips = misspeltVariables(env)
    .filter(([, meant]) => missing.some((problem) => new RegExp(`\\b${meant}\\b`).test(problem)))
    .map(([name, meant]) => `${name} is not a variable convlog reads: did you mean ${meant}?`);
  return [...missing, ...slips];
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
      }, env).problems;
      problems.unshift(...withSlips(missing, env));
    }
    if (options.needWebhookSecret && !env.CONVLOG_WEBHOOK_SECRET?.replaceAll(',', '').trim()) problems.unshift(...withSlips([missingWebhookSecret(env)], env));
    throw new ConfigError(`${problems.join('; ')} (see .env.example)`);
  }
  const e = parsed.data;
  const { zendesk, problems } = zendeskFrom(e, env);
  if (options.needZendesk && !zendesk) throw new ConfigError(`${withSlips(problems, env).join('; ')} (see .env.example)`);
  if (options.needWebhookSecret && e.CONVLOG_WEBHOOK_SECRET.length === 0) throw new ConfigError(`${withSlips([missingWebhookSecret(env)], env).join('; ')} (see .env.example)`);
  return {
    databaseUrl: e.DATABASE_URL === undefined ? undefined : explicitSslMode(e.DATABASE_URL),
    // Relative to the project folder, as the .env that usually sets it is read from there: in a
    // clone, the same folder from any folder below its root, as the default.
    dataDir: path.resolve(projectFolder(), e.CONVLOG_DATA_DIR ?? '.convlog'),
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
    healthPort: e.CONVLOG_HEALTH_PORT,
    healthHost: e.CONVLOG_HEALTH_HOST,
  };
}

/**
 * Where `convlog demo` keeps its embedded Postgres: a cluster of its own beside the real one,
 * so simulated tickets 1..N never land where real syncs go. Deleting it resets the demo alone.
 */
export function demoDataDir(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'demo');
}

/** The process's environment, with what the project folder's .env adds (it overrides nothing set). */
export function processEnvironment(): NodeJS.ProcessEnv {
  dotenv.config({ path: path.join(projectFolder(), '.env'), quiet: true });
  return process.env;
}
