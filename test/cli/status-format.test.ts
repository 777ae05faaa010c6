// `status` prints counts as the demo does (10,792), not 10792.
import { describe, expect, it } from 'vitest';
import { describeBudget } from '../../src/commands/status.ts';
import type { BudgetRow } from '../../src/db/rate-budget.ts';

describe('describeBudget', () => {
  it('groups thousands in every count', () => {
    const row = {
      name: 'conversation_log',
      limitPerWindow: 2500,
      takers: [{ limit: 2500, process: 'pid 1 on a', lastAskedAt: new Date().toISOString() }],
      lastSentAt: null,
      windowMs: 60_000,
      spent: 1234,
      windowEndsAt: new Date().toISOString(),
      serverRemaining: 1266,
      serverTotal: 2500,
      others: 1001,
      pausedUntil: null,
      totalTaken: 10792,
      totalRateLimited: 0,
      totalWaitMs: 1500,
      totalWaits: 1200,
    } as BudgetRow;
    expect(describeBudget(row)).toBe(
      'budget     conversation_log: 1,234 of 2,500 spent this 60 s window; Zendesk says 1,266 remaining of 2,500; ' +
        "1,001 spent outside this budget (other clients, convlog's credential checks); not paused; 0 429s seen; 10,792 requests, 1,200 waits totalling 1.5 s",
    );
  });
});
