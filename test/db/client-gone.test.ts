// A process killed during a long statement (a migration, a long ticket's upkeep, a full read)
// used to leave that statement running on the server to its end: Postgres notices a closed
// connection only when it writes the answer. Its locks stayed held meanwhile, and the next
// process to migrate waited for the migration lock as long. convlog's sessions now have
// Postgres look for their client while a statement runs (SESSION_SETUP, src/db/pg-client.ts).
import { expect, inject, it } from 'vitest';
import { MIGRATION_LOCK, migrateDatabase } from '../../src/db/migrate.ts';
import { quietClient } from '../../src/db/pg-client.ts';
import { silentLogger } from '../../src/log.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

async function backendAlive(pid: number): Promise<boolean> {
  const admin = quietClient({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    return (await admin.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 1;
  } finally {
    await admin.end();
  }
}

it("ends a statement whose process is gone, and with it the migration lock it held", { timeout: 60_000 }, async () => {
  const client = await database.pool.connect();
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
  await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
  // A migration's long statement, then the process is killed: its socket closes under it.
  const running = client.query('select pg_sleep(300)').catch(() => 'gone');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await backendAlive(pid)).toBe(true);
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  expect(await running).toBe('gone');
  client.release(true);

  const started = Date.now();
  // Another process's start: it waits for the lock, then finds nothing to apply.
  const migrated = await Promise.race([
    migrateDatabase(database.pool, silentLogger, { lockWaitWarnMs: 60_000 }),
    new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 20_000)),
  ]);
  expect(migrated).toEqual({ applied: 0 });
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(await backendAlive(pid)).toBe(false);
});
