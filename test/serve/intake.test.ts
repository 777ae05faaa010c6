// A burst of deliveries submitted at once: each key is accepted once, each ticket gets one job,
// a redaction's full re-read is not displaced by a plain sync of the same ticket, and the
// comments deliveries carry are recorded once. A delivery is remembered only once queued.
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { createIntake } from '../../src/serve/intake.ts';
import { replayStore } from '../../src/db/webhook-deliveries.ts';
import { createServeFixture, eventually, queuedState, type ServeFixture } from './serve-fixture.ts';

let f: ServeFixture;
beforeAll(async () => {
  f = await createServeFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('webhook intake', () => {
  it('accepts each key once and queues each ticket once, full re-reads first', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
    const deliveries = [
      ...Array.from({ length: 200 }, (_, i) => ({ key: `e${i}`, ticketId: 1 + (i % 20), full: false })),
      { key: 'redacted-7', ticketId: 7, full: true },
      // Replays of keys in the same burst.
      ...Array.from({ length: 50 }, (_, i) => ({ key: `e${i}`, ticketId: 1 + (i % 20), full: false })),
    ];
    const outcomes = await Promise.all(deliveries.map((d) => intake.submit(d)));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(201);
    expect(outcomes.filter((o) => o === 'replay')).toHaveLength(50);
    const { jobs, tickets } = await queuedState(f.database);
    expect(tickets).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jobs.map((j) => j.ticketId).sort((a, b) => a - b)).toEqual(tickets);
    expect(jobs.find((j) => j.ticketId === 7)).toEqual({ ticketId: 7, full: true });
    const { rows } = await f.database.pool.query<{ n: number }>('select count(*)::int as n from convlog.webhook_deliveries');
    expect(rows[0].n).toBe(201);
  });

  it('puts webhook tickets ahead of a backlog, raising one the backlog had already queued', async () => {
    // A backfill's backlog: tickets 300..349 at the default priority.
    await enqueueTickets(f.boss, f.database.db, Array.from({ length: 50 }, (_, i) => 300 + i));
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
    expect(await intake.submit({ key: 'hot-1', ticketId: 400, full: false })).toBe('queued');
    // Already waiting in the backlog: raised rather than left behind 49 others.
    expect(await intake.submit({ key: 'hot-2', ticketId: 320, full: false })).toBe('queued');
    const { rows } = await f.database.pool.query<{ key: string; priority: number }>(
      `select singleton_key as key, priority from pgboss.job where name = $1 and singleton_key in ('300', '320', '400')
        and state = 'created' order by 1`,
      [SYNC_QUEUE],
    );
    expect(rows).toEqual([
      { key: '300', priority: 0 },
      { key: '320', priority: WEBHOOK_PRIORITY },
      { key: '400', priority: WEBHOOK_PRIORITY },
    ]);
    // What workers take next: every webhook ticket (1..20 from the test above, 320 and 400)
    // before any of the backlog, although the backlog was queued first.
    const next = await f.boss.fetch<{ ticketId: number }>(SYNC_QUEUE, { batchSize: 22 });
    const taken = next.map((j) => j.data.ticketId).sort((a, b) => a - b);
    expect(taken).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 320, 400]);
  });

  it('records nothing when Postgres fails, so Zendesk\'s retry is accepted later', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
    await f.database.pool.query('alter table zendesk.ticket_sync rename to ticket_sync_away');
    try {
      await expect(intake.submit({ key: 'retry-me', ticketId: 99, full: false })).rejects.toThrow();
    } finally {
      await f.database.pool.query('alter table zendesk.ticket_sync_away rename to ticket_sync');
    }
    const { rows } = await f.database.pool.query(`select 1 from convlog.webhook_deliveries where delivery_key = 'retry-me'`);
    expect(rows).toEqual([]);
    expect(await intake.submit({ key: 'retry-me', ticketId: 99, full: false })).toBe('queued');
  });

  it('keeps the pending comment of a delivery whose enqueue failed; the retry adds no second row', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
    const comment = { commentId: 'c-1', body: 'hello', isPublic: true, authorZendeskId: 5, authorName: 'Ana', authorIsStaff: false, writtenAt: '2026-11-30T12:00:00.000Z', raw: { id: 'c-1' } };
    const delivery = { key: 'event:e-98', eventId: 'e-98', ticketId: 98, full: false, comment };
    const pending = async () => (await f.database.pool.query(`select comment_id, webhook_event_id from zendesk.pending_comments where ticket_id = 98`)).rows;
    // The enqueue's write of the ticket's status fails; recording the comment reads that table.
    await f.database.pool.query(`create function zendesk.refuse_writes() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`);
    await f.database.pool.query('create trigger refuse before insert or update on zendesk.ticket_sync execute function zendesk.refuse_writes()');
    try {
      await expect(intake.submit(delivery)).rejects.toThrow();
    } finally {
      await f.database.pool.query('drop trigger refuse on zendesk.ticket_sync');
      await f.database.pool.query('drop function zendesk.refuse_writes()');
    }
    // Zendesk has the comment: showing it is right, and the ticket's next sync clears it.
    expect(await pending()).toEqual([{ comment_id: 'c-1', webhook_event_id: 'e-98' }]);
    expect(await intake.submit(delivery)).toBe('queued');
    expect(await pending()).toEqual([{ comment_id: 'c-1', webhook_event_id: 'e-98' }]);
  });

  it('records a batch one delivery at a time when Postgres refuses a value of one: only that one fails', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
    // A value Postgres refuses (SQLSTATE 22003) in ticket 666's status row, as a check would.
    await f.database.pool.query(
      `create function zendesk.refuse_666() returns trigger language plpgsql as $$ begin if new.ticket_id = 666 then raise exception 'out of range' using errcode = '22003'; end if; return new; end $$`,
    );
    await f.database.pool.query('create trigger refuse_666 before insert or update on zendesk.ticket_sync for each row execute function zendesk.refuse_666()');
    try {
      // The first goes alone; the three behind it wait for it, and go together.
      const outcomes = await Promise.allSettled([660, 661, 666, 662].map((ticketId) => intake.submit({ key: `split-${ticketId}`, ticketId, full: false })));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    } finally {
      await f.database.pool.query('drop trigger refuse_666 on zendesk.ticket_sync');
      await f.database.pool.query('drop function zendesk.refuse_666()');
    }
    const { rows } = await f.database.pool.query(`select delivery_key from convlog.webhook_deliveries where delivery_key like 'split-%' order by 1`);
    expect(rows.map((r) => r.delivery_key)).toEqual(['split-660', 'split-661', 'split-662']);
    expect((await queuedState(f.database)).tickets).toEqual(expect.arrayContaining([660, 661, 662]));
    expect((await queuedState(f.database)).tickets).not.toContain(666);
  });

  it('queues, rather than calls a replay, the retry of a delivery cut off by Postgres going down mid-enqueue', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger, timeoutMs: 30_000 });
    const comment = { commentId: 'c-97', body: 'hello', isPublic: true, authorZendeskId: 5, authorName: 'Ana', authorIsStaff: false, writtenAt: '2026-11-30T12:00:00.000Z', raw: { id: 'c-97' } };
    const delivery = { key: 'event:e-97', eventId: 'e-97', ticketId: 97, full: false, comment };
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    const locker = new pg.Client({ connectionString: f.database.url });
    locker.on('error', () => {});
    await admin.connect();
    await locker.connect();
    const lockerPid: number = (await locker.query('select pg_backend_pid() as pid')).rows[0].pid;
    try {
      // The enqueue waits on a lock; meanwhile the database stops taking connections and every
      // one it has is cut, as when Postgres goes down: no statement of this delivery can run.
      await locker.query('begin');
      await locker.query('lock table pgboss.job in access exclusive mode');
      const submitted = intake.submit(delivery);
      submitted.catch(() => {});
      await eventually(
        'the enqueue to wait on the lock',
        async () => (await admin.query(`select 1 from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`, [f.database.name])).rowCount! > 0,
        10_000,
      );
      await admin.query(`alter database ${f.database.name} allow_connections false`);
      // The locker's own connection is cut only after the delivery has failed: cut in the same
      // sweep, it could release the lock before the enqueue's end was signalled, and a busy
      // machine then let the enqueue commit ('queued', as CI once saw).
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> $2`, [f.database.name, lockerPid]);
      await expect(submitted).rejects.toThrow();
    } finally {
      await admin.query(`select pg_terminate_backend($1)`, [lockerPid]);
      await admin.query(`alter database ${f.database.name} allow_connections true`);
      await admin.end();
      await locker.end().catch(() => {});
    }
    // Zendesk's retry, with Postgres back: the ticket is queued now. A pooled connection whose
    // end the pool has not yet noticed can fail one more attempt (a 503: Zendesk retries again).
    expect(await retried(() => intake.submit(delivery))).toBe('queued');
    const jobs = await f.database.pool.query(`select 1 from pgboss.job where name = 'ticket-sync' and data->>'ticketId' = '97'`);
    expect(jobs.rowCount).toBe(1);
    expect((await f.database.pool.query(`select comment_id from zendesk.pending_comments where ticket_id = 97`)).rows).toEqual([{ comment_id: 'c-97' }]);
  });
});

describe('a batch whose statement never returns', () => {
  it('is given up after a while, and the deliveries behind it are queued', async () => {
    // What the timeouts decide does not hang on the machine's speed: the delivery behind the
    // stuck batch is sent in the turn the batch starts, so its timeout comes a second before the
    // batch's give-up, however late both timers fire; the one sent once the give-up is logged
    // waits for two batches (the one behind and its own), which took 0.04 s here: its 2 s
    // leave room for a machine many times slower. (At 0.5 s and 1.5 s, sent in turn with a sleep
    // between, a stall of 0.5 s or a slow batch failed it.)
    let log = '';
    const logger = pino({ level: 'error', base: undefined }, { write: (line: string) => void (log += line) });
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: logger, timeoutMs: 2_000, giveUpMs: 3_000 });
    // Ticket 98's row held by another transaction: the batch reporting its permanent deletion
    // waits on it, as a statement on a connection gone half-open waits for ever.
    await f.database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (98, 'synced') on conflict do nothing`);
    const locker = new pg.Client({ connectionString: f.database.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from zendesk.ticket_sync where ticket_id = 98 for update');
      const stuck = intake.submit({ key: 'stuck-98', ticketId: 98, full: false, permanentlyDeleted: true });
      // Behind it: answered 503 while it holds the line, then queued once it is given up.
      const behind = intake.submit({ key: 'next-99', ticketId: 99, full: false });
      await expect(stuck).rejects.toThrow(/did not answer within 2 s/);
      await expect(behind).rejects.toThrow(/did not answer within 2 s/);
      await eventually('the stuck batch given up', () => log.includes('did not finish a batch in 3 s'), 15_000);
      expect(log).toContain('"deliveries":1,"ticketIds":[98],"tickets":1,');
      expect(await intake.submit({ key: 'later-99', ticketId: 99, full: false })).toBe('queued');
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });
});

async function retried<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
