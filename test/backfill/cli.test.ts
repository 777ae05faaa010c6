// backfill and enqueue --sql as a person or a scheduler runs them (schedule: schedule-cli.test.ts).
import { describe, expect, it, vi } from 'vitest';
import { clearQueue, DAY, exportSince, nowSec, savedPosition } from './helpers.ts';
import { oneLine, setup, SLOW } from './cli-setup.ts';

describe.concurrent('convlog backfill', () => {
  it('--since 10d queues the tickets changed in the last 10 days; a later run without --since queues only later changes', async (context) => {
    const { sim, cli, queued, database } = await setup(context);
    const before = nowSec();
    const result = await cli('backfill', '--since', '10d');
    expect(result.code, result.stderr).toBe(0);
    const after = nowSec();
    // Tickets within a few seconds of the boundary could fall either way; the simulator spreads 40
    // tickets over 30 days, so there are almost never any.
    const all = await exportSince(sim, before - 31 * DAY);
    const surely = all.filter((t) => t.generated_timestamp >= after - 10 * DAY).map((t) => t.id);
    const maybe = all.filter((t) => t.generated_timestamp >= before - 10 * DAY).map((t) => t.id);
    const got = await queued();
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(40);
    for (const id of surely) expect(got).toContain(id);
    for (const id of got) expect(maybe).toContain(id);
    expect(result.stdout).toMatch(new RegExp(`backfill done: ${got.length} changed tickets? since \\S+: ${got.length} queued, 0 deleted`));
    // Where it starts, said before the first request rather than only in the last line.
    expect(oneLine(result.stderr)[0]).toMatch(/^backfill: reading changes since \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(result.stderr).toMatch(/^backfill: page 1: \d+ changed tickets?, \d+ queued, 0 deleted \| .* changes up to \d{4}-\d\d-\d\dT/m);
    expect(result.stdout).toMatch(/ \| position saved: changes up to \d{4}-\d\d-\d\dT\S+ \| /);
    expect(sim.requests.some((r) => r.kind === 'conversation_log')).toBe(false);
    // Its requests were taken from the shared export budget, not the conversation log's.
    const budgets = await database.pool.query<{ name: string; total_taken: number }>('select name, total_taken::int from convlog.rate_budgets');
    expect(budgets.rows).toContainEqual({ name: 'export', total_taken: 1 });

    // Read again: every ticket has its job waiting, and each page line says so, not only the summary.
    const again = await cli('backfill', '--since', '10d');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`^backfill: page 1: ${got.length} changed tickets?, 0 queued \\(${got.length} already queued\\), 0 deleted \\| total ${got.length} seen, 0 queued \\(${got.length} already queued\\)`, 'm'));
    expect(again.stdout).toMatch(new RegExp(`: 0 queued \\(${got.length} already queued\\), 0 deleted`));

    await clearQueue(database.pool);
    const position = (await savedPosition(database.pool))?.position;
    expect(position).toEqual(expect.any(String));
    sim.markChanged(7);
    sim.markChanged(33);
    const second = await cli('backfill');
    expect(second.code, second.stderr).toBe(0);
    expect(await queued()).toEqual([7, 33]);
    expect(second.stdout).toMatch(/backfill done: 2 changed tickets since the saved position: 2 queued/);
    expect(oneLine(second.stderr)[0]).toBe(`backfill: continuing from the saved position (changes up to ${position!.replace('.000Z', 'Z')})`);
  }, SLOW);

  it('without --since and without a saved position: one line, exit 2, nothing queued; a start less than 90 s ago is moved back', async (context) => {
    const { sim, cli, queued } = await setup(context);
    const result = await cli('backfill');
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog backfill: no saved export position yet: run "convlog backfill --since DATE"/)]);
    expect(await queued()).toEqual([]);
    expect(sim.requests).toEqual([]);

    // Zendesk refuses a start_time less than a minute old by its clock: "now" becomes 90 s ago.
    const now = await cli('backfill', '--since', new Date().toISOString());
    expect(now.code, now.stderr).toBe(0);
    // After the credential check's /users/me, which comes before any export page.
    const start = Number(sim.requests.find((r) => r.kind === 'export')!.query.start_time);
    expect(nowSec() - start).toBeGreaterThanOrEqual(90);
    expect(nowSec() - start).toBeLessThan(120);
  }, SLOW);

  // Every format is checked in input.test.ts; these prove the wiring: one line, exit 2, nothing opened.
  it('a bad --since is one line, exit 2, nothing queued', async (context) => {
    const { sim, cli, queued } = await setup(context);
    const result = await cli('backfill', '--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog backfill: invalid --since ".*": .*ISO date or time.*duration/)]);
    expect(await queued()).toEqual([]);
    expect(sim.requests).toEqual([]);
  }, SLOW);

  it('a killed backfill resumes from its saved cursor and loses nothing', async (context) => {
    // One export request a minute: the first page comes at once, the second has to wait.
    const { sim, cli, queued, database, start } = await setup(context, { exportPageSize: 10, exportRateLimit: 1, window: 60 });
    const child = start('backfill', '--since', '31d');
    // The run saves its start at once, and Zendesk's cursor once the first page is queued.
    const saved = await vi.waitUntil(async () => ((await savedPosition(database.pool))?.cursor ? savedPosition(database.pool) : null), {
      message: 'the first page to be saved',
      timeout: 60_000,
    });
    await vi.waitUntil(async () => sim.requests.some((r) => r.status === 429), { message: 'a 429 on the second page', timeout: 60_000 });
    child.kill('SIGKILL');
    await child.exited;
    const firstPage = await queued();
    expect(firstPage).toHaveLength(10);

    // Later, when Zendesk's window has passed (the shared budget remembers its 429 until then).
    sim.setOptions({ exportRateLimit: 0 });
    await database.pool.query(`delete from convlog.rate_budgets where name = 'export'`);
    sim.resetRequests();
    const resumed = await cli('backfill');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim.requests.find((r) => r.kind === 'export')!.query).toEqual({ cursor: saved.cursor, support_type_scope: 'all', include: 'users,groups,organizations' });
    // The other 30, none of them again: nothing skipped, nothing repeated.
    expect(resumed.stdout).toMatch(/backfill done: 30 changed tickets since the saved position: 30 queued, 0 deleted/);
    expect(await queued()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, SLOW);

  it('status shows a backfill while it runs, with its totals so far, and one killed halfway as such', async (context) => {
    // One export request a minute: the first page comes at once, the second waits out a 429.
    const { sim, cli, database, start } = await setup(context, { exportPageSize: 10, exportRateLimit: 1, window: 60 });
    const child = start('backfill', '--since', '31d');
    await vi.waitUntil(async () => sim.requests.some((r) => r.status === 429), { message: 'a 429 on the second page', timeout: 60_000 });

    const text = await cli('status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^backfill   running since \S+ \(cli, since \S+\): 1 page so far, 10 changed, 10 queued, 0 deleted$/m);
    const json = await cli('status', '--json');
    expect(JSON.parse(json.stdout).backfill).toMatchObject({ running: true, lastRun: { outcome: 'running', trigger: 'cli', pages: 1, seen: 10, queued: 10 } });
    expect(JSON.parse(json.stdout).queue.queued).toBe(10);

    child.kill('SIGKILL');
    await child.exited;
    const after = await cli('status');
    expect(after.stdout).toMatch(
      /^backfill   last one stopped without finishing \(its process was killed or lost Postgres\); last heard of at \S+ \(cli, since \S+\) after 1 page: 10 changed, 10 queued, 0 deleted; "convlog backfill" continues from the saved position$/m,
    );
    expect(JSON.parse((await cli('status', '--json')).stdout).backfill).toMatchObject({ running: false, lastRun: { outcome: 'running' } });
  }, SLOW);

  it('Ctrl-C before Zendesk answered the first page: "run convlog backfill to continue" is true', async (context) => {
    // Zendesk takes 3 s to answer: the signal comes while the first request is in flight.
    const { sim, cli, queued, database, start } = await setup(context, { latency: 3_000 });
    const child = start('backfill', '--since', '31d');
    // The start is saved before the first request, so it is there to continue from.
    await vi.waitUntil(() => savedPosition(database.pool), { message: 'the start to be saved', timeout: 60_000, interval: 50 });
    child.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(1);
    expect(child.stdout()).toMatch(/^backfill interrupted: 0 changed tickets since \S+: 0 queued, 0 deleted .*\| position saved: no change seen yet \|.*; run "convlog backfill" to continue$/m);
    // The time it gives is the time the person waited: checking the credentials took 3 s of it.
    expect(Number(/, (\d+\.\d) s; run/.exec(child.stdout())![1])).toBeGreaterThanOrEqual(3);
    expect(await queued()).toEqual([]);

    sim.setOptions({ latency: 0 });
    const resumed = await cli('backfill');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/backfill done: 40 changed tickets since \S+ \(saved before any page came back\): 40 queued/);
    expect(await queued()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, SLOW);
});

describe.concurrent('convlog enqueue --sql', () => {
  it('queues the ids a read-only query returns, together with ids given otherwise; zero rows queue 0', async (context) => {
    const { cli, queued } = await setup(context);
    const result = await cli('enqueue', '9', '--sql', '/* numeric is fine when whole */ select generate_series(1, 5)::bigint union all select 12::numeric');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 7 tickets, 0 already queued/);
    expect(await queued()).toEqual([1, 2, 3, 4, 5, 9, 12]);

    const none = await cli('enqueue', '--sql', 'select ticket_id from zendesk.ticket_sync where false');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^queued 0 tickets/);
  }, SLOW);

  // Every rejection is checked in input.test.ts; these prove the wiring.
  it('a bad query is one line, exit 2: nothing queued, nothing changed', async (context) => {
    const { cli, queued, database } = await setup(context);
    const seeded = await cli('enqueue', '1', '2', '3');
    expect(seeded.code, seeded.stderr).toBe(0);
    await database.pool.query(`update pgboss.job set state = 'completed' where name = 'ticket-sync'`);
    const cases = [
      ['select (1', /has a syntax error: syntax error at end of input/],
      ['with d as (delete from zendesk.ticket_sync returning ticket_id) select ticket_id from d', /must only read, but it writes/],
      ["select 'abc' as id", /returned text in its first column "id": it must be an integer ticket id/],
    ] as const;
    const results = await Promise.all(cases.map(([sql]) => cli('enqueue', '4', '--sql', sql)));
    for (const [i, result] of results.entries()) {
      expect(result.code).toBe(2);
      expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog enqueue: --sql .*; nothing was queued$/)]);
      expect(result.stderr).toMatch(cases[i][1]);
    }
    expect(await queued()).toEqual([1, 2, 3]);
    const { rows } = await database.pool.query('select count(*)::int as n from zendesk.ticket_sync');
    expect(rows[0].n).toBe(3);
  }, SLOW);
});
