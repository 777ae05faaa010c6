// pg-boss, in the same Postgres, with the queues convlog uses. Every queue option lives here.
import { PgBoss, type ConstructorOptions } from 'pg-boss';
import { BOSS_SCHEMA } from '../db/boss-schema.ts';
import { reportUnlessServerGone, type Database } from '../db/connection.ts';
import { hushEndingClients, KEEPALIVE, SESSION_SETUP } from '../db/pg-client.ts';
import type { Logger } from '../log.ts';
import { createErrorThrottle, queueErrorText, urlSecrets } from './error-throttle.ts';

export { BOSS_SCHEMA };
export const SYNC_QUEUE = 'ticket-sync';
export const DEAD_LETTER_QUEUE = 'ticket-sync-dead';

export interface SyncJobData {
  ticketId: number;
  full?: boolean;
  /** Times the job was held (src/queue/queue-stats.ts holdJob): each moved retry_count up without an attempt. */
  holds?: number;
}

/** How much of a job's retry_count and retry_limit its holds make up, not attempts. */
export function holdsOf(data: { holds?: number } | undefined): number {
  return Number.isSafeInteger(data?.holds) ? (data!.holds as number) : 0;
}

/** Backfills (incremental export → ticket syncs), sent by `convlog schedule`'s pg-boss schedule. */
export const BACKFILL_QUEUE = 'backfill';

export interface BackfillJobData {
  /** ISO time to start from when no export position is saved yet (the schedule's --since). */
  since?: string;
  /** Times a shutdown held the job (holdJob), as a sync job's. */
  holds?: number;
}

// A job whose worker died stops sending heartbeats; the supervisor then hands it to another
// worker. 10 s heartbeats checked every 10 s bring an orphan back well within a minute.
const HEARTBEAT_SECONDS = 10;
/**
 * How often a worker beats for its jobs. pg-boss's default, half the heartbeat, leaves a job one
 * failed beat (a Postgres blip, a moment of read-only) from being failed by the supervisor, its
 * attempt spent; at a third, one beat can fail and the job still stays within its 10 s.
 */
export const HEARTBEAT_REFRESH_SECONDS = HEARTBEAT_SECONDS / 3;
const SUPERVISE_SECONDS = 10;
/** At most one line about queue errors per this long while they go on. */
const QUEUE_ERROR_INTERVAL_MS = 30_000;

export const SYNC_QUEUE_OPTIONS = {
  // At most one job per ticket queued or running: the singleton key is the ticket id.
  policy: 'exclusive',
  deadLetter: DEAD_LETTER_QUEUE,
  retryLimit: 8,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 300,
  heartbeatSeconds: HEARTBEAT_SECONDS,
  // A 50,000-event ticket at 100 requests a minute takes minutes; heartbeats, not expiry,
  // detect dead workers.
  expireInSeconds: 4 * 60 * 60,
  notify: true,
} as const;

const BACKFILL_QUEUE_OPTIONS = {
  // One running and one waiting: a tick during a long backfill runs after it, never beside it.
  policy: 'stately',
  retryLimit: 3,
  retryDelay: 60,
  retryBackoff: true,
  heartbeatSeconds: HEARTBEAT_SECONDS,
  // At 10 export requests a minute, a first backfill of a large account takes hours.
  expireInSeconds: 12 * 60 * 60,
  notify: true,
} as const;

export interface BossOptions {
  /** Run pg-boss maintenance and supervision (workers do; one-shot commands need not). */
  supervise?: boolean;
  /** Run cron schedules in this process. */
  schedule?: boolean;
  /** How often supervision looks for orphaned jobs (see superviseSeconds). */
  superviseSeconds?: number;
}

export async function startBoss(database: Database, log: Logger, options: BossOptions = {}): Promise<PgBoss> {
  // pg-boss builds its pg.Pool from this whole object, though its type names only some of pg's
  // options: keepalive and the session's set-up reach its connections too (its LISTEN connection
  // sets its own keepalive, and runs no transaction).
  const supervise = options.superviseSeconds ?? SUPERVISE_SECONDS;
  const config: ConstructorOptions & typeof KEEPALIVE & typeof SESSION_SETUP = {
    ...KEEPALIVE,
    ...SESSION_SETUP,
    connectionString: database.url,
    schema: BOSS_SCHEMA,
    max: 4,
    supervise: options.supervise ?? false,
    schedule: options.schedule ?? false,
    superviseIntervalSeconds: supervise,
    // A pass hands back lapsed jobs only once the queue's claim is this old. A second under the
    // timer's interval, so that the timer's first pass, an interval after the one at start
    // (below), is not refused and left to the next.
    monitorIntervalSeconds: Math.max(1, supervise - 1),
    useListenNotify: true,
    openTelemetry: { enabled: false },
  };
  hushEndingClients();
  const boss = new PgBoss(config);
  // pg-boss reports lost connections and failed maintenance here, and recovers by itself. An outage
  // brings one error per polling loop, so they are summarised (see error-throttle.ts).
  const secrets = urlSecrets(database.url);
  const quietSeconds = QUEUE_ERROR_INTERVAL_MS / 1000;
  const errors = createErrorThrottle(
    {
      first: (message) => log.warn({ err: message }, `queue error: ${message}`),
      continuing: ({ count, seconds, last }) =>
        log.warn({ errors: count, seconds, err: last }, `queue errors continue: ${count} in the last ${seconds} s: ${last}`),
      stopped: ({ count, seconds }) =>
        log.info({ errors: count, seconds }, `queue errors stopped: none in the last ${quietSeconds} s (${count} in all, from ${seconds} s ago)`),
    },
    { intervalMs: QUEUE_ERROR_INTERVAL_MS },
  );
  // Once stopped, a connection pg-boss still holds may be cut as the embedded Postgres stops
  // after it: that is the end of the command, not a queue error.
  let stopped = false;
  boss.on('error', (error) => {
    // The embedded server gone: the command ends with that one line instead (src/db/connection.ts).
    if (!stopped) reportUnlessServerGone(database.serverGone, error, () => errors.error(queueErrorText(error, secrets)));
  });
  boss.on('stopped', () => {
    stopped = true;
    errors.close();
  });
  boss.on('warning', (warning) => log.debug({ warning }, 'queue warning'));
  try {
    await boss.start();
    await ensureQueue(boss, DEAD_LETTER_QUEUE, { policy: 'standard', retryLimit: 0 });
    await ensureQueue(boss, SYNC_QUEUE, { ...SYNC_QUEUE_OPTIONS });
    await ensureQueue(boss, BACKFILL_QUEUE, { ...BACKFILL_QUEUE_OPTIONS });
  } catch (error) {
    await boss.stop({ graceful: false, timeout: 1_000 }).catch(() => {});
    throw error;
  }
  // pg-boss's first pass comes an interval after start: a `sync` shorter than that left the jobs
  // of a worker killed earlier running for ever when no other supervising process came. Not
  // awaited, so the command starts as before; stop() waits for it. No reindex, which can take seconds.
  if (config.supervise) void boss.supervise(undefined, { reindex: false }).catch((error: unknown) => boss.emit('error', error instanceof Error ? error : new Error(String(error))));
  return boss;
}

async function ensureQueue(boss: PgBoss, name: string, options: Parameters<PgBoss['createQueue']>[1]): Promise<void> {
  if (await boss.getQueue(name)) {
    // Policy, dead letter queue and heartbeat are fixed when a queue is created.
    const { retryLimit, retryDelay, retryBackoff, expireInSeconds } = options ?? {};
    const changes = Object.fromEntries(
      Object.entries({ retryLimit, retryDelay, retryBackoff, expireInSeconds }).filter(([, v]) => v !== undefined),
    );
    await boss.updateQueue(name, changes);
    return;
  }
  try {
    await boss.createQueue(name, options);
  } catch (error) {
    // Another process created it between our check and our create.
    if (!(await boss.getQueue(name))) throw error;
  }
}

/**
 * The tests shorten supervision (CONVLOG_SUPERVISE_SECONDS) so an orphaned job comes back in a
 * second rather than ten; anything but a whole number of seconds from 1 to 10 keeps the default.
 */
export function superviseSeconds(value: string | undefined): number {
  const seconds = Number(value);
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= 10 ? seconds : SUPERVISE_SECONDS;
}
