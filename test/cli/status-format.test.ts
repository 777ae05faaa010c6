// `status` prints counts as the demo does (10,792), not 10792, and says which limit paces requests.
import { describe, expect, it } from 'vitest';
import { describeBudget } from '../../src/commands/status.ts';
import type { BudgetRow } from '../../src/db/budget-report.ts';

/** The conversation log's budget row, one process taking permits at `limit`. */
function budgetRow(limit: number, fields: Partial<BudgetRow>): BudgetRow {
  return {
    name: 'conversation_log',
    limitPerWindow: limit,
    takers: [{ limit, process: 'pid 1 on a', lastAskedAt: new Date().toISOString() }],
    lastSentAt: null,
    windowMs: 60_000,
    spent: 0,
    windowEndsAt: new Date().toISOString(),
    serverRemaining: null,
    serverTotal: null,
    others: 0,
    pausedUntil: null,
    totalTaken: 0,
    totalRateLimited: 0,
    totalWaitMs: 0,
    totalWaits: 0,
    ...fields,
  } as BudgetRow;
}

describe('describeBudget', () => {
  it('groups thousands in every count', () => {
    const row = budgetRow(2500, { spent: 1234, serverRemaining: 1266, serverTotal: 2500, others: 1001, totalTaken: 10792, totalWaitMs: 1500, totalWaits: 1200 });
    expect(describeBudget(row)).toBe(
      "budget     conversation_log: 1,234 of 2,500 spent this 60 s window; Zendesk says 1,266 remaining of 2,500 (its own count of every client's requests, in its own window); " +
        "1,001 spent outside this budget (other clients, convlog's credential checks); not paused; 0 429s seen; 10,792 requests, 1,200 waits totalling 1.5 s",
    );
  });

  it("says when Zendesk's total is below the setting, which then no longer paces the requests", () => {
    const row = budgetRow(200, { spent: 30, serverRemaining: 0, serverTotal: 30, totalTaken: 30 });
    expect(describeBudget(row)).toContain(
      "Zendesk says 0 remaining of 30 (its own count of every client's requests, in its own window; below CONVLOG_RATE_LIMIT's 200: requests are paced to Zendesk's 30); not paused",
    );
  });
});
