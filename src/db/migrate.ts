// Applies migrations/ under an advisory lock, so that processes starting together migrate once.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { ConfigError, MigrationFailed } from '../errors/convlog-errors.ts';
import { causeWithCode } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { refuseForeignBossSchema } from './boss-schema.ts';
import { quietClient } from './pg-client.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));
// Any constant works; it only has to be the same in every convlog process.
export const MIGRATION_LOCK = 7_204_315_001;

// How long a migration waits on a lock before saying who holds it, and again each time after.
const LOCK_WAIT_WARN_MS = 10_000;

export async function migrateDatabase(pool: pg.Pool, log: Logger, options: { lockWaitWarnMs?: number } = {}): Promise<{ applied: number }> {
  try {
    return await migrateUnderLock(pool, log, options.lockWaitWarnMs ?? LOCK_WAIT_WARN_MS);
  } catch (error) {
    throw withoutPermission(error) ?? readOnly(error) ?? error;
  }
}

/**
 * A standby, or a database set to default_transaction_read_only, refuses the migrator's first
 * statement even with nothing to apply (drizzle creates its schema IF NOT EXISTS): "migration
 * (unknown) failed, so none of the pending migrations was applied" would send a person looking
 * for a migration that is not there.
 */
function readOnly(error: unknown): ConfigError | undefined {
  const refused = causeWithCode(error, (code) => code === '25006');
  if (!refused) return undefined;
  return new ConfigError(
    `the database takes no writes (${refused.message}): a standby, or default_transaction_read_only set on it or its user; convlog migrates and syncs into the primary, and a standby can be read with "convlog query", psql or a BI tool`,
    { cause: error },
  );
}

/**
 * A login that may not migrate (a grant-readonly role, say) meets "permission denied for schema
 * drizzle" before anything else: one line on what it is and what to use, rather than an
 * unexpected error.
 */
function withoutPermission(error: unknown): ConfigError | undefined {
  const denied = causeWithCode(error, (code) => code === '42501');
  if (!denied) return undefined;
  return new ConfigError(
    `the database user may not migrate convlog's schemas (${denied.message}): every command but "convlog query" needs the user convlog syncs with; a read-only login reads with "convlog query", psql or a BI tool`,
    { cause: error },
  );
}

async function migrateUnderLock(pool: pg.Pool, log: Logger, lockWaitWarnMs: number): Promise<{ applied: number }> {
  const client = await pool.connect();
  try {
    // A migration that changes a table or view waits for every session using it: a BI tool's
    // session left idle in a transaction holds it for good, and the command would wait without a
    // word. So does another convlog process's migration (the advisory lock).
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const unwatch = watchLockWaits(pool, rows[0].pid, log, lockWaitWarnMs);
    let before: Recorded;
    try {
      // No statement_timeout, whatever the database or login sets for people's queries (the
      // pool's SESSION_SETUP): it would cancel a migration that rewrites a large table, and with
      // it every pending one, at each start, an upgrade that could never complete.
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
      before = await recordedMigrations(client);
      refuseNewerSchema(before.newest);
      await refuseForeignBossSchema(client);
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER }).catch((error: unknown) => {
        throw migrationFailure(error);
      });
    } finally {
      unwatch();
    }
    const applied = (await recordedMigrations(client)).count - before.count;
    if (applied > 0) log.info({ applied }, 'database migrated');
    return { applied };
  } finally {
    const unlocked = await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(() => true, () => false);
    client.release(!unlocked);
  }
}

/**
 * drizzle reports a failed statement as "Failed query: <the whole statement>", Postgres's reason
 * only in its `cause`: a person needs the reason and the migration it belongs to.
 */
function migrationFailure(error: unknown): unknown {
  const cause = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof pg.DatabaseError)) return error; // a lost connection, say: reported as such
  const query = (error as { query?: unknown }).query;
  const file = typeof query === 'string' ? migrationHolding(query.trim()) : undefined;
  return new MigrationFailed(
    `migration ${file ?? '(unknown)'} failed, so none of the pending migrations was applied: ${cause.message}`,
    { cause: error },
  );
}

function migrationHolding(statement: string): string | undefined {
  return fs
    .readdirSync(MIGRATIONS_FOLDER)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .find((name) => fs.readFileSync(path.join(MIGRATIONS_FOLDER, name), 'utf8').includes(statement));
}

interface Recorded {
  /** Migrations applied. */
  count: number;
  /** The `when` of the newest (0 before the first). */
  newest: number;
}

/** What drizzle has recorded as applied. */
async function recordedMigrations(client: pg.PoolClient): Promise<Recorded> {
  const exists = await client.query(`select to_regclass('drizzle.__drizzle_migrations') is not null as e`);
  if (!exists.rows[0]?.e) return { count: 0, newest: 0 };
  const { rows } = await client.query<{ n: string; newest: string | null }>(
    'select count(*) as n, max(created_at)::text as newest from drizzle.__drizzle_migrations',
  );
  return { count: Number(rows[0]?.n ?? 0), newest: Number(rows[0]?.newest ?? 0) };
}

/**
 * drizzle applies only the migrations newer than the newest it recorded, so against a database a
 * newer release migrated it applies nothing and this release would run on a schema it does not
 * know: its writes fail, or (a purge of an older release) leave rows the newer schema keeps.
 */
function refuseNewerSchema(newestApplied: number): void {
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number; tag: string }[] };
  const last = journal.entries.at(-1);
  if (last && newestApplied > last.when) {
    throw new ConfigError(
      `the database was migrated by a newer convlog than this one (whose last migration is ${last.tag}): run the newer release, whose schema this one does not know`,
    );
  }
}

/** Every `everyMs` while the migrating session waits on a lock: one line naming the sessions holding it. */
function watchLockWaits(pool: pg.Pool, migratingPid: number, log: Logger, everyMs: number): () => void {
  const look = async () => {
    // A connection of its own: the command's pool may have no other (db-server opens one). Its
    // settings are the pool's (keepalive among them); a look without an answer ends before the next.
    const client = quietClient({ ...(pool.options as pg.ClientConfig), query_timeout: everyMs });
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number; user: string; app: string; state: string; seconds: number; advisory: boolean }>(
        `select pid, usename as user, application_name as app, state, extract(epoch from now() - coalesce(xact_start, query_start))::int as seconds,
                (select wait_event = 'advisory' from pg_stat_activity where pid = $1) as advisory
           from pg_stat_activity where pid = any(pg_blocking_pids($1)) order by pid`,
        [migratingPid],
      );
      if (rows.length === 0) return;
      const who = rows.map((r) => `pid ${r.pid} (user ${r.user}${r.app ? `, ${r.app}` : ''}, ${r.state} for ${r.seconds} s)`).join(', ');
      const blockers = rows.map(({ advisory: _, ...row }) => row);
      if (rows[0].advisory) {
        log.warn({ blockers }, `waiting for another convlog process to finish migrating the database (its session: ${who})`);
      } else {
        log.warn({ blockers }, `migrating waits for a lock held by ${who}: end that session (pg_terminate_backend(pid)) or its transaction, and the migration goes on`);
      }
    } catch {
      // Only a report: the migration goes on either way.
    } finally {
      await client.end().catch(() => {});
    }
  };
  const timer = setInterval(() => void look(), everyMs);
  return () => clearInterval(timer);
}
