// A migration that must replace a view waits for every session using it: one left idle in a
// transaction (a BI tool's, say) holds it for good. The command says, every few seconds, which
// session it waits for, and goes on once that session ends.
import pg from 'pg';
import pino from 'pino';
import { expect, it } from 'vitest';
import { MIGRATION_LOCK, migrateDatabase } from '../../src/db/migrate.ts';
import type { Logger } from '../../src/log.ts';
import { useTestDatabase } from '../helpers/database.ts';

/** When 0026_comment_redacted_at was made (`when` in migrations/meta/_journal.json). */
const SINCE_0026 = 1796189737477;
const database = useTestDatabase();

it('names the session a migration waits for, and goes on once it ends', { timeout: 30_000 }, async () => {
  // 0026, which adds a column to ticket_sync (read by the view below), and those after it are
  // pending again: each can run twice.
  const { rowCount: pending } = await database.pool.query('delete from drizzle.__drizzle_migrations where created_at >= $1', [SINCE_0026]);
  expect(pending).toBeGreaterThan(0);
  const analyst = new pg.Client({ connectionString: database.url, application_name: 'a BI tool' });
  await analyst.connect();
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) }) as unknown as Logger;
  try {
    await analyst.query('begin');
    await analyst.query('select 1 from zendesk.ticket_conversations limit 1');
    const analystPid = (await analyst.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;

    const migrating = migrateDatabase(database.pool, log, { lockWaitWarnMs: 300 });
    const started = Date.now();
    while (!lines.some((l) => l.level === 40) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 100));
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(new RegExp(`^migrating waits for a lock held by pid ${analystPid} \\(user \\w+, a BI tool, idle in transaction for \\d+ s\\): end that session`));

    await analyst.query('commit');
    expect(await migrating).toEqual({ applied: pending });
  } finally {
    await analyst.end();
  }
});

it("says it waits for another convlog process's migration, without telling to end it", { timeout: 30_000 }, async () => {
  const other = new pg.Client({ connectionString: database.url });
  await other.connect();
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) }) as unknown as Logger;
  try {
    // Another process holds the migration lock.
    await other.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const migrating = migrateDatabase(database.pool, log, { lockWaitWarnMs: 300 });
    const started = Date.now();
    while (!lines.some((l) => l.level === 40) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/^waiting for another convlog process to finish migrating the database \(its session: pid \d+/);
    await other.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    expect(await migrating).toEqual({ applied: 0 });
  } finally {
    await other.end();
  }
});
