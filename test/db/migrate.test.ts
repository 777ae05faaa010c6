import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';
import { runCli } from '../helpers/cli.ts';
import { createEmptyDatabase } from '../helpers/database.ts';
import journal from '../../migrations/meta/_journal.json' with { type: 'json' };

const MIGRATIONS = journal.entries.length;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tables(url: string): Promise<string[]> {
  const db = await connect(url, silentLogger, 1);
  cleanups.push(db.close);
  const { rows } = await db.pool.query<{ t: string }>(
    `select table_name as t from information_schema.tables where table_schema = 'zendesk' and table_type = 'BASE TABLE' order by 1`,
  );
  return rows.map((r) => r.t);
}

describe('migrateDatabase', () => {
  it('creates the zendesk tables, and a second run changes nothing', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const db = await connect(empty.url, silentLogger, 2);
    cleanups.push(db.close);

    expect(await migrateDatabase(db.pool, silentLogger)).toEqual({ applied: MIGRATIONS });
    expect(await tables(empty.url)).toEqual([
      'attachment_thumbnails',
      'attachments',
      'authors',
      'brands',
      'conversation_events',
      'groups',
      'organizations',
      'pending_comments',
      'reply_waits',
      'ticket_days',
      'ticket_hours',
      'ticket_summaries',
      'ticket_sync',
      'tickets',
    ]);
    const schemaBefore = await db.pool.query(
      `select table_name, column_name, data_type from information_schema.columns where table_schema = 'zendesk' order by 1, 2`,
    );
    expect(await migrateDatabase(db.pool, silentLogger)).toEqual({ applied: 0 });
    const schemaAfter = await db.pool.query(
      `select table_name, column_name, data_type from information_schema.columns where table_schema = 'zendesk' order by 1, 2`,
    );
    expect(schemaAfter.rows).toEqual(schemaBefore.rows);
  });

  it('lets only one of several concurrent processes apply the migrations', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const pools = await Promise.all([1, 2, 3, 4].map(() => connect(empty.url, silentLogger, 1)));
    cleanups.push(...pools.map((p) => p.close));
    const results = await Promise.all(pools.map((p) => migrateDatabase(p.pool, silentLogger)));
    expect(results.map((r) => r.applied).sort()).toEqual([0, 0, 0, MIGRATIONS]);
    const { rows } = await pools[0].pool.query('select count(*)::int as n from drizzle.__drizzle_migrations');
    expect(rows[0].n).toBe(MIGRATIONS);
  });

  it('uses the column types the contract promises', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const db = await connect(empty.url, silentLogger, 1);
    cleanups.push(db.close);
    await migrateDatabase(db.pool, silentLogger);
    const { rows } = await db.pool.query<{ c: string; t: string }>(
      `select table_name || '.' || column_name as c, data_type as t from information_schema.columns
        where table_schema = 'zendesk' and column_name in ('ticket_id','created_at','raw','content','metadata','id','reference')`,
    );
    const types = Object.fromEntries(rows.map((r) => [r.c, r.t]));
    expect(types['conversation_events.ticket_id']).toBe('bigint');
    expect(types['conversation_events.created_at']).toBe('timestamp with time zone');
    expect(types['conversation_events.raw']).toBe('jsonb');
    // Read from raw by the view since migration 0008, no longer stored twice.
    expect(types['conversation_timeline.content']).toBe('jsonb');
    expect(types['conversation_timeline.metadata']).toBe('jsonb');
    expect(types['conversation_events.content']).toBeUndefined();
    expect(types['conversation_events.reference']).toBe('text');
    expect(types['attachments.id']).toBe('bigint');
    expect(types['attachment_thumbnails.id']).toBe('bigint');
  });

  it("names the migration that failed and Postgres's reason, and applies none of them", async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const db = await connect(empty.url, silentLogger, 1);
    cleanups.push(db.close);
    // An object made by hand under a name the first migration creates.
    await db.pool.query('create schema zendesk');

    const result = await runCli(['migrate'], { env: { DATABASE_URL: empty.url } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: 'convlog migrate: migration 0000_init.sql failed, so none of the pending migrations was applied: schema "zendesk" already exists\n',
    });
    const { rows } = await db.pool.query(
      `select (select count(*)::int from drizzle.__drizzle_migrations) as applied,
              (select count(*)::int from information_schema.tables where table_schema = 'zendesk') as tables`,
    );
    expect(rows[0]).toEqual({ applied: 0, tables: 0 });
  });

  it('says a database that takes no writes is one, not that a migration failed, and reading it still works', async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    expect((await runCli(['migrate'], { env: { DATABASE_URL: empty.url } })).code).toBe(0);
    const name = new URL(empty.url).pathname.slice(1);
    const db = await connect(empty.url, silentLogger, 1);
    cleanups.push(db.close);
    // What a standby refuses too; set on the database, its new sessions start read-only.
    await db.pool.query(`alter database "${name}" set default_transaction_read_only = on`);

    const [status, query] = await Promise.all([
      runCli(['status'], { env: { DATABASE_URL: empty.url } }),
      runCli(['query', 'select count(*) as n from zendesk.ticket_sync'], { env: { DATABASE_URL: empty.url } }),
    ]);
    expect({ code: status.code, stderr: status.stderr }).toEqual({
      code: 2,
      stderr:
        'convlog status: the database takes no writes (cannot execute CREATE SCHEMA in a read-only transaction): a standby, or default_transaction_read_only set on it or its user; convlog migrates and syncs into the primary, and a standby can be read with "convlog query", psql or a BI tool\n',
    });
    expect(query.code).toBe(0);
    expect(query.stdout).toBe(' n\n---\n 0\n');
  });

  it('runs the migrations without the statement_timeout of the database or the login', async () => {
    // A limit set for people's queries cancelled a migration that rewrote a large table, and with
    // it every pending one, at each start. What each migration statement ran under is recorded by
    // an event trigger, which fires in the migration's own session.
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const name = new URL(empty.url).pathname.slice(1);
    const setup = await connect(empty.url, silentLogger, 1);
    cleanups.push(setup.close);
    await setup.pool.query(`
      create table public.seen_timeouts (setting text);
      create function public.record_timeout() returns event_trigger language plpgsql as $$
      begin insert into public.seen_timeouts values (current_setting('statement_timeout')); end $$;
      create event trigger record_timeout on ddl_command_end execute function public.record_timeout();
      alter database "${name}" set statement_timeout = '5s'`);
    const db = await connect(empty.url, silentLogger, 1);
    cleanups.push(db.close);
    expect(await migrateDatabase(db.pool, silentLogger)).toEqual({ applied: MIGRATIONS });
    const { rows } = await db.pool.query<{ setting: string; n: number }>('select setting, count(*)::int as n from public.seen_timeouts group by 1');
    expect(rows.map((r) => r.setting)).toEqual(['0']);
    expect(rows[0].n).toBeGreaterThan(MIGRATIONS);
    // Nor does the pool's one connection, the migration's, have it afterwards (src/db/pg-client.ts).
    expect((await db.pool.query<{ statement_timeout: string }>('show statement_timeout')).rows[0].statement_timeout).toBe('0');
    await setup.pool.query('drop event trigger record_timeout');
  });

  it("refuses a pgboss schema another application's older pg-boss made, before changing anything", async () => {
    const empty = await createEmptyDatabase();
    cleanups.push(empty.drop);
    const db = await connect(empty.url, silentLogger, 1);
    cleanups.push(db.close);
    // The parts pg-boss reads to decide whether to migrate: its version table, at pg-boss 11's
    // version (which convlog's pg-boss 12 upgraded to its own, 46, unasked), beside a queue of
    // that application's.
    await db.pool.query(`create schema pgboss`);
    await db.pool.query(`create table pgboss.version (version int primary key, maintained_on timestamptz, cron_on timestamptz)`);
    await db.pool.query(`insert into pgboss.version (version) values (26)`);
    await db.pool.query(`create table pgboss.queue (name text primary key)`);
    await db.pool.query(`insert into pgboss.queue (name) values ('send-invoices')`);

    const result = await runCli(['status'], { env: { DATABASE_URL: empty.url } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr:
        "convlog status: schema pgboss holds another application's pg-boss queue (schema version 26, older than any convlog release has used): convlog would upgrade it to its own pg-boss's, under that application; give convlog a database of its own (DATABASE_URL): nothing was changed\n",
    });
    const { rows } = await db.pool.query(
      `select (select max(version) from pgboss.version) as version,
              (select count(*)::int from pg_namespace where nspname in ('zendesk', 'convlog', 'drizzle')) as schemas`,
    );
    expect(rows[0]).toEqual({ version: 26, schemas: 0 });
  });
});
