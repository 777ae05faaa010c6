// One database, one Zendesk account. Pointed at another account (a sandbox, the simulator, a
// second Zendesk), every command that reaches Zendesk used to write its tickets into the same
// tables under the same ids, silently. The first command that reaches Zendesk now records the
// account, and the others refuse another one in one line, exit 2, changing nothing; `account
// --set` records the same account at a new address. Through the real command line.
import { afterEach, describe, expect, it } from 'vitest';
import { accountAddress } from '../../src/commands/zendesk-account.ts';
import { checkZendeskAccount } from '../../src/db/zendesk-account.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { startSimulator } from '../../src/simulator/index.ts';

let fixture: Fixture | undefined;
let database: TestDatabase | undefined;
afterEach(async () => {
  await fixture?.close();
  await database?.close();
  fixture = database = undefined;
});

describe('accountAddress', () => {
  it('is the host and path of the base URL, without scheme or a trailing slash, and without the port of a remote host', () => {
    expect(accountAddress('https://Acme.zendesk.com')).toBe('acme.zendesk.com');
    expect(accountAddress('https://proxy.example.com:8443/zendesk/')).toBe('proxy.example.com/zendesk');
    // On this machine each port is a server of its own (two simulators, a proxy to a real account).
    expect(accountAddress('http://127.0.0.1:4010')).toBe('127.0.0.1:4010');
    expect(accountAddress('http://localhost:4011/')).toBe('localhost:4011');
    expect(accountAddress('http://[::1]:4012/zendesk')).toBe('[::1]:4012/zendesk');
    // But for the demo's simulator, on a new port each run.
    expect(accountAddress('http://127.0.0.1:4011/', { anyPort: true })).toBe('127.0.0.1');
  });
});

/** Everything a refused command could have changed. */
async function snapshot(db: TestDatabase) {
  const { rows } = await db.pool.query(`
    select (select count(*)::int from zendesk.ticket_sync) as tickets,
           (select count(*)::int from zendesk.conversation_events) as events,
           (select count(*)::int from pgboss.job) as jobs,
           (select string_agg(key || '=' || value::text, ',' order by key) from convlog.sync_state) as state`);
  return rows[0];
}

it('records the first account, refuses another in every command that reaches Zendesk, and takes the same account at a new address with --set', { timeout: 120_000 }, async () => {
  fixture = await createFixture({ tickets: 6 });
  const { database, sim, env } = fixture;
  const first = await runCli(['sync', '1', '2', '3'], { env });
  expect(first.code, first.stderr).toBe(0);
  const status = await runCli(['status'], { env });
  const port = new URL(sim.url).port;
  expect(status.stdout).toMatch(new RegExp(`^zendesk {4}127\\.0\\.0\\.1:${port} \\(since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)$`, 'm'));
  expect((await runCli(['account'], { env })).stdout).toContain(`holds the tickets of the Zendesk account at 127.0.0.1:${port} (since `);

  // The same simulator by another name stands for a second account.
  const other = { ...env, ZENDESK_BASE_URL: sim.url.replace('127.0.0.1', 'localhost') };
  const before = await snapshot(database);
  const commands = [['sync', '4'], ['enqueue', '5'], ['work', '--until-idle'], ['backfill', '--since', '1d'], ['serve', '--port', '0']];
  for (const args of commands) {
    const refused = await runCli(args, { env: { ...other, CONVLOG_WEBHOOK_SECRET: 'a-long-secret' }, timeoutMs: 30_000 });
    expect(refused.code, args.join(' ')).toBe(2);
    const lines = refused.stderr.trim().split('\n');
    expect(lines, refused.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`holds the tickets of the Zendesk account at 127\\.0\\.0\\.1:${port}, a server on this machine such as the simulator \\(since .*\\), and ZENDESK_BASE_URL names localhost:${port}: nothing was changed\\.`));
    expect(lines[0]).toContain('"npx convlog account --set" records it');
  }
  expect(await snapshot(database)).toEqual(before);
  expect((await runCli(['account'], { env: other })).stdout).toContain(`ZENDESK_BASE_URL names localhost:${port}: the commands that reach Zendesk refuse it`);

  // A renamed subdomain, a proxy: the same tickets at a new address.
  const set = await runCli(['account', '--set'], { env: other });
  expect(set.code, set.stderr).toBe(0);
  expect(set.stdout).toMatch(new RegExp(`^recorded localhost:${port} as the Zendesk account the database \\(.*\\) holds in place of 127\\.0\\.0\\.1:${port}\\n$`));
  const again = await runCli(['sync', '4'], { env: other });
  expect(again.code, again.stderr).toBe(0);
  expect((await runCli(['sync', '5'], { env })).code).toBe(2);
  // The address recorded already: nothing changes, its date included (it moved to now).
  const since = async () => (await database.pool.query(`select value->>'since' as since from convlog.sync_state where key = 'zendesk_account'`)).rows[0].since;
  const recordedSince = await since();
  await new Promise((r) => setTimeout(r, 1_100));
  const same = await runCli(['account', '--set'], { env: other });
  expect(same.code, same.stderr).toBe(0);
  expect(same.stdout).toMatch(new RegExp(`^the database \\(.*\\) holds localhost:${port} already \\(since ${recordedSince}\\); nothing was changed\\n$`));
  expect(await since()).toBe(recordedSince);
});

it('--set records nothing for an address that does not answer with the credentials', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 2, apiToken: 'right-token' });
  const { sim } = fixture;
  const env = { ...fixture.env, ZENDESK_API_TOKEN: 'right-token' };
  expect((await runCli(['sync', '1'], { env })).code).toBe(0);
  const wrong = await runCli(['account', '--set'], { env: { ...env, ZENDESK_BASE_URL: sim.url.replace('127.0.0.1', 'localhost'), ZENDESK_API_TOKEN: 'wrong' } });
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/refused the credentials.*nothing was recorded/);
  expect((await runCli(['account'], { env })).stdout).toContain(`account at 127.0.0.1:${new URL(fixture.sim.url).port} `);
});

it('a second server on this machine, on another port, is another account; one recorded without its port by an earlier version is taken', { timeout: 120_000 }, async () => {
  // Two simulators of different seeds: the same ticket ids, other conversations.
  fixture = await createFixture({ tickets: 3, seed: 1 });
  const { env, database } = fixture;
  const first = await runCli(['sync', '1'], { env });
  expect(first.code, first.stderr).toBe(0);
  const second = await startSimulator({ port: 0, tickets: 3, seed: 2 });
  try {
    const before = await snapshot(database);
    const refused = await runCli(['sync', '2'], { env: { ...env, ZENDESK_BASE_URL: second.url } });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`holds the tickets of the Zendesk account at 127.0.0.1:${new URL(fixture.sim.url).port}, a server on this machine`);
    expect(await snapshot(database)).toEqual(before);
  } finally {
    await second.close();
  }
  // As an earlier version recorded it: the host alone. Outside the demo's database, taken as this account's.
  await database.pool.query(`update convlog.sync_state set value = jsonb_set(value, '{address}', '"127.0.0.1"') where key = 'zendesk_account'`);
  expect((await runCli(['account'], { env })).stdout).not.toContain('refuse');
  const again = await runCli(['sync', '2'], { env: { ...env, LOG_LEVEL: 'info' } });
  expect(again.code, again.stderr).toBe(0);
  const port = new URL(fixture.sim.url).port;
  expect(again.stderr).toContain(`recorded 127.0.0.1:${port} as the Zendesk account this database holds, which it held as 127.0.0.1 (recorded without the port of a server on this machine)`);
  expect((await runCli(['account'], { env })).stdout).toContain(`account at 127.0.0.1:${port} `);
});

it('sync and backfill record no account whose address does not answer or refuses the credentials: one line, nothing recorded', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 2, apiToken: 'right-token' });
  const { database, env } = fixture;
  for (const [args, wrong, line] of [
    [['sync', '1'], { ZENDESK_API_TOKEN: 'wrong' }, /refused the credentials.*; nothing was queued$/],
    [['sync', '1'], { ZENDESK_BASE_URL: 'http://nosuch-convlog.invalid' }, /nosuch-convlog\.invalid/],
    [['backfill', '--since', '1d'], { ZENDESK_API_TOKEN: 'wrong' }, /refused the credentials.*; nothing was queued$/],
    [['backfill', '--since', '1d'], { ZENDESK_BASE_URL: 'http://nosuch-convlog.invalid' }, /^convlog backfill: cannot reach Zendesk at http:\/\/nosuch-convlog\.invalid: the host name does not resolve/],
  ] as const) {
    const refused = await runCli([...args], { env: { ...env, ZENDESK_API_TOKEN: 'right-token', ...wrong } });
    expect(refused.code, refused.stderr).toBe(2);
    const lines = refused.stderr.trim().split('\n');
    expect(lines, refused.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(refused.stderr).not.toContain('as the Zendesk account');
    expect(await snapshot(database)).toEqual({ tickets: 0, events: 0, jobs: 0, state: null });
  }
  const right = await runCli(['sync', '1'], { env: { ...env, ZENDESK_API_TOKEN: 'right-token', LOG_LEVEL: 'info' } });
  expect(right.code, right.stderr).toBe(0);
  expect(right.stderr).toContain(`recorded 127.0.0.1:${new URL(fixture.sim.url).port} as the Zendesk account this database holds`);
});

it('a mistyped address that never answered is replaced by the next one, since the database holds nothing of it', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 2 });
  const { env } = fixture;
  const typo = await runCli(['enqueue', '1'], { env: { ...env, ZENDESK_BASE_URL: 'http://nosuch-convlog.invalid' } });
  expect(typo.code, typo.stderr).toBe(0);
  const fixed = await runCli(['sync', '1'], { env });
  expect(fixed.code, fixed.stderr).toBe(0);
  expect((await runCli(['account'], { env })).stdout).toContain(`account at 127.0.0.1:${new URL(fixture.sim.url).port} `);
});

it('counts an export cursor as the account data, and an export start time alone as none', async () => {
  database = await createTestDatabase();
  expect((await checkZendeskAccount(database.db, 'a.zendesk.com')).outcome).toBe('recorded');
  expect((await checkZendeskAccount(database.db, 'a.zendesk.com')).outcome).toBe('same');
  await database.pool.query(`insert into convlog.sync_state (key, value) values ('incremental_export', '{"cursor": null, "startTime": 1700000000}')`);
  expect(await checkZendeskAccount(database.db, 'b.zendesk.com')).toMatchObject({ outcome: 'replaced', previous: { address: 'a.zendesk.com' } });
  await database.pool.query(`update convlog.sync_state set value = '{"cursor": "abc"}' where key = 'incremental_export'`);
  expect(await checkZendeskAccount(database.db, 'a.zendesk.com')).toMatchObject({ outcome: 'other', account: { address: 'b.zendesk.com' } });
});

it('two processes naming different accounts at once: one is recorded, and the other is told', async () => {
  database = await createTestDatabase();
  await database.pool.query(`insert into convlog.sync_state (key, value) values ('incremental_export', '{"cursor": "abc"}')`);
  const outcomes = await Promise.all([checkZendeskAccount(database.db, 'a.zendesk.com'), checkZendeskAccount(database.db, 'b.zendesk.com')]);
  expect(outcomes.map((o) => o.outcome).sort()).toEqual(['other', 'recorded']);
});
