// A `sync` beside a running `work`: the service may take the tickets sync queued, and sync's
// summary said "synced 4, … | 0 events read with 0 requests", which read as a contradiction.
// It now says how many of them another process ran.
import os from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startConvlog } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 12, latency: 150 }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
});

it("says how many of its tickets another process working the queue ran", { timeout: 120_000 }, async () => {
  const work = startConvlog(['work', '--concurrency', '8'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
  try {
    for (let i = 0; i < 300 && !/"msg":"worker started"/.test(work.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const ids = ['1', '2', '3', '4', '5', '6', '7', '8'];
    const sync = await runCli(['sync', '--concurrency', '1', ...ids], { env: { ...fixture.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
    expect(sync.code, sync.stderr).toBe(0);
    // Which of them sync ran itself, by its own log, complete once it has exited (the service's
    // may still be in its buffer).
    const ranBySync = new Set(
      sync.stderr
        .split('\n')
        .filter((line) => line.includes('"msg":"ticket synced"'))
        .map((line) => Number(JSON.parse(line).ticketId)),
    );
    const elsewhere = 8 - ranBySync.size;
    const line = sync.stdout.split('\n')[0];
    if (elsewhere > 0) expect(line).toMatch(new RegExp(`^synced 8, not_found 0, forbidden 0, failed 0 \\(${elsewhere} of them by another process working the queue\\) \\| `));
    else expect(line).toMatch(/^synced 8, not_found 0, forbidden 0, failed 0 \| /);
    // Eight tickets, a worker of eight beside a sync of one: the service takes some.
    expect(elsewhere).toBeGreaterThan(0);
  } finally {
    work.kill('SIGTERM');
    await work.exited;
  }
});

it('backfill says the running work will sync what it queued, not "when workers run"', { timeout: 120_000 }, async () => {
  const work = startConvlog(['work', '--concurrency', '2'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
  try {
    for (let i = 0; i < 300 && !/"msg":"worker started"/.test(work.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const backfill = await runCli(['backfill', '--since', '400d'], { env: fixture.env, timeoutMs: 90_000 });
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stdout).toContain(`the tickets sync as the process working the queue take them (pid ${work.pid} on ${os.hostname()})`);
  } finally {
    work.kill('SIGTERM');
    await work.exited;
  }
  // None running: where to start one.
  const alone = await runCli(['backfill'], { env: fixture.env, timeoutMs: 90_000 });
  expect(alone.stdout).toContain('the tickets sync when workers run: convlog work (or convlog work --until-idle)');
});
