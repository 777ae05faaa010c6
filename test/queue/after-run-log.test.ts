// What the worker says when a ticket asked for during its run is queued at the run's end
// (after-run.ts): another enqueue may have queued it between the job's end and the worker's own
// enqueue, and then the worker queued nothing; its log must not say it did.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { inTransaction } from '../../src/db/transaction.ts';
import { fenceEnqueues } from '../../src/db/dequeued.ts';
import { markQueued, startRun } from '../../src/db/ticket-status.ts';
import { requestSyncAgain } from '../../src/db/sync-again.ts';
import { afterRun } from '../../src/queue/after-run.ts';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 5;
let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 5 });
});
afterAll(async () => {
  await fixture?.close();
});

const capture = () => {
  const lines: { msg: string; full?: boolean }[] = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, log };
};

/** A job of TICKET taken as a worker takes it, a plain request made during its run, and the run ended. */
async function runningJobAskedAgain() {
  const { boss } = fixture;
  const { db } = fixture.database;
  await enqueueTickets(boss, db, [TICKET]);
  const [job] = await boss.fetch<{ ticketId: number }>(SYNC_QUEUE, { includeMetadata: true });
  expect(job.data.ticketId).toBe(TICKET);
  await startRun(db, TICKET, { full: false });
  expect(await requestSyncAgain(db, [TICKET], false)).toEqual([TICKET]);
  // The run ends synced (finishRun) before the worker ends its job.
  await fixture.database.pool.query(`update zendesk.ticket_sync set status = 'synced' where ticket_id = $1`, [TICKET]);
  return job;
}

it('says the ticket was queued again when its own enqueue queued it', { timeout: 60_000 }, async () => {
  const job = await runningJobAskedAgain();
  const { lines, log } = capture();
  await afterRun(fixture.boss, fixture.database.db, job, log, new AbortController().signal, { readAll: true });
  expect(lines).toEqual([{ level: 30, full: false, msg: 'ticket changed during its sync; queued again' }]);
  const { rows } = await fixture.database.pool.query(`select state::text from pgboss.job where singleton_key = $1 order by created_on`, [String(TICKET)]);
  expect(rows).toEqual([{ state: 'completed' }, { state: 'created' }]);
  await fixture.database.pool.query(`delete from pgboss.job where singleton_key = $1`, [String(TICKET)]);
});

it('does not say it queued the ticket again when a job queued by someone else since the run ended stands for the request', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  const job = await runningJobAskedAgain();
  const { lines, log } = capture();
  let ended = false;
  // A dequeue's fence holds every enqueue: the worker ends the job, then waits to queue the ticket.
  const { after } = await inTransaction(db, async (tx) => {
    await fenceEnqueues(tx);
    const after = afterRun(boss, db, job, log, new AbortController().signal, { readAll: true }).finally(() => (ended = true));
    await sessionsWaitingForLocks(pool, 1, { done: () => ended });
    // Meanwhile another enqueue (a webhook's, on another connection) queued the ticket.
    await boss.send(SYNC_QUEUE, { ticketId: TICKET }, { singletonKey: String(TICKET) });
    await markQueued(db, [TICKET]);
    // Wrapped, so that the transaction ends (and the fence goes) without waiting for it.
    return { after };
  });
  await after;
  expect(lines).toEqual([{ level: 30, full: false, msg: 'ticket changed during its sync; a job queued since takes the change' }]);
  const { rows } = await pool.query(`select state::text from pgboss.job where singleton_key = $1 order by created_on`, [String(TICKET)]);
  expect(rows).toEqual([{ state: 'completed' }, { state: 'created' }]);
  const [state] = (await pool.query(`select status, sync_again_at from zendesk.ticket_sync where ticket_id = $1`, [TICKET])).rows;
  expect(state).toEqual({ status: 'queued', sync_again_at: null });
});
