// Waits for a rate budget, in words and as log fields. `sync` shows them on its progress bar (a
// log line without a terminal); `work`, `backfill` and `enqueue` log them. Each names what holds the
// requests back: convlog's own budget and the variable that sizes it (CONVLOG_RATE_LIMIT,
// CONVLOG_ACCOUNT_RATE_LIMIT, CONVLOG_EXPORT_RATE_LIMIT), Zendesk's header when it allows fewer,
// or a 429's Retry-After. The budgets tell of a wait once per process, whoever waits behind it
// (shared-budget.ts): one line per wait, however many tickets are held.
import { BUDGET_SETTINGS } from '../db/budgets.ts';
import type { BudgetWait, SharedBudget } from '../db/shared-budget.ts';
import type { Logger } from '../log.ts';
import { logWait } from '../timing.ts';

/** Which of Zendesk's limits each budget keeps to, as a 429 is worded. */
const ZENDESK_LIMITS: Record<string, string> = {
  conversation_log: 'conversation-log',
  account: 'account-wide',
  export: 'incremental-export',
};

/** The fields of a wait's log line. */
export interface WaitContext {
  /** The budget's row: 'conversation_log', 'account', 'export'. */
  budget: string;
  /** The variable that sizes that budget. */
  setting: string;
  /** 'budget': the setting's allowance is spent or paced; 'zendesk-total': Zendesk's header allows fewer; 'retry-after': a 429. */
  cause: 'budget' | 'zendesk-total' | 'retry-after';
  limitPerWindow: number;
  windowMs: number;
  serverTotal?: number;
}

/** A wait as shown and logged: "waiting {seconds} s for {text}". */
export interface RateWait {
  text: string;
  waitMs: number;
  /** Shorter waits get no log line: the budget's own pacing (pacedWaitMs). */
  logFromMs?: number;
  context: WaitContext;
}

/**
 * How long a budget's own pacing may make a request wait. A budget spaces the second half of a
 * window's allowance over what is left of it, so it waits up to about 2 × window ÷ limit: at the
 * export's 10 a minute, 6 to 12 s before most pages of a long backfill. That is the limit
 * working, not news; a wait beyond it (the window spent by another process, a 429) is.
 */
function pacedWaitMs(limit: number, windowMs: number): number {
  return limit > 0 && windowMs > 0 ? (2 * windowMs) / limit : 0;
}

function describeWait(wait: BudgetWait): RateWait {
  const setting = BUDGET_SETTINGS[wait.budget] ?? `the ${wait.budget} budget's limit`;
  const per = wait.windowMs === 60_000 ? 'a minute' : `per ${Math.round(wait.windowMs / 1000)} s`;
  const base = { budget: wait.budget, setting, limitPerWindow: wait.limitPerWindow, windowMs: wait.windowMs };
  const serverTotal = wait.serverTotal !== undefined ? { serverTotal: wait.serverTotal } : {};
  if (wait.reason === 'paused') {
    const limit = ZENDESK_LIMITS[wait.budget] ?? wait.budget;
    return {
      text: `Zendesk's ${limit} rate limit (it answered 429 Too Many Requests; every process waits out its Retry-After; convlog's own limit is ${setting}=${wait.limitPerWindow} ${per})`,
      waitMs: wait.waitMs,
      context: { ...base, cause: 'retry-after', ...serverTotal },
    };
  }
  // Zendesk's own figure wins when lower (the budget's windows are a minute, as Zendesk's are).
  if (wait.serverTotal !== undefined && wait.serverTotal < wait.limitPerWindow) {
    return {
      text: `the rate limit (Zendesk's header says total=${wait.serverTotal} requests a window, below ${setting}=${wait.limitPerWindow} ${per})`,
      waitMs: wait.waitMs,
      logFromMs: pacedWaitMs(wait.serverTotal, wait.windowMs),
      context: { ...base, cause: 'zendesk-total', ...serverTotal },
    };
  }
  return {
    text: `the rate limit (${wait.limitPerWindow} requests ${per} for all processes, ${setting})`,
    waitMs: wait.waitMs,
    logFromMs: pacedWaitMs(wait.limitPerWindow, wait.windowMs),
    context: { ...base, cause: 'budget', ...serverTotal },
  };
}

/**
 * Tells `listener` of each budget's waits as they start, and `undefined` with the budget's name
 * once its wait is over. Returns how to stop.
 */
export function watchWaits(budgets: readonly SharedBudget[], listener: (wait: RateWait | undefined, budget: string) => void): () => void {
  const stops = budgets.map((budget) => budget.watch((wait) => listener(wait && describeWait(wait), budget.name)));
  return () => {
    for (const stop of stops) stop();
  };
}

/** Logs each long wait of these budgets (a worker: no bar to show them on). Returns how to stop. */
export function logRateWaits(budgets: readonly SharedBudget[], log: Logger): () => void {
  return watchWaits(budgets, (wait) => {
    if (wait) logWait(log, wait);
  });
}
