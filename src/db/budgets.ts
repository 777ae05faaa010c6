// The three budgets Zendesk keeps per account, each one row of convlog.rate_budgets shared by
// every process: the conversation log's (100 a minute, 300 with High Volume), the incremental
// export's (10 a minute, 30 with High Volume) and the account-wide one that the tickets, groups,
// brands and organizations endpoints count against (its size depends on the plan).
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { sharedBudget, type SharedBudget } from './shared-budget.ts';

export const BUDGET_NAMES = {
  conversationLog: 'conversation_log',
  export: 'export',
  account: 'account',
} as const;

export type BudgetKind = keyof typeof BUDGET_NAMES;

/** The variable that sizes each budget, by row name. */
export const BUDGET_SETTINGS: Record<string, string> = {
  [BUDGET_NAMES.conversationLog]: 'CONVLOG_RATE_LIMIT',
  [BUDGET_NAMES.account]: 'CONVLOG_ACCOUNT_RATE_LIMIT',
  [BUDGET_NAMES.export]: 'CONVLOG_EXPORT_RATE_LIMIT',
};

export function budgetFor(kind: BudgetKind, pool: pg.Pool, limitPerWindow: number, log: Logger): SharedBudget {
  const name = BUDGET_NAMES[kind];
  return sharedBudget(pool, { name, limitPerWindow, setting: BUDGET_SETTINGS[name], log });
}

/**
 * This process's limit for each budget, by row name: what it asks with when it takes permits, and
 * what applies when it does so alone. The limit in force is the lowest of the processes taking part.
 */
export function ownLimits(config: Pick<Config, 'rateLimit' | 'accountRateLimit' | 'exportRateLimit'>): Record<string, number> {
  return {
    [BUDGET_NAMES.conversationLog]: config.rateLimit,
    [BUDGET_NAMES.account]: config.accountRateLimit,
    [BUDGET_NAMES.export]: config.exportRateLimit,
  };
}
