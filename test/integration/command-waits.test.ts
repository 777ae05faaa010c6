// `convlog backfill` and `convlog enqueue` held back by a rate limit, against the simulator and a
// real database: neither has a progress bar, so each long wait is one log line naming the budget's
// variable (as `work` does, work-waits.test.ts), instead of a command that sits silent.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startConvlog } from '../helpers/cli.ts';
import { firstWaitLine, ownBudgetWait, spendBudget, waitLines } from '../helpers/rate-waits.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

describe('commands without a progress bar, held back by a rate limit', { timeout: 120_000 }, () => {
  it('backfill names CONVLOG_EXPORT_RATE_LIMIT when its export pages wait beyond the pacing', async () => {
    // Another backfill spent this minute's 10 export requests: the first page waits for the next.
    fixture = await createFixture({ tickets: 10, exportPageSize: 2 }, { queue: [] });
    await spendBudget(fixture.database.pool, 'export', 10);
    const backfill = startConvlog(['backfill', '--since', '40d'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(backfill);
    expect(line, backfill.stderr().slice(-3000)).toMatchObject(ownBudgetWait('export', 'CONVLOG_EXPORT_RATE_LIMIT', 10));
    expect(line.waitMs).toBeGreaterThanOrEqual(12_000);
    backfill.kill('SIGINT');
    expect((await backfill.exited).code).toBe(1);
  });

  it("backfill logs no line for the export budget's own pacing (about 10 s a page at 10 a minute)", async () => {
    // Seven pages at the default 10 a minute: five go at once, the last two wait about 10 s each.
    fixture = await createFixture({ tickets: 14, exportPageSize: 2 }, { queue: [] });
    const started = Date.now();
    const backfill = startConvlog(['backfill', '--since', '40d'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
    const exit = await backfill.exited;
    expect(exit.code, backfill.stderr().slice(-3000)).toBe(0);
    expect(backfill.stderr()).toMatch(/^backfill: page 7: /m);
    expect(Date.now() - started).toBeGreaterThan(12_000);
    expect(waitLines(backfill.stderr()), backfill.stderr().slice(-3000)).toEqual([]);
  });

  it('enqueue names CONVLOG_ACCOUNT_RATE_LIMIT when the ticket rows it reads by id wait', async () => {
    // Another process spent this minute's 10 account-wide requests: show_many waits for the next.
    fixture = await createFixture({ tickets: 10 }, { queue: [] });
    await spendBudget(fixture.database.pool, 'account', 10);
    const enqueue = startConvlog(['enqueue', '--range', '1..10'], { env: { ...fixture.env, CONVLOG_ACCOUNT_RATE_LIMIT: '10', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(enqueue);
    expect(line, enqueue.stderr().slice(-3000)).toMatchObject(ownBudgetWait('account', 'CONVLOG_ACCOUNT_RATE_LIMIT', 10));
    expect(line.waitMs).toBeGreaterThanOrEqual(12_000);
    expect(enqueue.stdout()).toMatch(/^queued 10 tickets, 0 already queued/);
    enqueue.kill('SIGINT');
    await enqueue.exited;
  });
});
