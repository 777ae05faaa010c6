// `work --until-idle` is what cron runs, and a cron run must end: a Postgres lost mid-run (not only
// one down at start) is given up on after --give-up-after seconds, exit 2, in one line, as the
// README says, and the failed looks at the queue meanwhile are one warning, not one per look; so is
// a `sync` whose look at its tickets Postgres leaves unanswered, also once its own tickets are done
// and it only waits for another it took.
// Through the real command line, its Postgres reached through a proxy the test cuts (connections
// reset, as when the server stops) or silences (nothing answers and nothing closes, as when the
// network drops every packet).
import { expect, it, vi } from 'vitest';
import { endedWithin, startConvlog } from '../helpers/cli.ts';
import { jsonLines } from '../faults/harness.ts';
import { expectGaveUpOnPostgres, expectSyncGaveUp, plainLine, proxiedPostgres } from '../helpers/proxied-postgres.ts';
import { tcpConnections } from '../helpers/tcp-sockets.ts';
import { LEFT_WITHOUT_POSTGRES } from '../../src/queue/jobs-in-flight.ts';

const lost = proxiedPostgres();

it('gives up on a Postgres lost mid-run after --give-up-after seconds, exit 2, in one line', { timeout: 90_000 }, async () => {
  const worker = await lost.busyWorker();
  await lost.proxy.cut();
  const cutAt = Date.now();

  const exit = await endedWithin(worker, 45_000);
  expect(exit, worker.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expectGaveUpOnPostgres(worker, exit);
  // Not before the deadline: a blip shorter than --give-up-after is ridden out.
  expect(exit.at - cutAt).toBeGreaterThanOrEqual(3_000);
  // A look at the queue every 0.5 s failed for 3 s: one warning, and the summary of the rest as the worker stops.
  const looks = jsonLines(worker.stderr()).filter((line) => String(line.msg).startsWith('could not read the queue'));
  expect(looks.map((line) => line.msg), worker.stderr()).toEqual(['could not read the queue; trying again', expect.stringMatching(/^could not read the queue: \d+ more failed looks in the last \d+ s: /)]);
});

it('gives up the same way on a Postgres that stops answering without closing anything (packets dropped)', { timeout: 150_000 }, async () => {
  const worker = await lost.busyWorker();
  // Every connection of the worker and of pg-boss now waits for an answer that never comes.
  lost.proxy.silence();
  const silencedAt = Date.now();

  const exit = await endedWithin(worker, 100_000);
  expect(exit, worker.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expectGaveUpOnPostgres(worker, exit);
  expect(exit.at - silencedAt).toBeGreaterThanOrEqual(3_000);
  expect(plainLine(worker)).toMatch(/: no answer in time \(/);
});

// Its own connections stay silent, so the worker gives up; new ones get through (the way to the
// server came back, the state of the old connections lost): the tickets its handlers never finished
// go back to the queue at once, as at a second stop, rather than stay active until their
// heartbeats lapse and spend an attempt each.
it('hands the tickets still in flight back to the queue, their attempts unspent, when Postgres answers again as it gives up', { timeout: 150_000 }, async () => {
  const worker = await lost.busyWorker();
  lost.proxy.silence();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  lost.proxy.restore();

  const exit = await endedWithin(worker, 100_000);
  expect(exit, worker.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expectGaveUpOnPostgres(worker, exit);
  const jobs = await lost.database.pool.query<{ state: string; attempts_left: number }>(
    `select state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync' and state <> 'completed'`,
  );
  expect(jobs.rows.filter((job) => job.state === 'active')).toEqual([]);
  expect(jobs.rows.filter((job) => job.attempts_left !== 8)).toEqual([]);
  // The line says how many of the jobs in flight were handed back (held), and how many of their
  // tickets were marked `queued` saying why: maybe not all, a ticket's status row may still be
  // locked by the worker's own transaction left open on a silenced connection (a run's end).
  const left = jsonLines(worker.stderr()).filter((line) => String(line.msg).startsWith('stopped without waiting any longer'));
  expect(left, worker.stderr().slice(-3000)).toEqual([expect.objectContaining({ inFlight: expect.any(Number), handedBack: expect.any(Number), marked: expect.any(Number) })]);
  const { inFlight, handedBack, marked } = left[0] as { inFlight: number; handedBack: number; marked: number };
  // One job in flight when the other run completed before the silence reached it: "1 of its 1 job".
  expect(left[0].msg).toContain(`; ${handedBack} of its ${inFlight} ${inFlight === 1 ? 'job' : 'jobs'} in flight handed back to the queue`);
  expect(handedBack).toBeLessThanOrEqual(inFlight);
  expect(marked).toBeGreaterThan(0);
  expect(marked).toBeLessThanOrEqual(handedBack);
  const held = await lost.database.pool.query<{ ticket: number; status: string; last_error: string }>(
    `select s.ticket_id as ticket, s.status::text, s.last_error
       from pgboss.job j join zendesk.ticket_sync s on s.ticket_id = (j.data->>'ticketId')::bigint
      where j.name = 'ticket-sync' and j.state = 'created' and j.data ? 'holds'`,
  );
  expect(held.rows.length, JSON.stringify(held.rows)).toBeGreaterThanOrEqual(handedBack);
  const saysWhy = held.rows.filter((row) => row.last_error === LEFT_WITHOUT_POSTGRES && row.status === 'queued');
  expect(saysWhy.length, JSON.stringify(held.rows)).toBeGreaterThanOrEqual(marked);
  // Others are held too when the stop cut their run short first (the run's own hold, a shutdown's).
  if (marked === handedBack) expect(held.rows.filter((row) => row.last_error !== LEFT_WITHOUT_POSTGRES && !row.last_error.startsWith('interrupted by shutdown'))).toEqual([]);
  const interrupted = await lost.database.pool.query<{ status: string }>(`select status from zendesk.ticket_sync where last_error = $1`, [LEFT_WITHOUT_POSTGRES]);
  expect(interrupted.rows.length).toBeLessThanOrEqual(inFlight);
  expect(interrupted.rows.filter((row) => row.status !== 'queued')).toEqual([]);
});

// Silenced between two statements of a run's end (finishRun), the worker's own transaction stays
// open on the server, its ticket's status row locked, and nothing ends it in time: handing that job
// back still holds it, and its status write waits a moment at most, not holding up the other job's
// on the hand-back's one connection.
it('hands back the other job in flight when the status row of one ticket is locked by a transaction left open on a silenced connection', { timeout: 150_000 }, async () => {
  // Short tickets answered at once: a run ends every few tenths of a second.
  const env = await lost.env({ tickets: 200, latency: 50 });
  const worker = startConvlog(['work', '--until-idle', '--give-up-after', '3', '--concurrency', '2'], { env });
  expect((await startConvlog(['enqueue', '--range', '1..200'], { env }).exited).code).toBe(0);
  // Silenced once a run's end has asked for its ticket's upkeep: by then that transaction holds the
  // ticket's status row (src/db/analytics.ts locks it first), and its commit never comes.
  lost.proxy.silenceAfter('convlog.refresh_ticket_analytics(');
  const watcher = await lost.database.pool.connect();
  // Each run holds its own ticket's row: one, or both if the other run was also silenced mid-write.
  let locked = 0;
  try {
    const locking = `select distinct a.pid from pg_stat_activity a join pg_locks l on l.pid = a.pid join pg_class c on c.oid = l.relation
      where a.datname = current_database() and a.state = 'idle in transaction' and a.state_change < now() - interval '500 ms' and c.relname = 'ticket_sync'`;
    await vi.waitFor(async () => expect((await watcher.query(locking)).rows.length, 'a transaction holding ticket_sync rows, silenced').toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 100,
    });
    // The other run, silenced too, may be mid-transaction as well: a moment for it to show.
    await new Promise((resolve) => setTimeout(resolve, 600));
    locked = (await watcher.query(locking)).rows.length;
  } finally {
    watcher.release();
  }
  lost.proxy.restore();

  const exit = await endedWithin(worker, 60_000);
  expect(exit, worker.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expectGaveUpOnPostgres(worker, exit);
  const left = jsonLines(worker.stderr()).filter((line) => String(line.msg).startsWith('stopped without waiting any longer'));
  expect(left, worker.stderr().slice(-3000)).toHaveLength(1);
  const { inFlight, handedBack, marked } = left[0] as { inFlight: number; handedBack: number; marked: number };
  // Two slots: the other may have been between jobs, its look for the next one silenced too.
  expect([1, 2], worker.stderr().slice(-3000)).toContain(inFlight);
  // The other run may have ended before the silence reached it: its completion committed and its
  // answer lost, the worker still counts it in flight but there is nothing left to hand back. Either
  // way no job is left active to spend an attempt when its heartbeat lapses, which is what a
  // hand-back held up behind the locked row would leave.
  const active = await lost.database.pool.query(`select id from pgboss.job where name = 'ticket-sync' and state = 'active'`);
  expect(active.rows, worker.stderr().slice(-3000)).toEqual([]);
  expect(handedBack).toBeGreaterThanOrEqual(locked);
  expect(marked).toBe(handedBack - locked);
  // Held: those handed back, and a run the stop reached first, which holds its own job (a
  // shutdown's hold), or a job taken as the worker stopped, put back untouched.
  const held = await lost.database.pool.query(`select id from pgboss.job where name = 'ticket-sync' and state = 'created' and data ? 'holds'`);
  expect(held.rows.length).toBeGreaterThanOrEqual(handedBack);
  expect(left[0].msg).toContain(`; ${handedBack} of its 2 jobs in flight handed back to the queue`);
  if (locked > 0) expect(left[0].msg).toMatch(new RegExp(`; ${locked} of their tickets not marked queued in time$`));
});

// `sync` waits at someone's terminal: its look at its own tickets is bounded as the worker's looks
// at the queue are, and a look Postgres leaves unanswered ends it the same way: one line, exit 2.
it('ends sync in one line, exit 2, once Postgres has not answered its look at its tickets for a minute', { timeout: 180_000 }, async () => {
  const sync = startConvlog(['sync', '--range', '1..40', '--concurrency', '2'], { env: await lost.env() });
  await lost.storing();
  lost.proxy.silence();
  await expectSyncGaveUp(sync, Date.now(), 120_000);
});

// Its own tickets done, `sync` still waits for a ticket it took from the queue (queued before, by
// another command): Postgres going silent under that ticket's run ends it the same way, rather than
// leave it waiting for the run, and then for its last looks and its close, for ever.
it('ends sync the same way when Postgres goes silent once its tickets are done, while another ticket it took still runs', { timeout: 200_000 }, async () => {
  // Ticket 2: 50 pages of 400 ms each, about 20 s; ticket 1, sync's own: one page.
  const env = await lost.env({ tickets: 2, ticketSizes: { 1: 3, 2: 5000 } });
  const enqueue = startConvlog(['enqueue', '2'], { env });
  expect((await enqueue.exited).code, enqueue.stderr()).toBe(0);
  const sync = startConvlog(['sync', '1', '--concurrency', '2'], { env });
  const status = async (ticket: number) => (await lost.database.pool.query(`select status::text from zendesk.ticket_sync where ticket_id = $1`, [ticket])).rows[0]?.status;
  await vi.waitUntil(async () => (await status(1)) === 'synced', { timeout: 60_000, interval: 100 });
  // Its look has found it done twice in a row: draining.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await status(2)).toBe('syncing');
  lost.proxy.silence();
  await expectSyncGaveUp(sync, Date.now(), 150_000);
});

// Through a proxy the silence above is a peer whose TCP still answers; on a network that drops
// packets no answer comes at all, and the kernel's keepalive probes fail every connection at once
// (src/db/pg-client.ts). Shown here by the connections themselves: each one has its keepalive timer.
it('keeps every Postgres connection of a worker under TCP keepalive: its pool, pg-boss\'s pool and its listener', { timeout: 90_000 }, async () => {
  const worker = await lost.busyWorker();
  let seen: ReturnType<typeof tcpConnections> = [];
  const allKeptAlive = () => {
    seen = tcpConnections(worker.pid, lost.proxy.port);
    // Its pool (the looks at the queue), pg-boss's (its fetches) and pg-boss's LISTEN connection.
    return seen.length >= 3 && seen.every((connection) => connection.keepalive);
  };
  await vi.waitUntil(allKeptAlive, { timeout: 20_000, interval: 200 }).catch(() => {});
  expect(seen.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
  expect(seen.filter((connection) => !connection.keepalive)).toEqual([]);
});
