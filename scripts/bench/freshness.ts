// Freshness: how long a new message takes to reach Postgres when Zendesk tells convlog at once.
// A real `work` and a real `serve` (node bin/convlog.js, as operators run them) share a fresh
// database; the simulator enforces the default budget (100 conversation-log requests a minute)
// and POSTs a signed webhook to serve for every change. Other tickets are queued first, so the
// worker is busy when the messages come. Then 200 messages are appended to random tickets over
// a minute, and each one is looked for in Postgres twice: visible in conversation_timeline
// (pending, from its webhook, or stored) and stored in conversation_events (read from the log).
import { randomBytes } from 'node:crypto';
import { startSimulator } from '../../src/simulator/index.ts';
import { CREDENTIALS, convlog, freePort, sleep, type ConvlogProcess, type Postgres } from './harness.ts';

export interface FreshnessOptions {
  label: string;
  /** Messages appended, spread evenly over `spreadMs`. */
  messages?: number;
  spreadMs?: number;
  /** Tickets the messages go to, at random. */
  hotTickets?: number;
  /** Other tickets queued before the messages start. */
  backlog?: number;
  limit?: number;
  log?: (line: string) => void;
}

export interface FreshnessResult {
  limit: number;
  /** Append-to-visible delays (a row in conversation_timeline, pending or stored), in ms, sorted. */
  delaysMs: number[];
  /** Messages never visible within the wait after the last append. */
  missing: number;
  /** Append-to-stored delays (a row in conversation_events), in ms, sorted. */
  storedDelaysMs: number[];
  /** Messages never stored within the wait after the last append. */
  storedMissing: number;
  /** Rows left in zendesk.pending_comments when the wait ended (the syncs clear them). */
  pendingAtEnd: number;
  /** Webhooks the simulator sent and serve answered 2xx. */
  delivered: number;
  webhooks: number;
  rateLimited: number;
  /** Conversation-log requests answered 200 from the first append to the last row. */
  requests: number;
  serveRssBytes: number;
}

// One page each: a ticket's first sync and each later one cost one request alike.
const EVENTS_PER_TICKET = 20;
/** How long after the last append a message may still be stored before it counts as missing. */
const GRACE_MS = 60_000;

export async function freshnessRun(postgres: Postgres, options: FreshnessOptions): Promise<FreshnessResult> {
  const messages = options.messages ?? 200;
  const spreadMs = options.spreadMs ?? 60_000;
  const hot = options.hotTickets ?? 100;
  const backlog = options.backlog ?? 50;
  const limit = options.limit ?? 100;
  const say = options.log ?? (() => {});
  const tickets = hot + backlog;

  const database = await postgres.database(options.label);
  const servePort = await freePort();
  const secret = randomBytes(24).toString('base64');
  const sim = await startSimulator({
    tickets,
    ticketSizes: Object.fromEntries(Array.from({ length: tickets }, (_, i) => [i + 1, EVENTS_PER_TICKET])),
    rateLimit: limit,
    window: 60,
    seed: 11,
    webhookUrl: `http://127.0.0.1:${servePort}/webhooks/zendesk`,
    webhookSecret: secret,
  });
  const env = {
    DATABASE_URL: database.url,
    ZENDESK_BASE_URL: sim.url,
    ...CREDENTIALS,
    CONVLOG_RATE_LIMIT: String(limit),
    CONVLOG_WEBHOOK_SECRET: secret,
    CONVLOG_SERVE_HOST: '127.0.0.1',
  };
  const running: ConvlogProcess[] = [];
  try {
    const serve = convlog(['serve', '--port', String(servePort)], env);
    running.push(serve);
    await untilHealthy(`http://127.0.0.1:${servePort}/healthz`, serve);
    const queued = convlog(['enqueue', '--range', `${hot + 1}..${tickets}`], env);
    if ((await queued.exited) !== 0) throw new Error(`enqueue failed: ${queued.output().slice(-3000)}`);
    running.push(convlog(['work'], env));
    say(`  ${options.label}: serve and work running; ${backlog} other tickets queued; appending ${messages} messages to ${hot} tickets over ${spreadMs / 1000} s`);

    const appendedAt = new Map<string, number>();
    const ticketOf = new Map<string, number>();
    const visibleAt = new Map<string, number>();
    const storedAt = new Map<string, number>();
    let appending = true;
    let lastAppend = Date.now();
    // Looks for the messages not yet seen in `relation`, by ticket (both read the ticket's index).
    const look = async (relation: string, seen: Map<string, number>) => {
      const waiting = [...appendedAt.keys()].filter((id) => !seen.has(id));
      if (waiting.length === 0) return;
      const { rows } = await database.pool.query<{ event_id: string }>(
        `select event_id from ${relation} where ticket_id = any($1::bigint[]) and event_id = any($2::text[])`,
        [[...new Set(waiting.map((id) => ticketOf.get(id)!))], waiting],
      );
      const now = Date.now();
      for (const row of rows) if (!seen.has(row.event_id)) seen.set(row.event_id, now);
    };
    const watcher = (async () => {
      while (appending || (appendedAt.size > storedAt.size && Date.now() < lastAppend + GRACE_MS)) {
        await look('zendesk.conversation_timeline', visibleAt);
        await look('zendesk.conversation_events', storedAt);
        await sleep(50);
      }
    })();
    const start = Date.now();
    const requestsBefore = sim.requests.filter((r) => r.kind === 'conversation_log' && r.status === 200).length;
    for (let i = 0; i < messages; i++) {
      await sleep(start + (i * spreadMs) / messages - Date.now());
      const ticketId = 1 + Math.floor(Math.random() * hot);
      const [event] = sim.appendEvents(ticketId, 1);
      lastAppend = Date.now();
      ticketOf.set(event.id, ticketId);
      appendedAt.set(event.id, lastAppend);
    }
    appending = false;
    await watcher;
    await sim.webhooks.settled();

    const delays = (seen: Map<string, number>) => [...seen].map(([id, at]) => at - appendedAt.get(id)!).sort((a, b) => a - b);
    const { rows: pending } = await database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.pending_comments');
    const deliveries = sim.webhooks.deliveries;
    const serveRssBytes = serve.peakRss();
    return {
      limit,
      delaysMs: delays(visibleAt),
      missing: appendedAt.size - visibleAt.size,
      storedDelaysMs: delays(storedAt),
      storedMissing: appendedAt.size - storedAt.size,
      pendingAtEnd: pending[0].n,
      delivered: deliveries.filter((d) => d.status >= 200 && d.status < 300).length,
      webhooks: deliveries.length,
      rateLimited: sim.requests.filter((r) => r.kind === 'conversation_log' && r.status === 429).length,
      // Counted up to the end of the wait for the stored rows.
      requests: sim.requests.filter((r) => r.kind === 'conversation_log' && r.status === 200).length - requestsBefore,
      serveRssBytes,
    };
  } finally {
    for (const proc of running) {
      const code = await proc.stop();
      if (code !== 0) say(`  ${options.label}: convlog ${proc.child.spawnargs.slice(2).join(' ')} exited with ${code}: ${proc.output().slice(-1500)}`);
    }
    await sim.close();
    await database.close();
  }
}

/** Resolves once the process answers 200 at `url`; throws if it exits or takes a minute. */
export async function untilHealthy(url: string, proc: ConvlogProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`convlog serve exited: ${proc.output().slice(-3000)}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`convlog serve did not answer ${url} within 60 s: ${proc.output().slice(-3000)}`);
}

/** The value below which `share` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}
