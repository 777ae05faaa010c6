// A worker that loses its job's claim (cut off from Postgres past heartbeatSeconds, its job taken
// over by another worker) stops syncing that ticket soon after its next heartbeat, and records
// nothing more for it: the ticket's status and last_error belong to the new owner.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startConvlog } from '../helpers/cli.ts';
import { createFixture, jobStates, ticketSync, type Fixture } from '../helpers/sync-fixture.ts';
import { waitForPages } from '../helpers/interrupted-worker.ts';

const TICKET = 1;
/** 80 pages at 300 ms each: the ticket takes over 20 s, far longer than a heartbeat (5 s). */
const EVENTS = 8000;
const LATENCY_MS = 300;
/** The worker's heartbeat runs every 5 s (heartbeatSeconds 10, refreshed at half); then one page. */
const STOPS_WITHIN_MS = 12_000;
const LOST_CLAIM = "lost the job's claim; another worker has it";

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { [TICKET]: EVENTS }, latency: LATENCY_MS }, { queue: [TICKET] });
  // Every write to the ticket's status or last_error, with when it happened.
  await fixture.database.pool.query(`
    create table public.status_writes (at timestamptz not null default clock_timestamp(), status text, last_error text);
    create function public.audit_status() returns trigger language plpgsql as $$
    begin
      insert into public.status_writes (status, last_error) values (new.status::text, new.last_error);
      return new;
    end $$;
    create trigger audit_status after insert or update on zendesk.ticket_sync for each row
      execute function public.audit_status();`);
});
afterAll(async () => {
  await fixture?.close();
});

/** The ticket's page requests as they reached the simulator, answered or not (one cut short by the abort too). */
function receivedLogRequests() {
  return fixture.sim.received.filter((r) => r.kind === 'conversation_log' && r.ticketId === TICKET);
}

/** Status writes since `since` (database time) whose status or last_error differ from the takeover's. */
async function statusWritesSince(since: string): Promise<{ status: string; last_error: string | null }[]> {
  const { rows } = await fixture.database.pool.query<{ status: string; last_error: string | null }>(
    `select status, last_error from public.status_writes where at > $1 and (status <> 'syncing' or last_error is not null) order by at`,
    [since],
  );
  return rows;
}

it('a worker whose job was taken over stops fetching pages within seconds and records nothing for the ticket', { timeout: 120_000 }, async () => {
  const { pool } = fixture.database;
  const worker = startConvlog(['work', '--concurrency', '1'], { env: fixture.env });
  let heartbeat: NodeJS.Timeout | undefined;
  let takenAtDb = '';
  try {
    await waitForPages(fixture, TICKET, 2);

    // Another worker takes the job over, as pg-boss sees it after a lapsed heartbeat: the job was
    // failed and fetched again, so it is active under a newer attempt, whose heartbeat stays fresh.
    const takeover = await pool.query<{ id: string; now: string }>(
      `update pgboss.job set retry_count = retry_count + 1, started_on = now(), heartbeat_on = now()
        where name = 'ticket-sync' and state = 'active' returning id, clock_timestamp()::text as now`,
    );
    expect(takeover.rows).toHaveLength(1);
    const jobId = takeover.rows[0].id;
    takenAtDb = takeover.rows[0].now;
    const takenAt = Date.now();
    heartbeat = setInterval(() => {
      pool.query('update pgboss.job set heartbeat_on = now() where id = $1', [jobId]).catch(() => {});
    }, 2_000);

    // It stops when its run ends, which it says once the run has ended: no page request of its
    // own is still to come. (Waiting for its requests to pause took a stalled worker for a
    // stopped one, and then saw it go on.)
    await vi.waitUntil(() => worker.stderr().includes(LOST_CLAIM), { message: 'the lost-claim warning', timeout: STOPS_WITHIN_MS + 10_000, interval: 100 });
    expect(Date.now() - takenAt).toBeLessThan(STOPS_WITHIN_MS);
    expect(await statusWritesSince(takenAtDb)).toEqual([]);
    const requested = receivedLogRequests().length;
    expect(requested).toBeLessThan(EVENTS / 100);

    // One warning naming the ticket and the job, and nothing else said about the ticket.
    const lines = worker
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; ticketId?: number; jobId?: string; level: number });
    expect(lines.filter((l) => l.msg === LOST_CLAIM)).toEqual([expect.objectContaining({ ticketId: TICKET, jobId })]);
    expect(lines.filter((l) => l.ticketId === TICKET && l.msg !== LOST_CLAIM)).toEqual([]);

    // Nothing more from it: no request, no write to the ticket's row.
    const settled = await ticketSync(fixture.database, TICKET);
    await sleep(2_000);
    expect(receivedLogRequests()).toHaveLength(requested);
    expect(await ticketSync(fixture.database, TICKET)).toEqual(settled);
  } finally {
    clearInterval(heartbeat);
    worker.kill('SIGTERM');
  }
  const exit = await worker.exited;
  expect(exit, worker.stderr()).toMatchObject({ code: 0, signal: null });

  // Neither the takeover nor the shutdown made it write a status or last_error (no `queued`,
  // `failed`, "interrupted by shutdown", `synced`), and the new owner's attempt is untouched.
  expect(await statusWritesSince(takenAtDb)).toEqual([]);
  expect(await ticketSync(fixture.database, TICKET)).toMatchObject({ status: 'syncing', last_error: null });
  expect(await jobStates(fixture.database)).toEqual([expect.objectContaining({ ticketId: TICKET, state: 'active', retryCount: 1 })]);
});
