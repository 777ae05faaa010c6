// Burst: 2,000 webhooks in 10 s at a real `serve` (node bin/convlog.js serve) for 300 tickets:
// most tickets named many times, some deliveries replayed byte for byte, some badly signed (20
// tickets only ever badly). Requests go from a bounded loop to 127.0.0.1 only. serve's answer
// times and peak RSS are measured during the burst; then `work --until-idle` drains the queue
// and every ticket is checked: each validly named one synced exactly once, none of the others.
import { randomBytes, randomUUID } from 'node:crypto';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { untilHealthy } from './freshness.ts';
import { CREDENTIALS, convlog, freePort, sleep, type ConvlogProcess, type Postgres } from './harness.ts';

export interface BurstOptions {
  label: string;
  webhooks?: number;
  spreadMs?: number;
  /** Requests in flight at most: the loop waits for an answer before going over. */
  inFlight?: number;
  log?: (line: string) => void;
}

export interface BurstResult {
  sent: number;
  answersMs: number[];
  statuses: Record<string, number>;
  serveRssBytes: number;
  /** serve's own view (its answer-time histogram): the bucket bound 99 % of answers were within. */
  serveP99Bound: string;
  /** CPU serve spent during the burst (user + system), in seconds: what the answers cost, whatever the machine's load. */
  serveCpuSeconds: number;
  validTickets: number;
  /** Valid tickets whose sync count was not exactly one (synced twice, or never). */
  wrongCount: number;
  /** Tickets named only by badly signed webhooks that were queued or read anyway. */
  badSynced: number;
  failedJobs: number;
  drainSeconds: number;
  sendSeconds: number;
}

const TICKETS = 300;
const BAD_ONLY = 20; // tickets 281..300: only ever sent with a wrong signature
const REPLAY_SHARE = 0.05;
const BAD_SHARE = 0.05;
/** The burst is about serve; the worker that drains it afterwards may go as fast as the simulator allows. */
const DRAIN_LIMIT = 1_000;

interface Request {
  ticketId: number;
  kind: 'valid' | 'replay' | 'bad';
  headers: Record<string, string>;
  body: string;
}

export async function burstRun(postgres: Postgres, options: BurstOptions): Promise<BurstResult> {
  const total = options.webhooks ?? 2_000;
  const spreadMs = options.spreadMs ?? 10_000;
  const inFlight = options.inFlight ?? 32;
  const say = options.log ?? (() => {});
  const database = await postgres.database(options.label);
  const secret = randomBytes(24).toString('base64');
  const port = await freePort();
  const sim = await startSimulator({
    tickets: TICKETS,
    ticketSizes: Object.fromEntries(Array.from({ length: TICKETS }, (_, i) => [i + 1, 10])),
    rateLimit: DRAIN_LIMIT,
    seed: 5,
    webhookUrl: '',
  });
  const env = {
    DATABASE_URL: database.url,
    ZENDESK_BASE_URL: sim.url,
    ...CREDENTIALS,
    CONVLOG_RATE_LIMIT: String(DRAIN_LIMIT),
    CONVLOG_CONCURRENCY: '8',
    CONVLOG_WEBHOOK_SECRET: secret,
  };
  let serve: ConvlogProcess | undefined;
  try {
    serve = convlog(['serve', '--port', String(port)], { ...env, CONVLOG_SERVE_HOST: '127.0.0.1' });
    await untilHealthy(`http://127.0.0.1:${port}/healthz`, serve);
    const url = `http://127.0.0.1:${port}/webhooks/zendesk`;
    const requests = plan(total, secret);

    const cpuBefore = serve.cpuSeconds();
    const answersMs: number[] = [];
    const statuses: Record<string, number> = {};
    const start = Date.now();
    let active = 0;
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < requests.length; i++) {
      await sleep(start + (i * spreadMs) / requests.length - Date.now());
      while (active >= inFlight) await Promise.race(pending);
      const request = requests[i];
      active++;
      const sent = performance.now();
      const done = fetch(url, { method: 'POST', headers: request.headers, body: request.body })
        .then(async (response) => {
          await response.arrayBuffer();
          answersMs.push(performance.now() - sent);
          const key = `${request.kind} ${response.status}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
        })
        .catch((error: unknown) => {
          const key = `${request.kind} ${error instanceof Error ? error.message : String(error)}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
        })
        .finally(() => {
          active--;
          pending.delete(done);
        });
      pending.add(done);
    }
    await Promise.all(pending);
    const sendSeconds = (Date.now() - start) / 1000;
    const serveRssBytes = serve.peakRss();
    const serveCpuSeconds = serve.cpuSeconds() - cpuBefore;
    const serveP99Bound = p99Bucket(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    say(`  ${options.label}: ${requests.length} webhooks sent in ${sendSeconds.toFixed(1)} s; answers ${JSON.stringify(statuses)}`);

    const drainStart = Date.now();
    const worker = convlog(['work', '--until-idle'], env);
    const code = await worker.exited;
    if (code !== 0) throw new Error(`work --until-idle exited with ${code}: ${worker.output().slice(-3000)}`);
    const drainSeconds = (Date.now() - drainStart) / 1000;

    const valid = new Set(requests.filter((r) => r.kind !== 'bad').map((r) => r.ticketId));
    const reads = new Map<number, number>();
    for (const r of sim.requests) {
      if (r.kind === 'conversation_log' && r.status === 200 && r.ticketId !== undefined) reads.set(r.ticketId, (reads.get(r.ticketId) ?? 0) + 1);
    }
    const { rows: jobs } = await database.pool.query<{ ticket: number; jobs: number; failed: number }>(
      `select (data->>'ticketId')::int as ticket, count(*)::int as jobs, count(*) filter (where state = 'failed')::int as failed
         from pgboss.job where name = 'ticket-sync' group by 1`,
    );
    const { rows: synced } = await database.pool.query<{ ticket: number }>(
      `select ticket_id::int as ticket from zendesk.ticket_sync where status = 'synced'`,
    );
    const jobsOf = new Map(jobs.map((j) => [j.ticket, j.jobs]));
    const syncedSet = new Set(synced.map((s) => s.ticket));
    let wrongCount = 0;
    for (const ticketId of valid) {
      if (jobsOf.get(ticketId) !== 1 || reads.get(ticketId) !== 1 || !syncedSet.has(ticketId)) wrongCount++;
    }
    let badSynced = 0;
    for (let ticketId = TICKETS - BAD_ONLY + 1; ticketId <= TICKETS; ticketId++) {
      if (jobsOf.has(ticketId) || reads.has(ticketId) || syncedSet.has(ticketId)) badSynced++;
    }
    return {
      sent: requests.length,
      answersMs: answersMs.sort((a, b) => a - b),
      statuses,
      serveRssBytes,
      serveP99Bound,
      serveCpuSeconds,
      validTickets: valid.size,
      wrongCount,
      badSynced,
      failedJobs: jobs.reduce((n, j) => n + j.failed, 0),
      drainSeconds,
      sendSeconds,
    };
  } finally {
    if (serve) {
      const code = await serve.stop();
      if (code !== 0) say(`  ${options.label}: serve exited with ${code}: ${serve.output().slice(-1500)}`);
    }
    await sim.close();
    await database.close();
  }
}

/** The burst, in sending order: valid deliveries, replays of earlier ones, badly signed ones. */
function plan(total: number, secret: string): Request[] {
  const requests: Request[] = [];
  const valid: Request[] = [];
  const goodTickets = TICKETS - BAD_ONLY;
  for (let i = 0; i < total; i++) {
    const roll = Math.random();
    if (roll < REPLAY_SHARE && valid.length > 0) {
      requests.push({ ...valid[Math.floor(Math.random() * valid.length)], kind: 'replay' });
      continue;
    }
    // Every good ticket is named at least once (the first pass), then at random.
    const bad = roll < REPLAY_SHARE + BAD_SHARE;
    const ticketId = bad
      ? 1 + Math.floor(Math.random() * TICKETS)
      : i < goodTickets
        ? 1 + i
        : 1 + Math.floor(Math.random() * goodTickets);
    const onlyBad = ticketId > goodTickets;
    const body = JSON.stringify(commentAdded(ticketId));
    const timestamp = new Date().toISOString();
    const signature = signWebhook(bad || onlyBad ? `not-${secret}` : secret, timestamp, body);
    const request: Request = {
      ticketId,
      kind: bad || onlyBad ? 'bad' : 'valid',
      headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature },
      body,
    };
    requests.push(request);
    if (request.kind === 'valid') valid.push(request);
  }
  return requests;
}

function commentAdded(ticketId: number) {
  return {
    type: 'zen:event-type:ticket.comment_added',
    account_id: 10_000_001,
    id: randomUUID(),
    time: new Date().toISOString(),
    zendesk_event_version: '2022-11-06',
    subject: `zen:ticket:${ticketId}`,
    detail: { id: String(ticketId), status: 'OPEN' },
    event: { comment: { id: randomUUID(), body: 'burst', is_public: true } },
  };
}

/** The smallest `le` of convlog_webhook_answer_seconds whose bucket holds 99 % of the answers. */
function p99Bucket(metrics: string): string {
  const count = Number(/^convlog_webhook_answer_seconds_count (\d+)$/m.exec(metrics)?.[1] ?? 0);
  for (const match of metrics.matchAll(/^convlog_webhook_answer_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    if (Number(match[2]) >= 0.99 * count) return match[1] === '+Inf' ? '> 5 s' : `≤ ${Number(match[1]) * 1000} ms`;
  }
  return 'unknown';
}
