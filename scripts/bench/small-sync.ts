// A small sync on the default budget (100 a minute, the simulator enforcing it): `convlog sync`
// of 50 one-page tickets into a fresh database, then, in the next window of the simulator,
// `convlog work --until-idle` on the same 50 tickets, unchanged. Neither needs more than half of
// a window's allowance, so neither should wait for the budget; the figures are each step's wall
// time, the budget's waits and the requests per step ÷ the window's allowance.
import { readBudgets } from '../../src/db/budget-report.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { CREDENTIALS, convlog, jobOutcomes, sleep, type Postgres } from './harness.ts';

export interface SmallSyncOptions {
  label: string;
  tickets?: number;
  /** Requests per window, for convlog and the simulator alike. */
  limit?: number;
  log?: (line: string) => void;
}

export interface StepFigures {
  seconds: number;
  /** From the step's first conversation-log request to its last, at the simulator: no start-up. */
  requestSeconds: number;
  /** Conversation-log requests the simulator answered during the step. */
  requests: number;
  /** Waits the budget imposed during the step, and their total. */
  waits: number;
  waitMs: number;
}

export interface SmallSyncResult {
  limit: number;
  sync: StepFigures;
  resync: StepFigures;
  limited: number;
}

const WINDOW_SEC = 60;
const EVENTS_PER_TICKET = 30; // one page each

export async function smallSyncRun(postgres: Postgres, options: SmallSyncOptions): Promise<SmallSyncResult> {
  const tickets = options.tickets ?? 50;
  const limit = options.limit ?? 100;
  const say = options.log ?? (() => {});
  const database = await postgres.database(options.label);
  const origin = Date.now();
  const sim = await startSimulator({
    tickets,
    ticketSizes: Object.fromEntries(Array.from({ length: tickets }, (_, i) => [i + 1, EVENTS_PER_TICKET])),
    rateLimit: limit,
    window: WINDOW_SEC,
    seed: 7,
  });
  const env = { DATABASE_URL: database.url, ZENDESK_BASE_URL: sim.url, ...CREDENTIALS, CONVLOG_RATE_LIMIT: String(limit) };
  const range = `1..${tickets}`;
  const logRequests = () => sim.requests.filter((r) => r.kind === 'conversation_log');
  const budget = async () => (await readBudgets(database.pool)).find((b) => b.name === BUDGET_NAMES.conversationLog);

  /** Runs one convlog command to its end: its wall time and what it cost the budget. */
  const step = async (args: string[]): Promise<StepFigures> => {
    const before = { requests: logRequests().length, budget: await budget() };
    const started = Date.now();
    const child = convlog(args, env);
    const code = await child.exited;
    const seconds = (Date.now() - started) / 1000;
    if (code !== 0) throw new Error(`convlog ${args.join(' ')} exited with ${code}: ${child.output().slice(-3000)}`);
    const after = await budget();
    const made = logRequests().slice(before.requests);
    return {
      seconds,
      requestSeconds: made.length === 0 ? 0 : (made[made.length - 1].at - made[0].at) / 1000,
      requests: made.length,
      waits: (after?.totalWaits ?? 0) - (before.budget?.totalWaits ?? 0),
      waitMs: (after?.totalWaitMs ?? 0) - (before.budget?.totalWaitMs ?? 0),
    };
  };

  try {
    const sync = await step(['sync', '--range', range]);
    say(`  ${options.label}: sync of ${tickets} tickets into a fresh database: ${describe(sync)}`);
    // A fresh simulator window, so the second step's figures do not depend on the first one's.
    await sleep(WINDOW_SEC * 1000 - ((Date.now() - origin) % (WINDOW_SEC * 1000)) + 200);
    const queued = convlog(['enqueue', '--range', range], env);
    if ((await queued.exited) !== 0) throw new Error(`convlog enqueue failed: ${queued.output().slice(-3000)}`);
    const resync = await step(['work', '--until-idle']);
    say(`  ${options.label}: work --until-idle on the same ${tickets} tickets, unchanged: ${describe(resync)}`);
    const jobs = await jobOutcomes(database.pool);
    if (jobs.failed > 0) throw new Error(`${jobs.failed} jobs failed`);
    const limited = sim.requests.filter((r) => r.kind === 'conversation_log' && r.status === 429).length;
    return { limit, sync, resync, limited };
  } finally {
    await sim.close();
    await database.close();
  }
}

function describe(step: StepFigures): string {
  return `${step.seconds.toFixed(1)} s (requests over ${step.requestSeconds.toFixed(1)} s), ${step.requests} requests, ${step.waits} waits (${(step.waitMs / 1000).toFixed(1)} s)`;
}
