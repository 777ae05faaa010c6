// Tickets queued by id get their tickets row in the same run, from show_many, under the
// account-wide budget: `enqueue`'s those that no export has shown yet, `sync`'s every one (someone
// is waiting for the ticket as it is now, and its row may hold a state long gone). It runs in the command, after the
// queueing, because one request then covers 100 tickets; a worker would read them one by one.
// A failure here never undoes the queueing: it is logged, and `convlog status` counts the
// tickets still without a row (the next backfill or run by id fills them).
import type pg from 'pg';
import type { Config } from '../config.ts';
import { budgetFor } from '../db/budgets.ts';
import type { Db } from '../db/connection.ts';
import { errorMessage } from '../errors/messages.ts';
import type { SharedBudget } from '../db/shared-budget.ts';
import type { Logger } from '../log.ts';
import { readChangedTickets, readMissingTickets, type ReadByIdResult } from '../sync/ticket-context.ts';
import { logRateWaits } from './rate-waits.ts';
import { createZendeskHttp, type RequestBudget, type ZendeskHttp } from '../zendesk/index.ts';

export interface TicketRowsDeps {
  db: Db;
  pool: pg.Pool;
  config: Pick<Config, 'accountRateLimit' | 'zendesk'>;
  log: Logger;
  signal?: AbortSignal;
  /** The command's client, when it has one; else one is made from the config. */
  http?: ZendeskHttp;
  /** The command's account-wide budget (whose waits it shows), when it has one; else one is made, whose long waits are logged. */
  budget?: RequestBudget;
}

/**
 * Returns what was read, or null when it could not be (no credentials, or a failure, logged).
 * `current`: every ticket's row is read, not only those without one.
 */
export async function readRowsOfQueued(deps: TicketRowsDeps, ticketIds: readonly number[], { current = false } = {}): Promise<ReadByIdResult | null> {
  if (ticketIds.length === 0) return null;
  const zendesk = deps.config.zendesk;
  if (!deps.http && !zendesk) {
    deps.log.info('no Zendesk credentials: the queued tickets get their ticket rows from the next backfill or sync');
    return null;
  }
  let budget = deps.budget;
  let own: SharedBudget | undefined;
  let unwatch: (() => void) | undefined;
  if (!budget) {
    // enqueue has no bar: a long wait for the account-wide budget is a log line, not silence.
    own = budgetFor('account', deps.pool, deps.config.accountRateLimit, deps.log);
    unwatch = logRateWaits([own], deps.log);
    budget = own;
  }
  try {
    const readDeps = { db: deps.db, http: deps.http ?? createZendeskHttp(zendesk!, { log: deps.log }), budget, log: deps.log, signal: deps.signal };
    const result = current ? await readChangedTickets(readDeps, ticketIds, { brandsList: true }) : await readMissingTickets(readDeps, ticketIds);
    if (result.requests > 0) {
      deps.log.info({ stored: result.stored, notReturned: result.missing.length, brands: result.brands, requests: result.requests }, 'ticket rows read by id');
    }
    return result;
  } catch (error) {
    if (deps.signal?.aborted) {
      // Ctrl-C, not a failure: no warning with "This operation was aborted" in it.
      deps.log.info('stopped before the ticket rows were read by id; "convlog status" counts the tickets without one');
      return null;
    }
    deps.log.warn(
      { err: errorMessage(error) },
      'could not read the queued tickets from the tickets API; they stay queued, and "convlog status" counts those without a ticket row',
    );
    return null;
  } finally {
    unwatch?.();
    await own?.release();
  }
}
