// serve's own series: the webhooks it received, refused, replayed and ignored, and how fast it
// answered. Kept in memory, per process; only serve receives webhooks, so only its /metrics has
// them (a worker's would be always 0, and read as "no webhooks came").
import type pg from 'pg';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetrics, type Metrics } from './metrics.ts';

/** The refusals the webhook handler answers itself. */
const ANSWERED_REASONS = [
  'no_signature',
  'bad_signature',
  'stale_timestamp',
  // A timestamp header that is not a date: not Zendesk's.
  'bad_timestamp',
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
const REJECTION_REASONS = [
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

export interface ServeMetrics extends Metrics {
  webhooksAccepted: Counter<'action'>;
  webhooksRejected: Counter<'reason'>;
  webhooksReplayed: Counter;
  webhooksIgnored: Counter<'type'>;
  /** From a webhook request's arrival to its answer: Zendesk gives up after a few seconds. */
  webhookAnswerSeconds: Histogram;
  /** Bytes of the webhook bodies being read, against serve's allowance for them. */
  webhookBodyBytes: Gauge;
}

/** Every process's series (createMetrics) and the webhook series, in one registry. */
export function createServeMetrics(pool: pg.Pool, ownLimits: Record<string, number>): ServeMetrics {
  const metrics = createMetrics(pool, ownLimits);
  const registers = [metrics.registry];
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
  for (const action of ['sync', 'full', 'deleted', 'row']) webhooksAccepted.inc({ action }, 0);
  for (const reason of REJECTION_REASONS) webhooksRejected.inc({ reason }, 0);
  return { ...metrics, webhooksAccepted, webhooksRejected, webhooksReplayed, webhooksIgnored, webhookAnswerSeconds, webhookBodyBytes };
}
