// Wiring shared by the commands that sync: the database, the queue, the Zendesk client and
// the rate budgets, opened in order and closed in reverse; and how a service stopped while it
// starts ends.
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import { openDatabase, unavailable, type Database, type OpenOptions } from '../db/connection.ts';
import { DatabaseUnavailable, Interrupted } from '../errors/convlog-errors.ts';
import { withinTime } from '../timing.ts';
import { startBoss, superviseSeconds, type BossOptions } from '../queue/boss.ts';
import type { SyncDeps } from '../sync/sync-ticket.ts';
import { checkCredentials } from '../zendesk/credentials.ts';
import { createZendeskHttp } from '../zendesk/index.ts';
import { budgetFor, type BudgetKind } from '../db/budgets.ts';
import type { SharedBudget } from '../db/shared-budget.ts';
import type { CommandContext } from './types.ts';
import { connectionRoom } from '../db/connection-room.ts';
import type { Logger } from '../log.ts';
import { requireZendeskAccount } from './zendesk-account.ts';
import { waitForDatabase } from '../db/wait-for-database.ts';
import { serverWentAway } from '../errors/outcome.ts';
import { errorMessage } from '../errors/messages.ts';

/**
 * The first stop of a command that works the queue, as its stopping line says it: a request in
 * flight is dropped, so that a stop never waits on Zendesk (or on a rate limit's pause).
 */
export const STOPPING_WORKER = 'taking no more tickets; a page being stored commits, requests in flight are dropped and their tickets resume from the saved cursor';

/**
 * How long a command that gave up on Postgres waits for the queue and the pool to close: on a
 * Postgres that answers again closing takes milliseconds, and on one that does not, waiting longer
 * would only keep a stopped service past its manager's stop timeout (src/queue/stop-watch.ts, STOPPED_UNREADABLE_MS).
 */
const CLOSE_WITHOUT_POSTGRES_MS = 5_000;

export interface Runtime {
  config: Config;
  database: Database;
  boss: PgBoss;
  close(): Promise<void>;
}

export interface SyncRuntime extends Runtime {
  deps: SyncDeps;
  /**
   * This process's one instance of each shared budget, whose waits `sync` shows and `work` logs:
   * conversationLog is deps.budget; account and export are for the ticket context and backfills.
   * Absent when deps bring a budget of their own.
   */
  budgets?: Record<BudgetKind, SharedBudget>;
}

/**
 * openDatabase for a command: an embedded Postgres that stops under it (killed, its owner gone)
 * ends the command with that one line and exit 2, not with the dropped connection it meets first;
 * workers, the queue's checks and pg-boss would otherwise retry a server that will not come back.
 */
export async function openCommandDatabase(ctx: CommandContext, config: Config, options: OpenOptions = {}): Promise<Database> {
  const database = await openDatabase(config, ctx.log, { signal: ctx.signal, ...options });
  if (database.gone) ctx.failWhen(database.gone, database.serverGone);
  return database;
}

/**
 * A service's runtime (`open`), once Postgres answers. A service outlives Postgres restarts; at
 * start-up it waits for a server that is down, and for one that goes away while it starts (after
 * it answered, during the migrations or pg-boss's start: a restart then ended it with "the
 * database system is shutting down"). Undefined when a stop came first, which `stoppedFirst` says.
 */
export async function openWaitingForPostgres<T>(
  ctx: CommandContext,
  databaseUrl: string | undefined,
  open: () => Promise<T>,
  options: { who: string; stoppedFirst: string; giveUpMs?: number },
): Promise<T | undefined> {
  for (;;) {
    if (databaseUrl && !(await waitForDatabase(databaseUrl, ctx.log, { signal: ctx.signal, giveUpAfterMs: options.giveUpMs }))) {
      ctx.log.info(options.stoppedFirst);
      return undefined;
    }
    try {
      // A stop while it waits for an embedded Postgres another command starts or stops is a stop
      // before it began, as above.
      return await unlessStoppedStarting(ctx, open(), options.stoppedFirst);
    } catch (error) {
      // The embedded default's end is its own line (EmbeddedServerGone); only a server of one's own is waited for.
      if (!databaseUrl || ctx.signal.aborted || !serverWentAway(error)) throw error;
      ctx.log.warn({ err: errorMessage(error) }, `Postgres went away while ${options.who} was starting; waiting for it again`);
    }
  }
}

/**
 * A service (work, serve, db-server) whose start a stop signal ends while it waits for an embedded
 * Postgres another command is starting or stopping (Interrupted): an operator's stop of a service
 * is a normal stop, so undefined after one info line, `stopped`, and the service exits 0. A one-off
 * command (sync, query, ...) ends with Interrupted's own line and exit 1 instead.
 */
export async function unlessStoppedStarting<T>(ctx: CommandContext, starting: Promise<T>, stopped: string): Promise<T | undefined> {
  try {
    return await starting;
  } catch (error) {
    if (!(error instanceof Interrupted && ctx.signal.aborted)) throw error;
    ctx.log.info(stopped);
    return undefined;
  }
}

export async function openRuntime(ctx: CommandContext, options: BossOptions & { config?: Config; worksQueue?: boolean } = {}): Promise<Runtime> {
  const { config: given, worksQueue, ...bossOptions } = options;
  const config = given ?? ctx.config();
  const database = await openCommandDatabase(ctx, config);
  let boss: PgBoss;
  try {
    // Before pg-boss opens its own: the sessions counted then are all this process's pool's or others'.
    if (worksQueue) await warnIfFewConnections(database, ctx.log);
    boss = await startBoss(database, ctx.log, { superviseSeconds: superviseSeconds(ctx.env.CONVLOG_SUPERVISE_SECONDS), ...bossOptions });
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    config,
    database,
    boss,
    close: async () => {
      await boss.stop({ graceful: true, timeout: 20_000 }).catch(() => {});
      await database.close();
    },
  };
}

/**
 * Up to how many connections a process that works the queue opens: its pool's 10, pg-boss's 4 and
 * its looks' 1 (docs/operations.md, "Connections to Postgres").
 */
const CONNECTIONS_PER_PROCESS = 15;

/** One warning when the login's connection limits leave less room than a process working the queue opens. */
async function warnIfFewConnections(database: Database, log: Logger): Promise<void> {
  const room = await connectionRoom(database.pool, database.pool.totalCount).catch(() => undefined);
  if (!room || room.free >= CONNECTIONS_PER_PROCESS) return;
  log.warn(
    { free: room.free, limit: room.limit, heldByOthers: room.heldByOthers },
    `Postgres leaves this login room for ${room.free} more connections (${room.limit}; ${room.heldByOthers} held by other sessions), and a process working the queue opens up to ${CONNECTIONS_PER_PROCESS}: ` +
      'its statements will wait for one or be refused and retried, and it will sync slowly; raise the limit, or run fewer processes',
  );
}

/**
 * openRuntime for a command that reaches Zendesk when configured to: the database must hold that
 * account's tickets or none (src/commands/zendesk-account.ts), or nothing goes further. `first`
 * runs after the comparison and before the account is recorded: a check that the address answers.
 */
export async function openZendeskRuntime(
  ctx: CommandContext,
  options: BossOptions & { config?: Config; worksQueue?: boolean; first?: (database: Database) => Promise<void> } = {},
): Promise<Runtime> {
  const { first, ...runtimeOptions } = options;
  const runtime = await openRuntime(ctx, runtimeOptions);
  try {
    await requireZendeskAccount(runtime.database, runtime.config, ctx.log, { beforeRecording: first && (() => first(runtime.database)) });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return runtime;
}

/** How a one-off command checks its credentials before the account is recorded (openSyncRuntime). */
export interface CredentialCheckFirst {
  /** What waits on them, ending the refusal's line: "nothing was queued". */
  whatWaits: string;
  /** A usage error the database tells (backfill's missing position), before the request: it costs none. */
  usageFirst?: (database: Database) => Promise<void>;
}

/**
 * With `checkCredentials`, the credentials and the URL are checked before the account is recorded
 * (src/zendesk/credentials.ts): a mistyped subdomain or a refused token ends the command with one
 * line, and no address that never answered is recorded.
 */
export async function openSyncRuntime(ctx: CommandContext, options: BossOptions & { checkCredentials?: CredentialCheckFirst } = {}): Promise<SyncRuntime> {
  const { checkCredentials: check, ...bossOptions } = options;
  const config = ctx.config({ needZendesk: true });
  const http = createZendeskHttp(config.zendesk!, { log: ctx.log });
  const first =
    check &&
    (async (database: Database) => {
      await check.usageFirst?.(database);
      await checkCredentials({ http, log: ctx.log, signal: ctx.signal }, check.whatWaits);
      // Stopped meanwhile: a command that does nothing records no account either.
      if (ctx.signal.aborted) throw new Interrupted(`interrupted while starting; ${check.whatWaits}`);
    });
  const runtime = await openZendeskRuntime(ctx, { ...bossOptions, config, worksQueue: true, first });
  // One budget for every process on the account, kept in Postgres and corrected by Zendesk's
  // headers; each row is first touched by its first request.
  const { pool } = runtime.database;
  const budgets: Record<BudgetKind, SharedBudget> = {
    conversationLog: budgetFor('conversationLog', pool, config.rateLimit, ctx.log),
    account: budgetFor('account', pool, config.accountRateLimit, ctx.log),
    export: budgetFor('export', pool, config.exportRateLimit, ctx.log),
  };
  const deps: SyncDeps = {
    db: runtime.database.db,
    http,
    budget: budgets.conversationLog,
    log: ctx.log,
    redactSystemMetadata: config.redactSystemMetadata,
    onDelete: config.onDelete,
  };
  return {
    ...runtime,
    deps,
    budgets,
    // This process's limits stop applying to the others as it ends, not minutes later.
    close: async () => {
      await Promise.all(Object.values(budgets).map((budget) => budget.release()));
      await runtime.close();
    },
  };
}

/**
 * The one line, exit 2, of a command that gave up on a Postgres lost mid-run (`work --until-idle`,
 * `sync`, a stopped `work` or `backfill`), as when it is down at start: what the last look met, then
 * `gaveUp` (how and after how long), then what is `left` for the next run. `lost` is the worker's
 * (WorkerSummary.lostDatabase) or the stop's (stop-watch.ts).
 */
export function lostDatabaseError(database: Database, lost: { error: unknown }, gaveUp: string, left = "the tickets still queued are the next run's"): DatabaseUnavailable {
  const embedded = database.embedded ? database.shownAs : undefined;
  return new DatabaseUnavailable(`${unavailable(database.url, lost.error, embedded).message}; ${gaveUp}; ${left}`, { cause: lost.error });
}

/** lostDatabaseError for a stop that waited for Postgres and gave up (src/queue/stop-watch.ts). */
export function stopGaveUpError(database: Database, lost: { error: unknown; ms: number }, left?: string): DatabaseUnavailable {
  return lostDatabaseError(database, lost, `the stop waited ${Math.round(lost.ms / 1000)} s for it, and no longer`, left);
}

/**
 * Runs `close`; after a command gave up on Postgres (`lostDatabase`), for at most
 * CLOSE_WITHOUT_POSTGRES_MS: closing waits on it (a backfill's fetch, pg-boss's shutdown, the
 * budgets' release), and a connection that stopped answering would hold the exit for ever.
 */
export async function closeRuntime(close: () => Promise<void>, lostDatabase: boolean): Promise<void> {
  if (lostDatabase) await withinTime(close().catch(() => {}), CLOSE_WITHOUT_POSTGRES_MS);
  else await close();
}

/**
 * The error line of a run that gave up on an unreachable Zendesk (work --until-idle, sync): for
 * how long, why, and that its tickets wait for the next run.
 */
export function logGaveUpOnZendesk(log: Logger, who: string, gaveUp: { reason: string; ms: number }): void {
  const { ms } = gaveUp;
  const waited = ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
  const why = gaveUp.reason.replace(/^waiting for Zendesk: /, '');
  log.error({ err: why }, `${who} gives up: Zendesk could not be reached for ${waited} (${why}); the tickets stay queued with their retries unspent, and the next run takes them`);
}
