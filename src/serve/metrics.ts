// The Prometheus registry of one process: webhook counters kept in memory, and gauges read
// from Postgres at each scrape (so every process reports the same queue and budgets).
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { storedMetrics, type StoredMetrics } from '../db/stored-metrics.ts';
import { TICKET_STATUSES } from '../db/schema.ts';
import { queueMetrics, type QueueMetrics } from '../queue/queue-metrics.ts';
import { withinTime } from '../timing.ts';

/** The refusals the webhook handler answers itself. */
export const ANSWERED_REASONS = [
  'no_signature',
  'bad_signature',
  'stale_timestamp',
  'too_large',
  'server_busy',
  // 408: the body did not all come within 5 s of its headers; the connection is closed.
  'slow_sender',
  'malformed_json',
  'no_ticket',
  // A trigger's body names its ticket, but `full` is not true or false.
  'invalid_field',
  'method_not_allowed',
  // Answered 503: Postgres failed or was too slow to record and queue it; Zendesk retries it.
  'not_queued',
] as const;
export type RejectionReason = (typeof ANSWERED_REASONS)[number];

/** Every reason counted: the above, and requests the handler never answered. */
export const REJECTION_REASONS = [
  ...ANSWERED_REASONS,
  // 408 from Node: headers not all sent within 10 s, or the request within 15 s.
  'timeout',
  // 400, 431 or 413 from Node: not HTTP its parser takes, headers too large.
  'bad_request',
  // The client closed the connection before its request ended, or a shutdown cut it.
  'cut_off',
  // 500: the handler failed.
  'internal_error',
] as const;

// A hung Postgres holds a query for the pool's 10 s connection timeout, as long as Prometheus
// waits for a scrape by default: the scrape would fail rather than say the database is down.
const DATABASE_READ_TIMEOUT_MS = 2_000;
// A read the scrapes share ends by then, answered or not: one on a connection gone half-open
// would otherwise be shared, and reported down, for good.
const DATABASE_READ_LIMIT_MS = 10_000;

export interface Metrics {
  registry: Registry;
  webhooksAccepted: Counter<'action'>;
  webhooksRejected: Counter<'reason'>;
  webhooksReplayed: Counter;
  webhooksIgnored: Counter<'type'>;
  /** From a webhook request's arrival to its answer: Zendesk gives up after a few seconds. */
  webhookAnswerSeconds: Histogram;
  /** Bytes of the webhook bodies being read, against serve's allowance for them. */
  webhookBodyBytes: Gauge;
  /** Reads the database gauges; false (and convlog_database_up 0) when Postgres did not answer. */
  refresh(): Promise<boolean>;
}

export function createMetrics(pool: pg.Pool): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });

  const webhooksAccepted = new Counter({ name: 'convlog_webhooks_accepted_total', help: 'Webhooks accepted, by what they asked for', labelNames: ['action'], registers });
  const webhooksRejected = new Counter({ name: 'convlog_webhooks_rejected_total', help: 'Webhooks refused, by reason', labelNames: ['reason'], registers });
  const webhooksReplayed = new Counter({ name: 'convlog_webhooks_replayed_total', help: 'Webhooks already accepted once (answered 200, nothing queued)', registers });
  const webhooksIgnored = new Counter({ name: 'convlog_webhooks_ignored_total', help: 'Webhooks of event types convlog does not act on', labelNames: ['type'], registers });
  const webhookAnswerSeconds = new Histogram({
    name: 'convlog_webhook_answer_seconds',
    help: 'Time from a webhook request to its answer',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const webhookBodyBytes = new Gauge({ name: 'convlog_webhook_body_bytes', help: 'Bytes held by the webhook bodies being read (the allowance is 16 MB)', registers });
  // Pre-set so every series exists (at 0) from the first scrape, and alert rules find it.
  for (const action of ['sync', 'full', 'deleted']) webhooksAccepted.inc({ action }, 0);
  for (const reason of REJECTION_REASONS) webhooksRejected.inc({ reason }, 0);

  const up = gauge('convlog_database_up', '1 when Postgres answered the last scrape');
  const queueDepth = gauge('convlog_queue_depth', 'Ticket sync jobs by state (queued, retrying, running)', ['state']);
  const oldest = gauge('convlog_queue_oldest_waiting_seconds', 'Age of the oldest ticket sync job waiting for a worker (sync lag)');
  const tickets = gauge('convlog_tickets', 'Tickets known to convlog, by sync status', ['status']);
  const events = gauge('convlog_events_stored', 'Conversation events stored (Postgres live-row count, not a scan)');
  const budgetLimit = gauge('convlog_rate_budget_limit', 'Requests allowed per window, by budget (Zendesk endpoint)', ['budget']);
  const budgetSpent = gauge('convlog_rate_budget_spent', 'Requests taken in the current window, by budget', ['budget']);
  const budgetRequests = gauge('convlog_rate_budget_requests_total', 'Requests sent since the budget was created, by budget', ['budget']);
  const budget429 = gauge('convlog_rate_budget_rate_limited_total', '429 answers since the budget was created, by budget', ['budget']);
  const budgetWaits = gauge('convlog_rate_budget_wait_seconds_total', 'Time processes spent waiting for a permit, by budget', ['budget']);

  // One read of Postgres at a time, shared by every scrape that comes meanwhile: /metrics needs no
  // credentials, and a flood of scrapes would otherwise queue reads on the pool the webhooks use.
  let reading: Promise<[QueueMetrics, StoredMetrics] | undefined> | undefined;

  return {
    registry,
    webhooksAccepted,
    webhooksRejected,
    webhooksReplayed,
    webhooksIgnored,
    webhookAnswerSeconds,
    webhookBodyBytes,
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
        budgetLimit.set({ budget: b.name }, b.limitPerWindow);
        budgetSpent.set({ budget: b.name }, b.spent);
        budgetRequests.set({ budget: b.name }, b.requests);
        budget429.set({ budget: b.name }, b.rateLimited);
        budgetWaits.set({ budget: b.name }, b.waitSeconds);
      }
      up.set(1);
      return true;
    },
  };
}
