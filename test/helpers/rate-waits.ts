// For the tests of what convlog says while a rate limit holds it back (work-waits, command-waits,
// sync-progress): the wait lines a command logged, and another integration spending the
// simulator's window behind convlog's back.
import type pg from 'pg';
import { expect, vi } from 'vitest';
import { ensureBudget, takePermit } from '../../src/db/rate-budget.ts';

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines in `stderr` that say the command waits. */
export function waitLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg.startsWith('waiting '));
}

/** GETs `url` `times` times with credentials of someone else: the simulator counts them in its window, convlog's budget never hears of them. */
export async function spendOutside(url: string, times: number): Promise<void> {
  const authorization = `Basic ${Buffer.from('someone@example.com/token:other').toString('base64')}`;
  for (let i = 0; i < times; i++) {
    const response = await fetch(url, { headers: { authorization } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
}

/**
 * Another convlog process spends the whole minute of budget `name` (a row of convlog.rate_budgets)
 * at `perMinute`: the next request of the command waits for the window's end, most of a minute,
 * which is beyond the budget's pacing (2 × window ÷ limit) and so gets a line.
 */
export async function spendBudget(pool: pg.Pool, name: string, perMinute: number): Promise<void> {
  await ensureBudget(pool, name, perMinute);
  for (let i = 0; i < perMinute; i++) expect((await takePermit(pool, name, perMinute, 100))?.granted).toBe(true);
}

/** Resolves once `what` holds, or after `ms` (the caller's expectation then says what is missing). */
export async function until(what: () => boolean, ms: number): Promise<void> {
  await vi.waitUntil(what, { timeout: ms, interval: 100 }).catch(() => undefined);
}

/** The first wait line `command` logs, within a minute (undefined if none: the caller's expectation says so). */
export async function firstWaitLine(command: { stderr(): string }): Promise<LogLine> {
  await until(() => waitLines(command.stderr()).length > 0, 60_000);
  return waitLines(command.stderr())[0];
}

/** What a wait for convlog's own budget (not a 429) says: the budget, its variable and limit. */
export function ownBudgetWait(budget: string, setting: string, perMinute: number): Record<string, unknown> {
  const said = new RegExp(`^waiting \\d+ s for the rate limit \\(${perMinute} requests a minute for all processes, ${setting}\\)$`);
  return { budget, setting, cause: 'budget', limitPerWindow: perMinute, msg: expect.stringMatching(said) };
}

/** What a wait for a 429's Retry-After says: Zendesk's limit (as the 429 is worded) and the budget's variable. */
export function retryAfterWait(budget: string, setting: string, zendeskLimit: string): Record<string, unknown> {
  const said = new RegExp(`^waiting \\d+ s for Zendesk's ${zendeskLimit} rate limit \\(it answered 429 Too Many Requests; every process waits out its Retry-After;`);
  return { budget, setting, cause: 'retry-after', msg: expect.stringMatching(said) };
}
