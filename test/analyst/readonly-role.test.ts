// `convlog grant-readonly` makes a role for BI tools: connected as a login in that role, every
// table and view in zendesk can be read, nothing can be written or created, and convlog's
// own schemas (convlog, pgboss, drizzle) stay out of reach, also for tables added later.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { readonlyRoleSql } from '../../src/db/readonly-role.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const suffix = randomBytes(4).toString('hex');
const ROLE = `convlog_ro_${suffix}`;
const LOGIN = `convlog_bi_${suffix}`;
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;

let database: TestDatabase;
let reader: pg.Client;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  // The queue's schema, as a worker creates it, to prove the role cannot read it.
  const boss = await startBoss(database, silentLogger);
  await boss.stop({ graceful: false, timeout: 2_000 });
});

afterAll(async () => {
  await reader?.end().catch(() => {});
  await database?.close();
  // The roles' grants went with the database; the roles are cluster-wide.
  await admin(`drop role if exists ${LOGIN}`);
  await admin(`drop role if exists ${ROLE}`);
});

async function denied(sql: string): Promise<string> {
  const error = await reader.query(sql).then(
    () => undefined,
    (e: { code?: string; message: string }) => e,
  );
  expect(error, `expected "${sql}" to be refused`).toBeDefined();
  expect(error!.code, `${sql}: ${error!.message}`).toBe('42501');
  return error!.message;
}

describe('convlog grant-readonly', () => {
  it('creates the role, again without harm, and prints how to add a login', async () => {
    for (let run = 0; run < 2; run++) {
      const result = await runCli(['grant-readonly', ROLE], { env: { DATABASE_URL: database.url } });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`${ROLE} may now read schema zendesk`);
      expect(result.stdout).toContain(`IN ROLE ${ROLE}`);
    }
    await database.pool.query(`create role ${LOGIN} login password '${PASSWORD}' in role ${ROLE}`);
    const url = new URL(database.url);
    url.username = LOGIN;
    url.password = PASSWORD;
    reader = new pg.Client({ connectionString: url.toString() });
    await reader.connect();
  }, 120_000);

  it('prints the same SQL with --print, without a database', async () => {
    const result = await runCli(['grant-readonly', ROLE, '--print'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(readonlyRoleSql(ROLE).trim());
  }, 60_000);

  it('refuses a role name that would need quoting', async () => {
    const result = await runCli(['grant-readonly', 'BI-Tool'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not a usable role name/);
  }, 60_000);

  it('refuses the names Postgres reserves (public, none, pg_…) and SQL key words, before touching the database', async () => {
    const names = ['public', 'none', 'pg_foo', 'pg_read_server_files', 'pg_monitor', 'user', 'current_user'];
    const results = await Promise.all(names.map((name) => runCli(['grant-readonly', name], { env: { DATABASE_URL: database.url } })));
    results.forEach((result, i) => {
      expect(result.code, names[i]).toBe(2);
      const [first, ...rest] = result.stderr.trimEnd().split('\n');
      expect(first, names[i]).toMatch(new RegExp(`^convlog grant-readonly: "${names[i]}"(:| is) .*(reserved|key word).*: choose another name, such as convlog_readonly$`));
      expect(rest, names[i]).toEqual(['usage: convlog grant-readonly [ROLE] [--print]']);
      expect(result.stdout, names[i]).toBe('');
    });
    const printed = await runCli(['grant-readonly', 'pg_read_server_files', '--print']);
    expect(printed.code).toBe(2);
    expect(printed.stdout).toBe('');
    // pg_monitor and the like stay without members.
    const { rows } = await database.pool.query(
      `select count(*)::int as n from pg_auth_members m join pg_roles r on r.oid = m.roleid where r.rolname in ('pg_monitor', 'pg_read_server_files')`,
    );
    expect(rows[0].n).toBe(0);
  }, 60_000);

  it('refuses to make the role convlog runs as read-only', async () => {
    const self = decodeURIComponent(new URL(database.url).username);
    const result = await runCli(['grant-readonly', self], { env: { DATABASE_URL: database.url } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot be made read-only/);
    await expect(database.pool.query(`insert into zendesk.ticket_sync (ticket_id) values (99) returning ticket_id`)).resolves.toBeDefined();
  }, 60_000);

  it('can read every table and view in zendesk', async () => {
    const { rows } = await database.pool.query<{ relname: string }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'zendesk' and c.relkind in ('r', 'v') order by 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(11);
    for (const { relname } of rows) {
      await expect(reader.query(`select count(*) from zendesk."${relname}"`)).resolves.toBeDefined();
    }
  });

  it('cannot insert, update, delete, truncate or create anything', async () => {
    await denied(`insert into zendesk.ticket_sync (ticket_id) values (1)`);
    await denied(`update zendesk.ticket_sync set status = 'failed'`);
    await denied(`delete from zendesk.conversation_events`);
    await denied(`truncate zendesk.authors`);
    await denied(`create table zendesk.mine (id int)`);
    await denied(`create view zendesk.mine as select 1 as one`);
    await denied(`create schema mine`);
    await denied(`comment on table zendesk.authors is 'changed'`);
  });

  it('cannot read convlog, pgboss or drizzle', async () => {
    expect(await denied(`select * from convlog.rate_budgets`)).toMatch(/schema convlog/);
    expect(await denied(`select * from convlog.sync_state`)).toMatch(/schema convlog/);
    expect(await denied(`select * from pgboss.job`)).toMatch(/schema pgboss/);
    expect(await denied(`select * from drizzle.__drizzle_migrations`)).toMatch(/schema drizzle/);
  });

  it('a login in the role that runs a command needing the sync user gets one line saying so, exit 2', async () => {
    const url = new URL(database.url);
    url.username = LOGIN;
    url.password = PASSWORD;
    const result = await runCli(['status'], { env: { DATABASE_URL: url.toString() } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^convlog status: the database user may not migrate convlog's schemas \(permission denied for schema drizzle\): every command but "convlog query" needs the user convlog syncs with/),
    ]);
    expect(result.stderr).not.toContain(PASSWORD);
    // query is the command such a login has.
    const query = await runCli(['query', 'select count(*) as n from zendesk.conversation_events'], { env: { DATABASE_URL: url.toString() } });
    expect(query.code, query.stderr).toBe(0);
  });

  it('can read a table or view a later migration creates, and still not write it', async () => {
    // A later migration runs as the role convlog connects as, like this one.
    await database.pool.query(`create table zendesk.later_table (id int); insert into zendesk.later_table values (7)`);
    await database.pool.query(`create view zendesk.later_view as select id from zendesk.later_table`);
    expect((await reader.query(`select id from zendesk.later_view`)).rows).toEqual([{ id: 7 }]);
    expect((await reader.query(`select id from zendesk.later_table`)).rows).toEqual([{ id: 7 }]);
    await denied(`insert into zendesk.later_table values (8)`);
    await database.pool.query(`drop view zendesk.later_view; drop table zendesk.later_table`);
  });
});
