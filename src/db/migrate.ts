// Applies migrations/ under an advisory lock, so that processes starting together migrate once.
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Logger } from '../log.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));
// Any constant works; it only has to be the same in every convlog process.
const MIGRATION_LOCK = 7_204_315_001;

export async function migrateDatabase(pool: pg.Pool, log: Logger): Promise<{ applied: number }> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const before = await appliedCount(client);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    const applied = (await appliedCount(client)) - before;
    if (applied > 0) log.info({ applied }, 'database migrated');
    return { applied };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

async function appliedCount(client: pg.PoolClient): Promise<number> {
  const exists = await client.query(`select to_regclass('drizzle.__drizzle_migrations') is not null as e`);
  if (!exists.rows[0]?.e) return 0;
  const { rows } = await client.query<{ n: string }>('select count(*) as n from drizzle.__drizzle_migrations');
  return Number(rows[0]?.n ?? 0);
}
