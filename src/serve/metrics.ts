// The Prometheus registry every process with a health port has (`serve`, `work --health-port`):
// its own process series, and gauges read from Postgres at each scrape (so every process reports
// the same queue and budgets). serve adds its webhook series (webhook-metrics.ts).
import type pg from 'pg';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { storedMetrics, type StoredMetrics } from '../db/stored-metrics.ts';
import { TICKET_STATUSES } from '../db/schema.ts';
import { queueMetrics, type QueueMetrics } from '../queue/queue-metrics.ts';
import { withinTime } from '../timing.ts';

// A hung Postgres holds a query for the pool's 10 s connection timeout, as long as Prometheus
// waits for a scrape by default: the scrape would fail rather than say the database is down.
const DATABASE_READ_TIMEOUT_MS = 2_000;
// A read the scrapes share ends by then, answered or not: one on a connection gone half-open
// would otherwise be shared, and reported down, for good.
const DATABASE_READ_LIMIT_MS = 10_000;

export interface Metrics {
  registry: Registry;
  /** Reads the database gauges; false (and convlog_database_up 0) when Postgres did not answer. */
  refresh(): Promise<boolean>;
}

/**
 * `ownLimits`: this process's limit for each budget, by row name (ownLimits, src/db/budgets.ts).
 * `zendeskAwayMs`: a worker's, how long Zendesk has not answered it.
 */
export function createMetrics(pool: pg.Pool, ownLimits: Record<string, number>, own: { zendeskAwayMs?: () => number } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });
  // Totals kept in Postgres, which only grow: typed `counter`, as their `_total` names promise, so
  // rate() and the tools reading the metadata take them as counters. prom-client's counters only
  // count up, so each scrape puts the stored total in place.
  const total = (name: string, help: string) => {
    const counter = new Counter<'budget'>({ name, help, labelNames: ['budget'], registers });
    return { set: (labels: { budget: string }, value: number) => (counter.remove(labels), counter.inc(labels, value)) };
  };

  const up = gauge('convlog_database_up', '1 when Postgres answered the last scrape');
  const queueDepth = gauge('convlog_queue_depth', 'Ticket sync jobs by state (queued, retrying, running)', ['state']);
  const oldest = gauge('convlog_queue_oldest_waiting_seconds', 'Age of the oldest ticket sync job waiting for a worker (sync lag)');
  const tickets = gauge('convlog_tickets', 'Tickets known to convlog, by sync status', ['status']);
  const events = gauge('convlog_events_stored', 'Conversation events stored (Postgres live-row count, not a scan)');
  const budgetLimit = gauge(
    'convlog_rate_budget_limit',
    'Requests allowed per window for the account, by budget (Zendesk endpoint): the lowest limit of the processes taking permits; this process\'s own while none is',
    ['budget'],
  );
  const ownLimit = gauge('convlog_rate_budget_own_limit', "This process's limit per window, by budget (CONVLOG_RATE_LIMIT and its kin); the lowest of the processes taking permits applies", ['budget']);
  const budgetSpent = gauge('convlog_rate_budget_spent', 'Requests taken in the current window, by budget', ['budget']);
  const budgetRequests = total('convlog_rate_budget_requests_total', 'Requests sent since the budget was created, by budget');
  const budget429 = total('convlog_rate_budget_rate_limited_total', '429 answers since the budget was created, by budget');
  const budgetWaits = total('convlog_rate_budget_wait_seconds_total', 'Time processes spent waiting for a permit, by budget');
  for (const [budget, limit] of Object.entries(ownLimits)) ownLimit.set({ budget }, limit);
  // The one sign of a Zendesk outage a worker rides out: /healthz stays 200 (restarting it mends
  // nothing) and the queue only grows. Read at each scrape, from the worker's own gate.
  const { zendeskAwayMs } = own;
  if (zendeskAwayMs) {
    new Gauge({
      name: 'convlog_zendesk_unreachable_seconds',
      help: 'How long Zendesk has not answered this worker (its host not reached: DNS, refused, timed out); 0 while it answers',
      registers,
      collect() {
        this.set(zendeskAwayMs() / 1000);
      },
    });
  }

  // One read of Postgres at a time, shared by every scrape that comes meanwhile: /metrics needs no
  // credentials, and a flood of scrapes would otherwise queue reads on the pool the webhooks use.
  let reading: Promise<[QueueMetrics, StoredMetrics] | undefined> | undefined;

  return {
    registry,
    async refresh() {
      reading ??= Promise.all([queueMetrics(pool, DATABASE_READ_LIMIT_MS), storedMetrics(pool, DATABASE_READ_LIMIT_MS)])
        .catch(() => undefined)
        .finally(() => (reading = undefined));
      const figures = await withinTime(reading, DATABASE_READ_TIMEOUT_MS);
      if (figures === undefined) {
        up.set(0);
        return false;
      }
      const [queue, stored] = figures;
      queueDepth.set({ state: 'queued' }, queue.queued);
      queueDepth.set({ state: 'retrying' }, queue.retrying);
      queueDepth.set({ state: 'running' }, queue.running);
      oldest.set(queue.oldestWaitingSeconds);
      for (const status of TICKET_STATUSES) tickets.set({ status }, stored.ticketsByStatus[status] ?? 0);
      events.set(stored.eventsEstimate);
      for (const b of stored.budgets) {
        // As status says it: with no process taking permits, the limit one started here would apply.
        const limit = b.limitPerWindow ?? ownLimits[b.name];
        if (limit === undefined) budgetLimit.remove({ budget: b.name });
        else budgetLimit.set({ budget: b.name }, limit);
        budgetSpent.set({ budget: b.name }, b.spent);
        budgetRequests.set({ budget: b.name }, b.totalTaken);
        budget429.set({ budget: b.name }, b.totalRateLimited);
        budgetWaits.set({ budget: b.name }, b.totalWaitMs / 1000);
      }
      up.set(1);
      return true;
    },
  };
}
