// `convlog sync 2` while a worker is already syncing ticket 2: that run may have read its pages
// before the change the person is syncing for, so `sync` waits for the run after it. It used to
// take the ticket for done as soon as the old run recorded `synced`, a moment before the worker
// queued the ticket again, and returned with what the old run had read.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { endedWithin, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createFixture, ticketSync, type Fixture } from '../helpers/sync-fixture.ts';

const TICKET = 2;
const EVENTS = 800;
let fixture: Fixture;
let worker: Convlog | undefined;

beforeAll(async () => {
  // 8 pages, each answered after 2 s until `sync` has asked: the run is still going, however long
  // the command takes to start on a busy machine.
  fixture = await createFixture({ tickets: 3, ticketSizes: { [TICKET]: EVENTS }, latency: 2_000 }, { queue: [TICKET] });
});
afterAll(async () => {
  worker?.kill('SIGTERM');
  await worker?.exited;
  await fixture?.close();
});

async function until<T>(what: string, look: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await look();
    if (seen !== undefined) return seen;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it('waits for the run after the one in flight when it was asked, not for the one in flight', { timeout: 150_000 }, async () => {
  const { pool } = fixture.database;
  const row = () => ticketSync(fixture.database, TICKET);
  worker = startConvlog(['work', '--concurrency', '1'], { env: fixture.env });
  await until('the run to start', async () => ((await row())?.status === 'syncing' ? true : undefined));

  const askedAt = (await pool.query<{ now: Date }>('select clock_timestamp() as now')).rows[0].now;
  const sync = startConvlog(['sync', String(TICKET)], { env: fixture.env });
  await until('sync to mark the ticket', async () => ((await pool.query('select 1 from zendesk.ticket_sync where ticket_id = $1 and sync_again_at is not null', [TICKET])).rowCount ? true : undefined));
  expect((await row())?.status).toBe('syncing');
  fixture.sim.setOptions({ latency: 0 });

  // Hold the worker between recording the old run's end and ending its job (after which it queues
  // the ticket again): the job's row, locked, makes its completion wait.
  const holder = new pg.Client({ connectionString: fixture.database.url });
  await holder.connect();
  try {
    await holder.query('begin');
    const locked = await holder.query(`select id from pgboss.job where name = 'ticket-sync' and singleton_key = $1 and state = 'active' for update`, [String(TICKET)]);
    expect(locked.rowCount).toBe(1);
    await until('the old run to record its end', async () => ((await row())?.status === 'synced' ? true : undefined));
    // Zendesk's log moves on after the old run read it.
    fixture.sim.appendEvents(TICKET, 5);
    expect(await endedWithin(sync, 1_500)).toBe('running');
  } finally {
    await holder.query('commit').catch(() => {});
    await holder.end();
  }

  const exit = await sync.exited;
  expect(exit.code, sync.stderr()).toBe(0);
  expect(sync.stdout()).toMatch(/^synced 1, not_found 0, forbidden 0, failed 0 /);
  const after = await pool.query<{ started_at: Date; events: number }>(
    'select started_at, (select count(*)::int from zendesk.conversation_events where ticket_id = $1) as events from zendesk.ticket_sync where ticket_id = $1',
    [TICKET],
  );
  expect(after.rows[0].started_at.getTime()).toBeGreaterThan(askedAt.getTime());
  expect(after.rows[0].events).toBe(EVENTS + 5);
});
