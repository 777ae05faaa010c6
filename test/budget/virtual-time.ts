// Runs the shared budget (the real statements on a real Postgres) on virtual time: a clock that
// jumps to its next timer whenever nothing else is happening, worker processes that take permits
// and send requests, and a Zendesk that counts them per fixed window and answers with its
// rate-limit headers. Minutes of traffic take a second or two.
import type pg from 'pg';
import { sharedBudget, type BudgetClock, type ResponseFacts, type SharedBudget } from '../../src/db/shared-budget.ts';

/** 2030-01-01T00:00:00Z: far from the real clock, so nothing real can pass for virtual. */
export const T0 = Date.UTC(2030, 0, 1);

interface Timer {
  at: number;
  seq: number;
  resolve(): void;
}

/** A clock whose time moves only when every actor is asleep on it and no statement is running. */
export class VirtualClock implements BudgetClock {
  #now: number;
  #timers: Timer[] = [];
  #seq = 0;
  #queries = 0;

  constructor(start = T0) {
    this.#now = start;
  }

  now = (): number => this.#now;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });

  /** The pool with every query counted, so the clock knows when a statement is still running. */
  counting(pool: pg.Pool): pg.Pool {
    const query = (...args: unknown[]) => {
      this.#queries++;
      return (pool.query as (...a: unknown[]) => Promise<unknown>)(...args).finally(() => this.#queries--);
    };
    return new Proxy(pool, { get: (target, key) => (key === 'query' ? query : Reflect.get(target, key)) });
  }

  /** Moves time from timer to timer until `done()` or `untilMs`. */
  async run(untilMs: number, done: () => boolean = () => false): Promise<void> {
    while (!done()) {
      await this.#settle();
      if (this.#timers.length === 0) return;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift()!;
      if (next.at > untilMs) {
        this.#timers.unshift(next);
        this.#now = untilMs;
        return;
      }
      this.#now = Math.max(this.#now, next.at);
      next.resolve();
    }
  }

  /** Until no statement has been running for a few turns of the event loop. */
  async #settle(): Promise<void> {
    for (let calm = 0; calm < 2; ) {
      await new Promise((resolve) => setImmediate(resolve));
      calm = this.#queries === 0 ? calm + 1 : 0;
    }
  }
}

export interface ServerRequest {
  at: number;
  client: string;
  status: number;
}

/** Zendesk's fixed windows: `limit` requests per window from `originMs`, 429 once spent. */
export class VirtualZendesk {
  readonly requests: ServerRequest[] = [];
  readonly limit: number;
  readonly windowMs: number;
  readonly originMs: number;
  #window = -1;
  #used = 0;

  constructor(limit: number, windowMs: number, originMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.originMs = originMs;
  }

  windowOf(at: number): number {
    return Math.floor((at - this.originMs) / this.windowMs);
  }

  /** One request arriving at `at`: what its response's headers say. */
  arrive(at: number, client: string): ResponseFacts {
    const window = this.windowOf(at);
    if (window !== this.#window) {
      this.#window = window;
      this.#used = 0;
    }
    const resetsMs = Math.max(1, Math.ceil((this.originMs + (window + 1) * this.windowMs - at) / 1000)) * 1000;
    const status = this.#used < this.limit ? 200 : 429;
    if (status === 200) this.#used++;
    this.requests.push({ at, client, status });
    const facts: ResponseFacts = { status, total: this.limit, remaining: this.limit - this.#used, resetsMs };
    if (status === 429) facts.retryAfterMs = resetsMs;
    return facts;
  }

  /** Requests per window and client (200s and 429s apart), windows from `from` to `to`. */
  perWindow(from: number, to: number): { ok: Map<string, number>; limited: Map<string, number> }[] {
    const counts = Array.from({ length: to - from + 1 }, () => ({ ok: new Map<string, number>(), limited: new Map<string, number>() }));
    for (const r of this.requests) {
      const row = counts[this.windowOf(r.at) - from];
      if (!row) continue;
      const into = r.status === 429 ? row.limited : row.ok;
      into.set(r.client, (into.get(r.client) ?? 0) + 1);
    }
    return counts;
  }
}

export interface WorkerOptions {
  name: string;
  /** The budget's row, shared by every worker given the same one. */
  budgetName: string;
  limitPerWindow: number;
  windowMs: number;
  /** Requests in flight at once (the worker's concurrency). */
  concurrency: number;
  /** How many requests to send in all. */
  requests: number;
  /** Milliseconds from send to answer; the server counts the request half way. */
  latencyMs: number;
  /**
   * Up to this many milliseconds more on each half of a request (a busy process sends late and
   * reads its answer late), drawn from `seed`. Default 0.
   */
  jitterMs?: number;
  seed?: number;
}

export interface Worker {
  budget: SharedBudget;
  /** Send times of this worker's requests. */
  sent: number[];
  finished: Promise<void>;
  /** Requests left to send. */
  left(): number;
}

/** One worker process: `concurrency` loops that take a permit, send, and tell the budget the answer. */
export function startWorker(pool: pg.Pool, clock: VirtualClock, server: VirtualZendesk, options: WorkerOptions): Worker {
  const budget = sharedBudget(clock.counting(pool), {
    name: options.budgetName,
    limitPerWindow: options.limitPerWindow,
    windowMs: options.windowMs,
    clock,
  });
  let left = options.requests;
  const sent: number[] = [];
  const random = lcg(options.seed ?? 1);
  const half = () => options.latencyMs / 2 + random() * (options.jitterMs ?? 0);
  const loop = async () => {
    while (left > 0) {
      left--;
      for (;;) {
        await budget.take();
        sent.push(clock.now());
        await clock.sleep(half());
        const facts = server.arrive(clock.now(), options.name);
        await clock.sleep(half());
        await budget.observe(facts);
        if (facts.status !== 429) break;
      }
    }
  };
  const finished = Promise.all(Array.from({ length: options.concurrency }, loop)).then(() => {});
  return { budget, sent, finished, left: () => left };
}

/** A seeded generator of numbers in [0, 1): the same run every time. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Another integration on the account: `perWindow` requests evenly spaced over each server window. */
export async function otherClient(clock: VirtualClock, server: VirtualZendesk, perWindow: number, untilMs: number): Promise<void> {
  for (let window = server.windowOf(clock.now()); ; window++) {
    for (let i = 0; i < perWindow; i++) {
      const at = server.originMs + window * server.windowMs + ((i + 0.5) * server.windowMs) / perWindow;
      if (at >= untilMs) return;
      if (at > clock.now()) await clock.sleep(at - clock.now());
      server.arrive(clock.now(), 'other');
    }
  }
}
