// A Postgres blip just as a run ends (seen in a soak: pg_terminate_backend while workers ran)
// must not lose the change a webhook announced during that run. The worker then checks whether
// the ticket was asked for again, and queues it: a failed check is tried again, not only logged.
// The blip is Postgres's own: a trigger terminates the connection that clears the ticket's mark,
// once, as an administrator's pg_terminate_backend would.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runEnqueuedDuringRun } from '../helpers/sync-again-run.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 1;
const EVENTS = 10;
let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { [TICKET]: EVENTS } });
  await fixture.database.pool.query(`
    create sequence public.blip_once;
    create function public.blip_once() returns trigger language plpgsql as $$
    begin
      if old.sync_again_at is not null and new.sync_again_at is null and nextval('public.blip_once') = 1 then
        perform pg_terminate_backend(pg_backend_pid());
      end if;
      return new;
    end $$;
    create trigger blip_once before update on zendesk.ticket_sync for each row execute function public.blip_once();`);
});
afterAll(async () => {
  await fixture?.close();
});

it('a connection lost while the run ends does not lose a change announced during the run', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  // The terminated connection is the pool's problem, not the test's: pg emits it on idle clients.
  pool.on('error', () => {});
  await enqueueTickets(boss, db, [TICKET]);
  const { summary, enqueued } = await runEnqueuedDuringRun(fixture, TICKET, 5);

  expect(enqueued).toEqual({ queued: 0, alreadyQueued: 1, duplicates: 0 });
  // The blip happened: the trigger ended a connection as the mark was first cleared.
  expect((await pool.query(`select is_called from public.blip_once`)).rows[0].is_called).toBe(true);
  expect(summary.synced).toBe(2);
  const stored = await pool.query(`select count(*)::int as n from zendesk.conversation_events where ticket_id = $1`, [TICKET]);
  expect(stored.rows[0].n).toBe(EVENTS + 5);
  const [state] = (await pool.query(`select status, sync_again_at from zendesk.ticket_sync where ticket_id = $1`, [TICKET])).rows;
  expect(state).toEqual({ status: 'synced', sync_again_at: null });
});
