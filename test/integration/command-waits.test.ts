// `convlog backfill` and `convlog enqueue` held back by a rate limit, against the simulator and a
// real database: neither has a progress bar, so each long wait is one log line naming the budget's
// variable (as `work` does, work-waits.test.ts), instead of a command that sits silent.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startConvlog } from '../helpers/cli.ts';
import { firstWaitLine, ownBudgetWait } from '../helpers/rate-waits.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

describe('commands without a progress bar, held back by a rate limit', { timeout: 120_000 }, () => {
  it('backfill names CONVLOG_EXPORT_RATE_LIMIT when its export pages wait', async () => {
    // Two tickets a page: five pages under an export budget of 2 a minute.
    fixture = await createFixture({ tickets: 10, exportPageSize: 2 }, { queue: [] });
    const backfill = startConvlog(['backfill', '--since', '40d'], { env: { ...fixture.env, CONVLOG_EXPORT_RATE_LIMIT: '2', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(backfill);
    expect(line, backfill.stderr().slice(-3000)).toMatchObject(ownBudgetWait('export', 'CONVLOG_EXPORT_RATE_LIMIT', 2));
    expect(line.waitMs).toBeGreaterThanOrEqual(5_000);
    // Between the page lines: the first page was read at once.
    expect(backfill.stderr()).toMatch(/^backfill: page 1: 2 changed ticket\(s\)/m);
    backfill.kill('SIGINT');
    expect((await backfill.exited).code).toBe(1);
  });

  it('enqueue names CONVLOG_ACCOUNT_RATE_LIMIT when the ticket rows it reads by id wait', async () => {
    // show_many, then the brands list the tickets name: two requests of a budget of 2 a minute.
    fixture = await createFixture({ tickets: 10 }, { queue: [] });
    const enqueue = startConvlog(['enqueue', '--range', '1..10'], { env: { ...fixture.env, CONVLOG_ACCOUNT_RATE_LIMIT: '2', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(enqueue);
    expect(line, enqueue.stderr().slice(-3000)).toMatchObject(ownBudgetWait('account', 'CONVLOG_ACCOUNT_RATE_LIMIT', 2));
    expect(line.waitMs).toBeGreaterThanOrEqual(5_000);
    expect(enqueue.stdout()).toMatch(/^queued 10 ticket\(s\), 0 already queued/);
    enqueue.kill('SIGINT');
    await enqueue.exited;
  });
});
