// Ctrl-C during `convlog enqueue --sql` cancels the query in Postgres and queues nothing, as it
// cancels `convlog query`'s.
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

describe('convlog enqueue --sql', { timeout: 60_000 }, () => {
  it('Ctrl-C cancels the running query: one line, exit 1, nothing queued, the statement gone at once', async () => {
    const marker = `enqueue_ctrl_c_${Date.now()}`;
    const controller = new AbortController();
    const running = runCli(['enqueue', '--sql', `select 999 as ticket_id, '${marker}' from pg_sleep(30)`], {
      env: { DATABASE_URL: database.url },
      signal: controller.signal,
    });
    const inFlight = async () =>
      (await database.pool.query(`select 1 from pg_stat_activity where state = 'active' and query like $1 and query not like '%pg_stat_activity%'`, [`%${marker}%`])).rowCount;
    await vi.waitFor(async () => expect(await inFlight()).toBe(1), { timeout: 10_000, interval: 20 });
    const interrupted = Date.now();
    controller.abort();
    const result = await running;
    // It waited for the whole query (30 s here, up to 60), then queued ticket 999 and exited 0.
    expect(result.code, result.stderr).toBe(1);
    expect(Date.now() - interrupted).toBeLessThan(10_000);
    expect(await inFlight()).toBe(0);
    expect(result.stderr).toBe('convlog enqueue: the --sql query was cancelled (interrupted); nothing was queued\n');
    expect(result.stdout).toBe('');
    const jobs = await database.pool.query(`select 1 from pgboss.job where name = 'ticket-sync'`);
    const tickets = await database.pool.query(`select 1 from zendesk.ticket_sync`);
    expect([jobs.rowCount, tickets.rowCount]).toEqual([0, 0]);
  });
});
