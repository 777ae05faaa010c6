// Opens the database every command works in: DATABASE_URL, or the embedded default.
// Connection failures become one readable line naming host, port and cause.
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Config } from '../config.ts';
import { DatabaseUnavailable, EmbeddedServerGone } from '../errors/convlog-errors.ts';
import { errorMessage, networkErrorReason, noPasswordToSend, postmasterExited } from '../errors/messages.ts';
import { counted } from '../text.ts';
import type { Logger } from '../log.ts';
import { withinTime } from '../timing.ts';
import { EMBEDDED_DATABASE, startEmbeddedPostgres } from './embedded.ts';
import { migrateDatabase } from './migrate.ts';
import { KEEPALIVE, quietClient, SESSION_SETUP } from './pg-client.ts';
import * as schema from './schema.ts';
import { SERVER_VERSION_SQL, unsupportedServer, type ServerVersion } from './server-version.ts';

export type Db = NodePgDatabase<typeof schema>;

/** The node-postgres pool under a database opened by connect() (not a transaction's client). */
export function poolOf(db: Db): pg.Pool {
  return (db as Db & { $client: pg.Pool }).$client;
}

/** What a Db sends its statements through: a pool (connect), a transaction's client (inTransaction), or one connection. */
export type DbClient = pg.Pool | pg.PoolClient | pg.Client;

/** The node-postgres client under `db`, whichever it is, for a statement drizzle cannot write. */
export function clientOf(db: Db): DbClient {
  return (db as Db & { $client: DbClient }).$client;
}

export interface Database {
  pool: pg.Pool;
  db: Db;
  /** The connection string, for pg-boss. Never log it: it may hold a password. */
  url: string;
  /** host:port/database, safe to print. */
  where: string;
  /**
   * How output names it: `where`, or on the embedded default `embedded, data in <dir>` (its port
   * is a random one, gone when the command ends).
   */
  shownAs: string;
  /** On the embedded default: `own` when it stops with this command, `shared` when a db-server runs it. */
  embedded?: 'own' | 'shared';
  /** On the embedded default: resolves if the server ends under this command, which then cannot go on. */
  gone?: Promise<EmbeddedServerGone>;
  /**
   * On the embedded default, for a connection error: true when the server has ended (`gone` then
   * resolves, and the command ends with that one line), so the error needs no line of its own.
   */
  serverGone?: () => boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations (default true): every command that touches the database does. */
  migrate?: boolean;
  poolSize?: number;
  /** The command's stop: it ends a wait for an embedded server another command starts or stops. */
  signal?: AbortSignal;
}

export async function openDatabase(config: Config, log: Logger, options: OpenOptions = {}): Promise<Database> {
  let url = config.databaseUrl;
  let stopEmbedded = async () => {};
  let embedded: Database['embedded'];
  let gone: Database['gone'];
  let serverGone: Database['serverGone'];
  let adminUrl: string | undefined;
  if (!url) {
    const cluster = await startEmbeddedPostgres(config.dataDir, log, options.signal);
    stopEmbedded = cluster.stop;
    embedded = cluster.shared ? 'shared' : 'own';
    gone = cluster.gone.then((why) => new EmbeddedServerGone(why));
    serverGone = cluster.checkGone;
    url = cluster.url(EMBEDDED_DATABASE);
    adminUrl = cluster.adminUrl;
  }
  // An embedded server killed while this opens fails what it was doing; its end is the one line to
  // give. Looked for at once, not only by the poll, whose next turn may come late on a busy machine.
  const orItsEnd = async (error: unknown) => {
    serverGone?.();
    return (gone && (await withinTime(gone, GONE_RECHECK_MS * 2))) || error;
  };
  let database: Database;
  try {
    if (adminUrl) await ensureDatabase(adminUrl, EMBEDDED_DATABASE);
    database = await connect(url, log, options.poolSize ?? 10, serverGone);
  } catch (error) {
    const thrown = await orItsEnd(error);
    await stopEmbedded();
    throw thrown;
  }
  try {
    if (options.migrate ?? true) await migrateDatabase(database.pool, log);
  } catch (error) {
    const thrown = await orItsEnd(error);
    await database.close();
    await stopEmbedded();
    throw thrown;
  }
  return {
    ...database,
    shownAs: embedded ? `embedded, data in ${config.dataDir}` : database.where,
    embedded,
    gone,
    serverGone,
    close: async () => {
      await database.close();
      await stopEmbedded();
    },
  };
}


/** A pool on `url`, checked with one query so that a bad URL fails here, readably. */
export async function connect(url: string, log: Logger, poolSize = 10, serverGone?: () => boolean): Promise<Database> {
  const where = describe(url);
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000, ...KEEPALIVE, ...SESSION_SETUP });
  // An idle client losing its server (a Postgres restart) must not crash the process;
  // the next query gets a fresh connection. A restart ends every idle connection at once: the
  // losses of a few seconds are one warning, with their count, rather than one line each.
  let closed = false;
  const lost = { count: 0, err: '', timer: undefined as NodeJS.Timeout | undefined };
  const warnLost = () => {
    clearTimeout(lost.timer);
    lost.timer = undefined;
    if (lost.count > 0 && !serverGone?.()) log.warn({ connections: lost.count, err: lost.err }, `${counted(lost.count, 'idle Postgres connection')} lost`);
    lost.count = 0;
  };
  pool.on('error', (error) => {
    if (closed || endedServer(serverGone, error)) return;
    if (lost.count++ === 0) lost.err = errorMessage(error);
    // unref: a pending warning must not keep a finished command alive.
    lost.timer ??= setTimeout(warnLost, LOST_WINDOW_MS).unref();
  });
  // The pool listens for errors on idle clients only. A checked-out client (a page being stored,
  // an advisory lock held for a backfill) that loses its server emits 'error' with no listener,
  // which would kill the process; the statement in flight or the next one fails instead.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      if (!closed && !endedServer(serverGone, error)) log.debug({ err: errorMessage(error) }, 'Postgres connection lost');
    });
  });
  let refused: Error | undefined;
  try {
    refused = unsupportedServer((await pool.query<ServerVersion>(SERVER_VERSION_SQL)).rows[0], where);
  } catch (error) {
    refused = unavailable(url, error);
  }
  if (refused) {
    // After some failures (pg throwing while it connects) end() never settles.
    await withinTime(pool.end().catch(() => {}), CLOSE_TIMEOUT_MS);
    throw refused;
  }
  return {
    pool,
    db: drizzle(pool, { schema }),
    url,
    where,
    shownAs: where,
    close: async () => {
      if (closed) return;
      warnLost();
      closed = true;
      // pool.end() waits for every checked-out client: one never released must not hang the exit.
      const ended = await withinTime(pool.end().then(() => true), CLOSE_TIMEOUT_MS);
      if (!ended) log.warn({ database: where }, `Postgres pool did not close within ${CLOSE_TIMEOUT_MS / 1000} s; exiting anyway`);
    },
  };
}

/**
 * Reports a connection failure unless the embedded server has ended: the command then ends with
 * that one line (Database.serverGone). Its backends see its end a moment before its pid is gone,
 * so on the embedded default a report waits that moment.
 */
export function reportUnlessServerGone(serverGone: (() => boolean) | undefined, error: unknown, report: () => void): void {
  if (!serverGone) return report();
  if (endedServer(serverGone, error)) return;
  setTimeout(() => serverGone() || report(), GONE_RECHECK_MS).unref();
}

/**
 * On the embedded default, whether `error` is the server's end: its pid seen gone, or a backend
 * saying its postmaster has exited. Backends can see that exit before the pid looks gone (the
 * dying postmaster still listed as running), on a busy machine for seconds (a CI run found a
 * warning of a lost connection printed before the command's one line).
 */
function endedServer(serverGone: (() => boolean) | undefined, error: unknown): boolean {
  if (!serverGone) return false;
  return serverGone() || postmasterExited(error);
}

const GONE_RECHECK_MS = 500;
const CLOSE_TIMEOUT_MS = 5_000;
/** Idle connections lost within this long of the first are counted in its one warning. */
const LOST_WINDOW_MS = 2_000;

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = quietClient({ connectionString: adminUrl });
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      // Identifiers cannot be parameters; `name` is our own constant.
      await client.query(`create database "${name}"`).catch((error: { code?: string; constraint?: string }) => {
        // Another process created it first: once committed (42P04), or while this one was creating it.
        const concurrently = error.code === '23505' && error.constraint === 'pg_database_datname_index';
        if (error.code !== '42P04' && !concurrently) throw error;
      });
    }
  } catch (error) {
    throw unavailable(adminUrl, error);
  } finally {
    await client.end().catch(() => {});
  }
}

export function describe(url: string): string {
  const u = URL.parse(url);
  if (!u) return '(unparseable DATABASE_URL)';
  // node-postgres, like libpq, takes ?host= and ?port= over the URL's own: name the server it reaches.
  const host = u.searchParams.get('host') || u.hostname || 'localhost';
  const port = u.searchParams.get('port') || u.port || '5432';
  return `${host}:${port}${u.pathname || '/'}`;
}

// Network codes read as everywhere else (networkErrorReason), but for a hint and the SQLSTATEs of a refusal.
const POSTGRES_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is Postgres running there?)',
  '28P01': 'password authentication failed',
  '28000': 'authentication rejected',
  '3D000': 'database does not exist',
};

/**
 * pg's and pg-pool's time limits (their errors have no code): a query's answer (query_timeout), a
 * new connection's login, a free connection of the pool. The server, or the way to it, went silent.
 */
const NO_ANSWER = new Set(['Query read timeout', 'timeout expired', 'Connection terminated due to connection timeout']);
/** pg-pool's: also what waiting for a connection of a pool whose every connection is busy ends in. */
const NO_FREE_CONNECTION = 'timeout exceeded when trying to connect';

function noAnswer(error: unknown): string | undefined {
  const message = errorMessage(error);
  if (NO_ANSWER.has(message)) return 'no answer in time (a network dropping packets, or a frozen server?)';
  if (message === NO_FREE_CONNECTION) return 'no connection in time (every connection of the pool busy, a network dropping packets, or a frozen server?)';
  return undefined;
}

const NO_PASSWORD_REASON = 'the server asks for a password and the URL has none, as in postgres://user:password@host:port/database';

const withoutPassword = (url: string) => {
  const u = URL.parse(url);
  return u !== null && u.password === '' && !u.searchParams.get('password');
};

/** libpq's rule, which pg follows: a URL without a database asks for the one named as its user. */
const NO_DATABASE_NAME = "the URL names no database, so Postgres looked for one named as the user; add the database's name after the port, as in postgres://user:password@host:5432/convlog";

const unnamedDatabase = (url: string) => URL.parse(url)?.pathname.replace(/^\/+/, '') === '';

/** Why `url` could not be used, in one line naming it (host:port/database, never its password). */
/**
 * Why Postgres at `url` cannot be used, in one line; `embedded`: how the embedded default is named
 * (Database.shownAs), which no DATABASE_URL configures.
 */
export function unavailable(url: string, error: unknown, embedded?: string): DatabaseUnavailable {
  const where = describe(url);
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e?.code ?? e?.errors?.[0]?.code;
  const refusedForNone = noPasswordToSend(error) || (withoutPassword(url) && code === '28P01');
  const reason =
    (refusedForNone && NO_PASSWORD_REASON) ||
    (code === '3D000' && unnamedDatabase(url) && `${NO_DATABASE_NAME} (${errorMessage(error)})`) ||
    (code && (POSTGRES_REASONS[code] ?? networkErrorReason(code))) ||
    noAnswer(error) ||
    errorMessage(error) ||
    'connection failed';
  const message = embedded ? `cannot connect to the embedded Postgres (${embedded}): ${reason}` : `cannot connect to Postgres at ${where}: ${reason} (check DATABASE_URL)`;
  return new DatabaseUnavailable(message, { cause: error });
}
