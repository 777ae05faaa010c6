// Utilization and sharing of the shared rate budget: real `convlog work` processes against one
// database and a simulator with fixed windows and 250 ms latency. Windows are shortened to 10 s
// with a proportional limit (50 per 10 s = Zendesk's High Volume 300 a minute) so the run fits
// in minutes; every figure is counted by the simulator over whole windows.
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { ensureBudget } from '../../src/db/rate-budget.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type SimRequest } from '../../src/simulator/index.ts';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { AUTHORIZATION, CREDENTIALS, convlog, jobOutcomes, sleep, type Postgres } from './harness.ts';

export interface BudgetRunOptions {
  label: string;
  processes: number;
  /** Another client spending this fraction of every window (0: none). */
  otherShare: number;
  windows?: number;
  windowSec?: number;
  limit?: number;
  latencyMs?: number;
  log?: (line: string) => void;
}

export interface WindowCount {
  window: number;
  ours: number;
  ours429: number;
  other: number;
  other429: number;
}

export interface BudgetRunResult {
  windows: WindowCount[];
  limit: number;
  /** Our successful requests ÷ what the budget allowed us (the limit, less what the other client spent). */
  ratio: number;
  ours: number;
  ours429: number;
  other: number;
  other429: number;
  failedJobs: number;
  retries: number;
  maxPerWindow: number;
}

const TICKET_EVENTS = 1000; // 10 pages of 100 each

export async function budgetRun(postgres: Postgres, options: BudgetRunOptions): Promise<BudgetRunResult> {
  const windows = options.windows ?? 6;
  const windowSec = options.windowSec ?? 10;
  const windowMs = windowSec * 1000;
  const limit = options.limit ?? 50;
  const latency = options.latencyMs ?? 250;
  const say = options.log ?? (() => {});
  // Enough pages that the queue never runs dry: the whole run's allowance, twice over.
  const tickets = Math.ceil((2 * limit * (windows + 2)) / (TICKET_EVENTS / 100));
  const otherTicket = tickets + 1;

  const database = await postgres.database(options.label);
  const origin = Date.now();
  const sim = await startSimulator({ tickets: otherTicket, ticketSizes: Object.fromEntries(Array.from({ length: tickets }, (_, i) => [i + 1, TICKET_EVENTS])), rateLimit: limit, window: windowSec, latency, seed: 5 });
  const windowOf = (at: number) => Math.floor((at - origin) / windowMs);
  const workers: ReturnType<typeof convlog>[] = [];
  let otherRunning = false;
  try {
    // The budget's window matches the simulator's; CONVLOG_RATE_LIMIT gives the limit.
    await ensureBudget(database.pool, BUDGET_NAMES.conversationLog, limit, windowMs);
    const boss = await startBoss(database, silentLogger);
    await enqueueTickets(boss, database.db, Array.from({ length: tickets }, (_, i) => i + 1));
    await boss.stop({ graceful: true, timeout: 5_000 });

    const env = { DATABASE_URL: database.url, ZENDESK_BASE_URL: sim.url, ...CREDENTIALS, CONVLOG_RATE_LIMIT: String(limit) };
    for (let i = 0; i < options.processes; i++) workers.push(convlog(['work'], env));
    while (!sim.requests.some((r) => r.kind === 'conversation_log')) {
      if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`a worker exited early: ${workers.map((w) => w.output()).join('\n')}`);
      await sleep(50);
    }
    const first = windowOf(sim.requests.find((r) => r.kind === 'conversation_log')!.at) + 1;
    const last = first + windows - 1;
    say(`  ${options.label}: ${options.processes} process(es), counting windows ${first}..${last} (${windows} × ${windowSec} s)`);

    let other: Promise<void> = Promise.resolve();
    if (options.otherShare > 0) {
      otherRunning = true;
      other = otherClient(sim.url, otherTicket, origin, windowMs, first, last, Math.round(options.otherShare * limit), () => otherRunning);
    }
    // Until the last counted window has ended and its answers are in.
    await sleep(origin + (last + 1) * windowMs + latency + 200 - Date.now());
    otherRunning = false;
    await other;
    const codes = await Promise.all(workers.map((w) => w.stop()));
    if (codes.some((c) => c !== 0)) say(`  warning: worker exit codes ${codes.join(', ')}`);

    const counts: WindowCount[] = [];
    for (let window = first; window <= last; window++) counts.push({ window, ours: 0, ours429: 0, other: 0, other429: 0 });
    for (const r of sim.requests as SimRequest[]) {
      if (r.kind !== 'conversation_log') continue;
      const row = counts[windowOf(r.at) - first];
      if (!row) continue;
      const mine = r.ticketId !== otherTicket;
      if (r.status === 429) mine ? row.ours429++ : row.other429++;
      else if (r.status === 200) mine ? row.ours++ : row.other++;
    }
    const sum = (key: keyof WindowCount) => counts.reduce((n, c) => n + c[key], 0);
    const allowed = counts.reduce((n, c) => n + (limit - c.other), 0);
    const jobs = await jobOutcomes(database.pool);
    return {
      windows: counts,
      limit,
      ratio: sum('ours') / allowed,
      ours: sum('ours'),
      ours429: sum('ours429'),
      other: sum('other'),
      other429: sum('other429'),
      failedJobs: jobs.failed,
      retries: jobs.retries,
      maxPerWindow: Math.max(...counts.map((c) => c.ours + c.other)),
    };
  } catch (error) {
    for (const w of workers) say(w.output().slice(-3000));
    throw error;
  } finally {
    otherRunning = false;
    await Promise.all(workers.map((w) => w.stop()));
    await sim.close();
    await database.close();
  }
}

/**
 * Another integration on the same account: a plain fetch loop that sends `perWindow` requests
 * evenly spaced over each window, without any knowledge of convlog.
 */
async function otherClient(baseUrl: string, ticketId: number, origin: number, windowMs: number, first: number, last: number, perWindow: number, running: () => boolean): Promise<void> {
  const url = `${baseUrl}/api/v2/tickets/${ticketId}/conversation_log?page[size]=1`;
  for (let window = first; window <= last && running(); window++) {
    for (let i = 0; i < perWindow && running(); i++) {
      await sleep(origin + window * windowMs + ((i + 0.5) * windowMs) / perWindow - Date.now());
      const response = await fetch(url, { headers: { authorization: AUTHORIZATION } }).catch(() => undefined);
      await response?.arrayBuffer().catch(() => undefined);
    }
  }
}
