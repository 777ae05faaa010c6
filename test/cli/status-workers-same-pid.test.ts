// Containers that share a hostname (a compose service's replicas given one name) each run their
// worker as pid 1: pg-boss's registry then holds two live instances that are both "pid 1 on
// convlog". status named each process by its pid and host alone, so the two read as one process
// listed twice, and --json gave nothing to tell them apart. A process is its registry entry (one
// PgBoss object a process, src/commands/runtime.ts): status names the entry as well when its pid
// and host do not tell it apart. A process not heard from past one heartbeat and a half is
// marked: a killed worker stays listed until it has missed three, and read as working meanwhile.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
const FIRST = '11111111-aaaa-4aaa-8aaa-111111111111';
const SECOND = '22222222-bbbb-4bbb-8bbb-222222222222';
const OTHER = '33333333-cccc-4ccc-8ccc-333333333333';

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, seed: 1 });
  // pg-boss's schema, as every command creates it; its own instance is marked stopped.
  await (await startBoss(fixture.database, silentLogger)).stop({ graceful: false, timeout: 2_000 });
  // Two live workers as pg-boss registers them, both pid 1 on the same host, and one elsewhere,
  // last heard from 60 s ago (a heartbeat every 30 s: two missed).
  await fixture.database.pool.query(
    `insert into pgboss.instance (id, host, pid, version, node_version, heartbeat_seconds, supervise, schedule, migrate,
                                  persist_queue_stats, persist_warnings, workers, started_on, heartbeat_on)
     select id::uuid, host, pid, '12', 'v24', 30, true, false, false, false, false, '[{"queue": "ticket-sync"}]'::jsonb,
            now() - started * interval '1 minute', now() - silent * interval '1 second'
       from (values ($1, 'convlog', 1, 3, 0), ($2, 'convlog', 1, 2, 0), ($3, 'other-host', 1, 1, 60)) v(id, host, pid, started, silent)`,
    [FIRST, SECOND, OTHER],
  );
});
afterAll(async () => {
  await fixture?.close();
});

it('tells two processes of the same pid on the same host apart, by their registry entry, and marks one gone quiet', { timeout: 60_000 }, async () => {
  const text = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout.split('\n').find((l) => l.startsWith('workers '))).toMatch(
    /^workers {4}3 processes working the queue \(pid 1 on convlog as instance 11111111, pid 1 on convlog as instance 22222222, pid 1 on other-host \[not heard from for 6\d s: killed or cut off\? listed until 90 s\]\), no ticket being synced; /,
  );
  const json = await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 });
  const processes = JSON.parse(json.stdout).workers.processes;
  expect(processes).toEqual([
    expect.objectContaining({ id: FIRST, pid: 1, host: 'convlog' }),
    expect.objectContaining({ id: SECOND, pid: 1, host: 'convlog' }),
    expect.objectContaining({ id: OTHER, pid: 1, host: 'other-host' }),
  ]);
});
