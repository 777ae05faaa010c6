// Processes set to different limits (CONVLOG_RATE_LIMIT=7 for one command while the workers run
// with 100) share one budget: the lowest limit of the processes taking permits applies to every
// permit, each process says once that it disagrees, and a process that ends stops applying its
// limit at once (or, killed, two windows after its last ask). Each "process" is a shared budget
// on a pool of its own, so on connections of its own, on virtual time.
import os from 'node:os';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readBudgets } from '../../src/db/budget-report.ts';
import { ensureBudget, limitInForce, takePermit } from '../../src/db/rate-budget.ts';
import { sharedBudget, type SharedBudget } from '../../src/db/shared-budget.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { T0, VirtualClock } from './virtual-time.ts';

const WINDOW_MS = 60_000;

let counter = 0;
let name: string;
const pools: pg.Pool[] = [];

const database = useTestDatabase();
beforeAll(async () => {
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});
beforeEach(() => {
  name = `limits_${++counter}`;
});

interface Process {
  budget: SharedBudget;
  /** Permits granted, by send time. */
  sent: number[];
  warnings: string[];
}

function startProcess(clock: VirtualClock, limitPerWindow: number): Process {
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pools.push(pool);
  const warnings: string[] = [];
  const log = pino({ level: 'warn', base: undefined, timestamp: false }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const budget = sharedBudget(clock.counting(pool), { name, limitPerWindow, windowMs: WINDOW_MS, setting: 'CONVLOG_RATE_LIMIT', log, clock });
  return { budget, sent: [], warnings };
}

/** Takes `count` permits one after another, recording when each may be sent. */
function taking(clock: VirtualClock, process: Process, count: number): Promise<void> {
  return (async () => {
    for (let i = 0; i < count; i++) {
      await process.budget.take();
      process.sent.push(clock.now());
    }
  })();
}

/** Moves the clock to `at`, whoever else is asleep on it. */
async function advance(clock: VirtualClock, at: number): Promise<void> {
  const slept = clock.sleep(at - clock.now());
  await clock.run(at);
  await slept;
}

const row = async (clock: VirtualClock) => (await readBudgets(database.pool, { nowMs: clock.now() })).find((b) => b.name === name)!;
const inForce = (clock: VirtualClock) => limitInForce(database.pool, name, { nowMs: clock.now() });
const inWindow = (sent: number[], window: number) => sent.filter((at) => at >= T0 + window * WINDOW_MS && at < T0 + (window + 1) * WINDOW_MS).length;

describe('processes set to different limits', () => {
  it('keep together to the lowest: a process set higher takes no more than the lowest allows', async () => {
    const clock = new VirtualClock();
    const workers = startProcess(clock, 100);
    const once = startProcess(clock, 7);
    await taking(clock, once, 1);
    void taking(clock, workers, 200);
    void taking(clock, once, 200);
    await clock.run(T0 + 3 * WINDOW_MS - 1);
    // Every window of those three: 7 permits, both processes together.
    for (const window of [0, 1, 2]) expect(inWindow(workers.sent, window) + inWindow(once.sent, window), `window ${window}`).toBe(7);
    expect(await row(clock)).toMatchObject({
      limitPerWindow: 7,
      takers: [expect.objectContaining({ limit: 7 }), expect.objectContaining({ limit: 100 })],
    });
  });

  it('each says once which limits disagree and which applies', async () => {
    const clock = new VirtualClock();
    const workers = startProcess(clock, 100);
    const once = startProcess(clock, 7);
    await taking(clock, workers, 1);
    // Both taking part before either goes on: the workers, set higher, could otherwise take all
    // theirs before the one-off's first ask reached the row (a loaded machine), and meet no other.
    await taking(clock, once, 1);
    void taking(clock, once, 30);
    void taking(clock, workers, 30);
    await clock.run(T0 + 3 * WINDOW_MS - 1);
    expect(once.sent.length + workers.sent.length).toBeGreaterThan(20);
    // Both "processes" are this one: of the same pid and host, the other is named by its taker key
    // too, as containers sharing a hostname (each its process's pid 1) would need.
    const other = (await row(clock)).takers.find((t) => t.limit === 7)!;
    expect(other.process).toBe(`pid ${process.pid} on ${os.hostname()}`);
    expect(workers.warnings).toEqual([
      `CONVLOG_RATE_LIMIT is 100 in this process but 7 in another process taking permits (${other.process} as instance ${other.id.slice(0, 8)}): ` +
        'the lowest applies to every process, so together they keep to 7 requests a minute until that one stops',
    ]);
    expect(once.warnings).toEqual([
      'CONVLOG_RATE_LIMIT is 7 in this process but 100 in the other processes taking permits: the lowest applies to every process, so together they keep to 7 requests a minute while this one runs',
    ]);
  });

  it('names the process set lowest by its words, and by its key too when another taker, this one or a third, has the same words', async () => {
    const clock = new VirtualClock();
    const take = (key: string, words: string, limit: number) => takePermit(database.pool, name, limit, 100, { nowMs: clock.now() }, { key, process: words });
    await ensureBudget(database.pool, name, 100, WINDOW_MS, { nowMs: clock.now() });
    await take('low-key-1', 'pid 1 on a', 7);
    expect((await take('other', 'pid 2 on b', 100))?.others).toEqual({ low: 7, lowProcess: 'pid 1 on a', high: 7 });
    // Containers sharing a hostname, each its process's pid 1: the asker's words are the lowest's.
    expect((await take('same-words', 'pid 1 on a', 100))?.others).toMatchObject({ low: 7, lowProcess: 'pid 1 on a as instance low-key-' });
    // A third has the lowest's words: the asker, on another host, is told which of the two.
    expect((await take('other', 'pid 2 on b', 100))?.others).toMatchObject({ low: 7, lowProcess: 'pid 1 on a as instance low-key-' });
  });

  it('a process that ends leaves its limit behind for none: released, the others have theirs from the next permit', async () => {
    const clock = new VirtualClock();
    const workers = startProcess(clock, 100);
    const once = startProcess(clock, 7);
    // 3 of 7 go at once (half of the window's allowance, rounded down).
    await taking(clock, once, 2);
    await taking(clock, workers, 1);
    expect((await row(clock)).limitPerWindow).toBe(7);
    expect(await inForce(clock)).toBe(7);
    await once.budget.release();
    // Status straight after: the limit in force is the workers' again, and only they take part.
    expect(await row(clock)).toMatchObject({ limitPerWindow: 100, takers: [expect.objectContaining({ limit: 100 })] });
    expect(await inForce(clock)).toBe(100);
    // In the same window, 47 more at once (half of 100 goes unpaced), where 7 would have paced them.
    await taking(clock, workers, 47);
    expect(workers.sent.every((at) => at === T0)).toBe(true);
    expect(inWindow(workers.sent, 0) + inWindow(once.sent, 0)).toBe(50);
  });

  it('a process killed without releasing stops counting two windows after its last ask', async () => {
    const clock = new VirtualClock();
    const workers = startProcess(clock, 100);
    const killed = startProcess(clock, 7);
    await taking(clock, killed, 1);
    await advance(clock, T0 + 2 * WINDOW_MS - 1);
    expect(await row(clock)).toMatchObject({ limitPerWindow: 7, takers: [expect.objectContaining({ limit: 7 })] });
    expect(await inForce(clock)).toBe(7);
    await advance(clock, T0 + 2 * WINDOW_MS + 1);
    expect(await row(clock)).toMatchObject({ limitPerWindow: null, takers: [] });
    expect(await inForce(clock)).toBeNull();
    void taking(clock, workers, 60);
    await clock.run(T0 + 3 * WINDOW_MS - 1);
    expect(inWindow(workers.sent, 2)).toBe(60);
    expect(await row(clock)).toMatchObject({ limitPerWindow: 100, takers: [expect.objectContaining({ limit: 100 })] });
    expect(workers.warnings).toEqual([]);
  });
});
