// A ticket that changes while its sync is running is synced again when the run ends, with no
// backfill: enqueue marks it (the queue holds one job per ticket, so its job is skipped), and the
// worker queues it once its job is over.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRun } from '../../src/db/ticket-status.ts';
import { requestSyncAgain, takeSyncAgain, ticketStates, type SyncAgain } from '../../src/db/sync-again.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runEnqueuedDuringRun } from '../helpers/sync-again-run.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 1;
const EVENTS = 10;
let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { [TICKET]: EVENTS } });
});
afterAll(async () => {
  await fixture?.close();
});

const storedEvents = async (ticketId: number) =>
  (await fixture.database.pool.query(`select count(*)::int as n from zendesk.conversation_events where ticket_id = $1`, [ticketId])).rows[0].n;

it('stores events appended after the run read its last page, when the ticket was enqueued during the run', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [TICKET]);
  const { summary, enqueued } = await runEnqueuedDuringRun(fixture, TICKET, 5);

  expect(enqueued).toEqual({ queued: 0, alreadyQueued: 1, duplicates: 0 });
  expect(summary.synced).toBe(2);
  expect(await storedEvents(TICKET)).toBe(EVENTS + 5);
  const jobs = await pool.query(`select state::text from pgboss.job where name = 'ticket-sync'`);
  expect(jobs.rows).toEqual([{ state: 'completed' }, { state: 'completed' }]);
  const [state] = (await pool.query(`select status, sync_again_at from zendesk.ticket_sync where ticket_id = $1`, [TICKET])).rows;
  expect(state).toEqual({ status: 'synced', sync_again_at: null });
});

/** Takes the mark as a worker does at a run's end, the queueing left out. */
const take = (ticketId: number, readAll: boolean) => takeSyncAgain(fixture.database.db, ticketId, { readAll }, async () => {});

it('asks for another run only when marked after the run started, and a full request and the highest priority win', async () => {
  const { db } = fixture.database;
  const ticketId = 2;
  await startRun(db, ticketId, { full: false });
  expect(await requestSyncAgain(db, [ticketId], false)).toEqual([ticketId]);
  expect(await requestSyncAgain(db, [ticketId], true, 10)).toEqual([ticketId]);
  expect(await requestSyncAgain(db, [ticketId], false, 5)).toEqual([ticketId]);
  expect(await take(ticketId, true)).toEqual({ full: true, priority: 10 });
  // Taken: the mark is gone.
  expect(await take(ticketId, true)).toBeUndefined();

  // A mark older than the run was read by the run.
  await requestSyncAgain(db, [ticketId], false);
  await startRun(db, ticketId, { full: false });
  expect(await take(ticketId, true)).toBeUndefined();

  // A full request older than a run that did not read to the end (it failed, or a shutdown cut it
  // short) stays: the next run of the ticket, whatever its job, starts from the first event.
  const fullFlag = async () => (await fixture.database.pool.query(`select sync_again_full as f from zendesk.ticket_sync where ticket_id = $1`, [ticketId])).rows[0].f;
  await requestSyncAgain(db, [ticketId], true);
  await startRun(db, ticketId, { full: false });
  expect(await take(ticketId, false)).toBeUndefined();
  expect(await fullFlag()).toBe(true);
  expect((await startRun(db, ticketId, { full: false })).afterCursor).toBeNull();
  // That run read everything: the request is done.
  expect(await take(ticketId, true)).toBeUndefined();
  expect(await fullFlag()).toBe(false);

  // A ticket waiting in the queue needs no mark for a plain request: its job has read nothing
  // yet. A full one is marked, as its job may be taken already (startRun then reads the mark).
  const queuedWithCursor = () =>
    fixture.database.pool.query(`update zendesk.ticket_sync set status = 'queued', after_cursor = 'saved' where ticket_id = $1`, [ticketId]);
  await queuedWithCursor();
  expect(await requestSyncAgain(db, [ticketId], false)).toEqual([]);
  expect((await startRun(db, ticketId, { full: false })).afterCursor).toBe('saved');
  await queuedWithCursor();
  expect(await requestSyncAgain(db, [ticketId], true)).toEqual([ticketId]);
  expect((await startRun(db, ticketId, { full: false })).afterCursor).toBeNull();
});

it('a full re-read asked for while a plain sync of the ticket waits turns that job into a full read', async () => {
  const { db, pool } = fixture.database;
  const ticketId = 77;
  const jobData = async () =>
    (await pool.query(`select data from pgboss.job where name = 'ticket-sync' and singleton_key = $1 and state = 'created'`, [String(ticketId)])).rows.map((r) => r.data);
  expect((await enqueueTickets(fixture.boss, db, [ticketId])).queued).toBe(1);
  expect(await jobData()).toEqual([{ ticketId }]);
  // A redaction webhook: the queue keeps one job per ticket, so this one is skipped...
  expect((await enqueueTickets(fixture.boss, db, [ticketId], { full: true })).queued).toBe(0);
  // ...and the waiting job reads the whole log instead of resuming from its cursor.
  expect(await jobData()).toEqual([{ ticketId, full: true }]);
  // A plain request later does not turn it back.
  await enqueueTickets(fixture.boss, db, [ticketId]);
  expect(await jobData()).toEqual([{ ticketId, full: true }]);
});

it('keeps the mark until the ticket is queued again, so a ticket asked for during its run never looks done in between', async () => {
  const { db } = fixture.database;
  const ticketId = 31;
  await startRun(db, ticketId, { full: false });
  // `convlog sync 31` while the run is in flight: its job is running, so the ticket is marked.
  expect(await requestSyncAgain(db, [ticketId], false, 7)).toEqual([ticketId]);
  // The run ends: `synced`, yet another run is asked for, and `sync` counts it as still pending.
  await fixture.database.pool.query(`update zendesk.ticket_sync set status = 'synced' where ticket_id = $1`, [ticketId]);
  expect((await ticketStates(db, [ticketId]))[0]).toMatchObject({ status: 'synced', askedAgain: true });

  const seenWhileQueueing: unknown[] = [];
  const again = await takeSyncAgain(db, ticketId, { readAll: true }, async (mark: SyncAgain) => {
    seenWhileQueueing.push(mark, (await ticketStates(db, [ticketId]))[0].askedAgain);
    await enqueueTickets(fixture.boss, db, [ticketId], mark);
  });
  expect(again).toEqual({ full: false, priority: 7 });
  expect(seenWhileQueueing).toEqual([{ full: false, priority: 7 }, true]);
  expect((await ticketStates(db, [ticketId]))[0]).toMatchObject({ status: 'queued', askedAgain: false });

  // Queueing failed (Postgres refused it): the mark stays for the next try.
  await startRun(db, ticketId, { full: false });
  await requestSyncAgain(db, [ticketId], true);
  await expect(takeSyncAgain(db, ticketId, { readAll: true }, async () => { throw new Error('refused'); })).rejects.toThrow('refused');
  expect((await ticketStates(db, [ticketId]))[0].askedAgain).toBe(true);
  expect(await take(ticketId, true)).toEqual({ full: true, priority: 0 });

  // A request made while the ticket was being queued is a mark of its own: not cleared with the old one.
  await startRun(db, ticketId, { full: false });
  await requestSyncAgain(db, [ticketId], false);
  await takeSyncAgain(db, ticketId, { readAll: true }, () => requestSyncAgain(db, [ticketId], true));
  const [row] = (await fixture.database.pool.query(`select sync_again_at is not null as marked, sync_again_full as full from zendesk.ticket_sync where ticket_id = $1`, [ticketId])).rows;
  expect(row).toEqual({ marked: true, full: true });
});

it('a request made during an earlier attempt of a job that then fails for good asks for another run; one made while the job waited does not', async () => {
  const { db, pool } = fixture.database;
  const ticketId = 41;
  const jobCreated = async (id: string) => ({ id, createdOn: (await pool.query<{ now: Date }>('select now()')).rows[0].now });
  const setStatus = (status: string) => pool.query(`update zendesk.ticket_sync set status = $2 where ticket_id = $1`, [ticketId, status]);

  // The job's first attempt: a webhook during it marks the ticket, then the attempt fails and waits for its retry.
  const job = await jobCreated('first job');
  await startRun(db, ticketId, { full: false, job });
  expect(await requestSyncAgain(db, [ticketId], false)).toEqual([ticketId]);
  await setStatus('queued');
  // The retry starts after the request, and fails for good: the change may be what it failed on.
  await startRun(db, ticketId, { full: false, job });
  await setStatus('failed');
  expect((await ticketStates(db, [ticketId]))[0].askedAgain).toBe(true);
  expect(await take(ticketId, false)).toEqual({ full: false, priority: 0 });
  // Had the retry read the log to its end, it would have read the change.
  await startRun(db, ticketId, { full: false, job });
  await requestSyncAgain(db, [ticketId], false);
  await startRun(db, ticketId, { full: false, job });
  await setStatus('synced');
  expect((await ticketStates(db, [ticketId]))[0].askedAgain).toBe(false);
  expect(await take(ticketId, true)).toBeUndefined();

  // A new job: a full request while it waits is its own (its run reads from the first event), not
  // one more run should that run fail.
  await setStatus('queued');
  const next = await jobCreated('next job');
  expect(await requestSyncAgain(db, [ticketId], true)).toEqual([ticketId]);
  await startRun(db, ticketId, { full: false, job: next });
  await setStatus('queued');
  await startRun(db, ticketId, { full: false, job: next });
  await setStatus('failed');
  expect((await ticketStates(db, [ticketId]))[0].askedAgain).toBe(false);
  expect(await take(ticketId, false)).toBeUndefined();
});

it('a new job is told from a retry by its id, even when pg-boss dates it before the previous job ran', async () => {
  const { db, pool } = fixture.database;
  const ticketId = 45;
  const now = async () => (await pool.query<{ now: Date }>('select clock_timestamp() as now')).rows[0].now;
  const jobStartedAt = async () => (await pool.query(`select job_started_at::text as at from zendesk.ticket_sync where ticket_id = $1`, [ticketId])).rows[0].at;
  const setStatus = (status: string) => pool.query(`update zendesk.ticket_sync set status = $2 where ticket_id = $1`, [ticketId, status]);

  // The next job's transaction began (its created_on) before the first job ran: it waited on a lock.
  const nextCreated = await now();
  await startRun(db, ticketId, { full: false, job: { id: 'first', createdOn: await now() } });
  // The next job waits; a full request meanwhile is its own (it reads from the first event): failing
  // for good, it asks for no other run.
  await setStatus('queued');
  expect(await requestSyncAgain(db, [ticketId], true)).toEqual([ticketId]);
  await startRun(db, ticketId, { full: false, job: { id: 'next', createdOn: nextCreated } });
  const nextStarted = await jobStartedAt();
  await setStatus('failed');
  expect((await ticketStates(db, [ticketId]))[0].askedAgain).toBe(false);
  expect(await take(ticketId, false)).toBeUndefined();
  // Its retry keeps the first run's time.
  await startRun(db, ticketId, { full: false, job: { id: 'next', createdOn: nextCreated } });
  expect(await jobStartedAt()).toBe(nextStarted);

  // A row written before the job's id was kept goes by the job's date.
  await pool.query(`update zendesk.ticket_sync set job_id = null where ticket_id = $1`, [ticketId]);
  await startRun(db, ticketId, { full: false, job: { id: 'next', createdOn: nextCreated } });
  expect(await jobStartedAt()).toBe(nextStarted);
  await startRun(db, ticketId, { full: false, job: { id: 'third', createdOn: await now() } });
  expect(await jobStartedAt()).not.toBe(nextStarted);
});

it('a plain request while a job waits for its retry is marked, and asks for another run if the retry fails for good', async () => {
  const { db, pool } = fixture.database;
  const ticketId = 43;
  const job = { id: 'its job', createdOn: (await pool.query<{ now: Date }>('select now()')).rows[0].now };
  // Queued, then its first attempt failed: it waits for its retry (status queued again).
  await pool.query(`insert into zendesk.ticket_sync (ticket_id, status, queued_at) values ($1, 'queued', now() - interval '1 minute')`, [ticketId]);
  await startRun(db, ticketId, { full: false, job });
  await pool.query(`update zendesk.ticket_sync set status = 'queued' where ticket_id = $1`, [ticketId]);
  // A webhook during the backoff.
  expect(await requestSyncAgain(db, [ticketId], false)).toEqual([ticketId]);
  // The retry fails for good: the ticket is queued again.
  await startRun(db, ticketId, { full: false, job });
  await pool.query(`update zendesk.ticket_sync set status = 'failed' where ticket_id = $1`, [ticketId]);
  expect(await take(ticketId, false)).toEqual({ full: false, priority: 0 });

  // A job not yet run is still left alone by a plain request: its first run reads the change.
  await pool.query(`update zendesk.ticket_sync set status = 'queued', queued_at = clock_timestamp() where ticket_id = $1`, [ticketId]);
  expect(await requestSyncAgain(db, [ticketId], false)).toEqual([]);
});
