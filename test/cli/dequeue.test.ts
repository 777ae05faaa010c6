// `convlog dequeue` takes back a mistaken enqueue: the waiting sync jobs of the tickets named go,
// a job a worker holds stays (and is counted), and each ticket's ticket_sync row is as it was
// before it was queued, so `status` agrees with the queue. Bad input changes nothing, and neither
// does a dequeue that fails halfway: it is one transaction.
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { CHANGED_SINCE_SYNC } from '../../src/db/dequeued.ts';
import { runCli } from '../helpers/cli.ts';
import { holdRows, sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { bossFor, createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Row = Record<string, unknown>;
const query = async <T extends pg.QueryResultRow = Row>(f: Fixture, text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;

/** Every sync job's ticket and state, and every ticket_sync row but its updated_at. */
async function snapshot(f: Fixture): Promise<{ jobs: Row[]; tickets: Row[] }> {
  return {
    jobs: await query(f, `select singleton_key as key, state::text, priority, data from pgboss.job where name = 'ticket-sync' order by singleton_key, created_on`),
    tickets: await query(f, `select * from zendesk.ticket_sync order by ticket_id`).then((rows) => rows.map(({ updated_at: _, ...row }) => row)),
  };
}

const jobStates = async (f: Fixture) =>
  Object.fromEntries((await query<{ state: string; n: number }>(f, `select state::text, count(*)::int as n from pgboss.job where name = 'ticket-sync' group by state`)).map((r) => [r.state, r.n]));

const rowOf = async (f: Fixture, ticketId: number) => (await query<Row>(f, `select * from zendesk.ticket_sync where ticket_id = $1`, [ticketId]))[0];

/** `status --json`'s queue and ticket counts. */
async function status(f: Fixture): Promise<{ queue: Record<string, number>; tickets: Record<string, number>; interrupted: { count: number } }> {
  const result = await runCli(['status', '--json'], { env: f.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** Holds the job of `ticketId` as a worker does (state active), without running it. */
async function holdJob(f: Fixture, ticketId: number): Promise<void> {
  const boss = await bossFor(f, false);
  try {
    await enqueueTickets(boss, f.database.db, [ticketId], { priority: 100 });
    const [job] = await boss.fetch(SYNC_QUEUE, { batchSize: 1 });
    expect(job?.data).toEqual({ ticketId });
  } finally {
    await boss.stop({ graceful: false, timeout: 2_000 });
  }
}

describe('convlog dequeue', { timeout: 120_000 }, () => {
  it('removes the waiting jobs, leaves a running one, and gives each ticket back the status it had', async () => {
    fixture = await createFixture({ tickets: 20, forbidden: [4], deleted: [9], ticketSizes: { 3: 30, 8: 3_000 } }, { queue: [] });
    const f = fixture;
    const synced = await runCli(['sync', '3', '4', '9'], { env: f.env });
    expect(synced.stdout, synced.stderr).toMatch(/^synced 1, not_found 1, forbidden 1, failed 0/);
    const before = { 3: await rowOf(f, 3), 4: await rowOf(f, 4), 9: await rowOf(f, 9) };

    // Ticket 8's sync is stopped (Ctrl-C) after its first pages: it waits to be tried again.
    f.sim.setOptions({ latency: 50 });
    const stop = new AbortController();
    const interrupted = runCli(['sync', '8'], { env: f.env, signal: stop.signal });
    await expect.poll(async () => (await rowOf(f, 8))?.pages_synced, { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);
    stop.abort();
    expect((await interrupted).code).toBe(1);
    f.sim.setOptions({ latency: 0 });
    const eventsOf8 = async () => (await query<{ n: number }>(f, `select count(*)::int as n from zendesk.conversation_events where ticket_id = 8`))[0].n;
    const stored8 = await eventsOf8();
    expect(stored8).toBeGreaterThan(0);
    // Stopped by a shutdown: not a failure while it waits to be tried again.
    expect(await rowOf(f, 8)).toMatchObject({ status: 'queued', interrupted_at: expect.any(Date) });

    // The mistake: 1,000 tickets queued, the three synced ones among them; ticket 6 is taken by a worker.
    const enqueued = await runCli(['enqueue', '--range', '1000..1999', '3', '4', '9'], { env: f.env });
    expect(enqueued.stdout, enqueued.stderr).toMatch(/^queued 1,003 tickets, 0 already queued/);
    await holdJob(f, 6);

    const result = await runCli(['dequeue', '--range', '1000..1999', '3', '4', '9', '8', '6', '7', '3'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'removed 1,004 queued tickets; 1 is being synced and was left; 1 of those removed had begun syncing and is now failed (last_error in zendesk.ticket_sync says why); 1 was not queued; 1 duplicate id ignored\n',
    );

    // Only the running job is left.
    expect(await jobStates(f)).toEqual({ active: 1, completed: 3 });
    // Each ticket is as it was before it was queued; the ones convlog had never synced are forgotten.
    // (queued_at says when it was last queued: by the enqueue taken back.)
    for (const id of [3, 4, 9] as const) {
      expect({ id, ...(await rowOf(f, id)) }).toEqual({ id, ...before[id], queued_at: expect.any(Date), updated_at: expect.any(Date) });
    }
    expect(await query(f, `select ticket_id from zendesk.ticket_sync where ticket_id between 1000 and 1999`)).toEqual([]);
    // Ticket 8 had begun: failed, saying how its sync ended and that it was dequeued; its pages stay.
    // Taken out, it will not be: failed, its reason among the last errors rather than the interrupted.
    expect(await rowOf(f, 8)).toMatchObject({
      status: 'failed',
      last_error: expect.stringMatching(/^interrupted.*; then taken out of the queue \(convlog dequeue\)$/),
      interrupted_at: null,
    });
    expect(await eventsOf8()).toBe(stored8);
    // The running ticket keeps its mark: its run decides its status.
    expect(await rowOf(f, 6)).toMatchObject({ status: 'queued' });

    const { queue, tickets, interrupted: stopped } = await status(f);
    expect(queue).toMatchObject({ queued: 0, waiting_to_retry: 0, running: 1 });
    expect(tickets).toMatchObject({ queued: 1, syncing: 0, synced: 1, not_found: 1, forbidden: 1, failed: 1 });
    expect(stopped.count).toBe(0);

    // A second dequeue finds nothing more to take.
    const again = await runCli(['dequeue', '3', '6'], { env: f.env });
    expect(again.stdout).toBe('removed 0 queued tickets; 1 is being synced and was left; 1 was not queued\n');
  });

  it('matches a range of many ids against the jobs the queue holds, with the same counts', async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: [5, 120_000, 200_000, 3_000_000] });
    const f = fixture;
    await holdJob(f, 6);
    // 150,000 ids, over what is sent to Postgres as keys: read against the queue's live jobs instead.
    const result = await runCli(['dequeue', '--range', '1..150000', '5'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('removed 2 queued tickets; 1 is being synced and was left; 149,997 were not queued; 1 duplicate id ignored\n');
    const left = await query(f, `select singleton_key as key, state::text from pgboss.job where name = 'ticket-sync' order by singleton_key::bigint`);
    expect(left).toEqual([
      { key: '6', state: 'active' },
      { key: '200000', state: 'created' },
      { key: '3000000', state: 'created' },
    ]);
  });

  it('with --all, empties the queue of waiting tickets; they can be queued again', async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: [1, 2, 3, ...Array.from({ length: 500 }, (_, i) => 5_000 + i)] });
    const f = fixture;
    const result = await runCli(['dequeue', '--all'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('removed 503 queued tickets\n');
    expect(await jobStates(f)).toEqual({});
    const { queue, tickets } = await status(f);
    expect(queue).toMatchObject({ queued: 0, waiting_to_retry: 0, running: 0 });
    expect(Object.values(tickets).every((n) => n === 0)).toBe(true);

    const requeued = await runCli(['enqueue', '2'], { env: f.env });
    expect(requeued.stdout).toMatch(/^queued 1 ticket, 0 already queued/);
    expect((await status(f)).queue).toMatchObject({ queued: 1 });
  });

  it('refuses bad input in one line and changes nothing', async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: [1, 2, 3] });
    const f = fixture;
    const before = await snapshot(f);
    const cases: [string[], RegExp][] = [
      [['dequeue', '1', 'abc'], /^convlog dequeue: invalid ticket id "abc" \(argument 2\): ids are positive integers; nothing was dequeued$/],
      [['dequeue', '--range', '9..1'], /^convlog dequeue: invalid --range "9\.\.1": .*; nothing was dequeued$/],
      [['dequeue', '--all', '2'], /^convlog dequeue: --all takes every queued ticket: give it without ids, --file or --range; nothing was dequeued$/],
      [['dequeue'], /^convlog dequeue: no ticket ids given: pass ids, --file PATH \(or - for stdin\), --range A\.\.B, or --all; nothing was dequeued$/],
      [['dequeue', '--file', '/nonexistent/ids.txt'], /^convlog dequeue: cannot read --file \/nonexistent\/ids\.txt: .*; nothing was dequeued$/],
      [['dequeue', '1..3'], /^convlog dequeue: invalid ticket id "1\.\.3" .*\(for a span of ids, give --range 1\.\.3\); nothing was dequeued$/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { env: f.env });
      expect(result.code, args.join(' ')).toBe(2);
      const [first, ...rest] = result.stderr.trimEnd().split('\n');
      expect(first, args.join(' ')).toMatch(message);
      expect(rest.every((line) => line.startsWith('usage: convlog dequeue')), result.stderr).toBe(true);
      expect(result.stdout).toBe('');
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('is one transaction: a dequeue that fails halfway leaves every job and row as it was', async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: Array.from({ length: 1_000 }, (_, i) => 1_000 + i) });
    const f = fixture;
    const before = await snapshot(f);
    // Another transaction holds the last ticket's row: the dequeue deletes the jobs, then waits for
    // it, and is cancelled there.
    const holder = await holdRows(f.database.pool, `select 1 from zendesk.ticket_sync where ticket_id = 1999 for update`);
    try {
      const dequeue = runCli(['dequeue', '--range', '1000..1999'], { env: f.env });
      await sessionsWaitingForLocks(f.database.pool, 1);
      await f.database.pool.query(`select pg_cancel_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      const result = await dequeue;
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/canceling statement due to user request/);
    } finally {
      await holder.release();
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('says which of the jobs it left are held by a worker not heard from for a minute, killed or cut off, and what frees them', async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: [] });
    const f = fixture;
    await holdJob(f, 6);
    await holdJob(f, 7);
    // Ticket 7's worker was killed two minutes ago: no heartbeat since.
    await query(f, `update pgboss.job set started_on = now() - interval '2 minutes', heartbeat_on = null where name = 'ticket-sync' and singleton_key = '7'`);
    const both = await runCli(['dequeue', '6', '7'], { env: f.env });
    expect(both.stdout, both.stderr).toBe(
      'removed 0 queued tickets; 2 are being synced and were left (1 of them by a worker not heard from for over a minute: killed or cut off? ' +
        'it stays held until a "convlog work" or "convlog sync" gives it back to the queue, within a minute of starting)\n',
    );
    const one = await runCli(['dequeue', '7'], { env: f.env });
    expect(one.stdout, one.stderr).toBe(
      'removed 0 queued tickets; 1 is being synced and was left (its worker has not been heard from for over a minute: killed or cut off? ' +
        'it stays held until a "convlog work" or "convlog sync" gives it back to the queue, within a minute of starting)\n',
    );
  });

  it('ends a sync waiting for the tickets it takes out, which says so', async () => {
    // One slot on ticket 1 (30 pages, each 100 ms) while tickets 2..20 wait behind it.
    fixture = await createFixture({ tickets: 20, ticketSizes: { 1: 3_000 }, latency: 100 }, { queue: [] });
    const f = fixture;
    const sync = runCli(['sync', '--range', '1..20', '--concurrency', '1'], { env: f.env, timeoutMs: 30_000 });
    await expect.poll(async () => (await rowOf(f, 1))?.status, { timeout: 30_000, interval: 50 }).toBe('syncing');
    const result = await runCli(['dequeue', '--range', '1..20'], { env: f.env });
    expect(result.stdout, result.stderr).toBe('removed 19 queued tickets; 1 is being synced and was left\n');
    const synced = await sync;
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/^synced 1, not_found 0, forbidden 0, failed 0, dequeued 19 \(taken out of the queue before their first sync\) \| 3,000 events read/);
  });

  it("is what purge's refusal of a queued ticket points to", async () => {
    fixture = await createFixture({ tickets: 20, ticketSizes: { 7: 20 } }, { queue: [] });
    const f = fixture;
    expect((await runCli(['sync', '7'], { env: f.env })).code).toBe(0);
    await runCli(['enqueue', '7'], { env: f.env });
    const refused = await runCli(['purge', '7'], { env: f.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'convlog purge: nothing purged: ticket 7 is queued or syncing; purge it once the sync has finished, or after "convlog dequeue 7" has taken it out of the queue (one a worker is syncing stays until its run ends)\n',
    );
    expect((await runCli(['dequeue', '7'], { env: f.env })).stdout).toBe('removed 1 queued ticket\n');
    const purged = await runCli(['purge', '7'], { env: f.env });
    expect(purged.stdout, purged.stderr).toMatch(/^purged 1 ticket: 20 events/);
  });

  it('says which tickets given back as synced changed in Zendesk since, which no backfill will queue again', async () => {
    // A backfill's export position moves past the change it queued a ticket for: dequeued, the
    // ticket was `synced` again, its new events never read, and nothing said so.
    fixture = await createFixture({ tickets: 6, ticketSizes: { 2: 3, 5: 3 } }, { queue: [] });
    const f = fixture;
    expect((await runCli(['sync', '2', '5'], { env: f.env })).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_100)); // Zendesk's times are whole seconds
    f.sim.appendEvents(5, 2);
    const backfill = await runCli(['backfill', '--since', '30d'], { env: f.env, timeoutMs: 60_000 });
    expect(backfill.code, backfill.stderr).toBe(0);
    const dequeued = await runCli(['dequeue', '--all'], { env: f.env });
    expect(dequeued.code, dequeued.stderr).toBe(0);
    expect(dequeued.stdout).toBe(
      `removed 6 queued tickets; 1 of them changed in Zendesk after its last sync (its ticket row says so) and is synced again with only what that sync read, ` +
        `and no backfill queues it until it changes again: npx convlog enqueue --sql "${CHANGED_SINCE_SYNC}" queues it now\n`,
    );
    // As printed, that query finds it.
    const found = await query<{ ticket_id: string }>(f, CHANGED_SINCE_SYNC);
    expect(found.map((r) => Number(r.ticket_id))).toEqual([5]);
  });

  it('a purged ticket queued by mistake and taken back out keeps nothing but its tombstone', async () => {
    // enqueue reads the ticket row of a ticket without one, a purged one too: its subject,
    // description and requester came back and stayed under the tombstone dequeue restored.
    fixture = await createFixture({ tickets: 20, ticketSizes: { 11: 5 } }, { queue: [] });
    const f = fixture;
    expect((await runCli(['sync', '11'], { env: f.env })).code).toBe(0);
    const people = async () =>
      (await query<{ n: number }>(f, `select count(*)::int as n from zendesk.authors a, zendesk.tickets t where a.support_user_id in (t.requester_id, t.submitter_id, t.assignee_id) and t.id = 11`))[0].n;
    expect(await people()).toBeGreaterThan(0);
    const requester = (await query<{ requester_id: string }>(f, 'select requester_id from zendesk.tickets where id = 11'))[0].requester_id;
    expect((await runCli(['purge', '11'], { env: f.env })).code).toBe(0);
    const tombstone = await rowOf(f, 11);
    const authorsAfterPurge = await query(f, 'select author_key from zendesk.authors order by 1');

    const queued = await runCli(['enqueue', '11'], { env: f.env });
    expect(queued.code, queued.stderr).toBe(0);
    expect(await query(f, 'select id from zendesk.tickets where id = 11')).toHaveLength(1);
    expect((await runCli(['dequeue', '11'], { env: f.env })).stdout).toBe('removed 1 queued ticket\n');

    expect(await query(f, 'select id from zendesk.tickets where id = 11')).toEqual([]);
    expect(await query(f, 'select author_key from zendesk.authors where support_user_id = $1', [requester])).toEqual([]);
    expect(await query(f, 'select author_key from zendesk.authors order by 1')).toEqual(authorsAfterPurge);
    const { updated_at: _a, queued_at: _b, ...before } = tombstone;
    const { updated_at: _c, queued_at: _d, ...after } = await rowOf(f, 11);
    expect(after).toEqual(before);
  });
});
