// A login whose connection limits leave less room than a process working the queue opens (15)
// used to find out from a log full of retries: its statements waited for a connection or were
// refused ("too many connections for database …") and retried, and the sync crawled. Each such
// process now says it once as it starts. Against real limits: a login's and a database's
// CONNECTION LIMIT, with sessions of others holding part of them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { connectionRoom } from '../../src/db/connection-room.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { adminQuery, createEmptyDatabase } from '../helpers/database.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

const role = `convlog_room_${randomBytes(4).toString('hex')}`;
const password = 'room-for-few';
let empty: { url: string; drop(): Promise<void> };
let url: string;
let name: string;
let sim: Simulator;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  await adminQuery(inject('pgAdminUrl'), `create role ${role} login password '${password}' connection limit 12`);
  empty = await createEmptyDatabase();
  name = new URL(empty.url).pathname.slice(1);
  await adminQuery(inject('pgAdminUrl'), `alter database ${name} owner to ${role}`);
  const u = new URL(empty.url);
  u.username = role;
  u.password = password;
  url = u.toString();
  sim = await startSimulator({ tickets: 3, rateLimit: 0 });
});

afterAll(async () => {
  for (const pool of pools) await pool.end();
  await sim?.close();
  await empty?.drop();
  await adminQuery(inject('pgAdminUrl'), `drop role if exists ${role}`);
});

async function sessions(count: number): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: count });
  pools.push(pool);
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  for (const client of clients) client.release();
  return pool;
}

it('finds the tightest limit and what others hold of it, counting its own connections as free', async () => {
  const own = await sessions(2);
  expect(await connectionRoom(own, 2)).toEqual({ free: 12, limit: `CONNECTION LIMIT 12 on login ${role}`, heldByOthers: 0 });
  await sessions(3);
  expect(await connectionRoom(own, 2)).toEqual({ free: 9, limit: `CONNECTION LIMIT 12 on login ${role}`, heldByOthers: 3 });
  await adminQuery(inject('pgAdminUrl'), `alter database ${name} connection limit 8`);
  expect(await connectionRoom(own, 2)).toEqual({ free: 5, limit: `CONNECTION LIMIT 8 on database ${name}`, heldByOthers: 3 });
  await adminQuery(inject('pgAdminUrl'), `alter database ${name} connection limit -1`);
  // A superuser is bound by max_connections alone, with slots kept for it: nothing to say.
  const admin = new pg.Pool({ connectionString: empty.url, max: 1 });
  pools.push(admin);
  expect(await connectionRoom(admin, 1)).toBeUndefined();
});

it('a worker under such a limit says so once as it starts, and still syncs', { timeout: 60_000 }, async () => {
  for (const pool of pools.splice(0)) await pool.end();
  const env = { ...cliEnvFor(url, sim.url) };
  const run = await runCli(['sync', '1', '2', '3'], { env });
  expect(run.code, run.stderr).toBe(0);
  const warnings = run.stderr.split('\n').filter((line) => line.includes('more connections'));
  expect(warnings).toHaveLength(1);
  expect(JSON.parse(warnings[0]).msg).toMatch(
    new RegExp(`^Postgres leaves this login room for \\d+ more connections \\(CONNECTION LIMIT 12 on login ${role}; 0 held by other sessions\\), and a process working the queue opens up to 15: `),
  );
  // With room enough, not a word.
  await adminQuery(inject('pgAdminUrl'), `alter role ${role} connection limit 40`);
  const roomy = await runCli(['sync', '1'], { env });
  expect(roomy.code, roomy.stderr).toBe(0);
  expect(roomy.stderr).not.toContain('more connections');
});
