// The progress bar's ETA: never "NFs", and not rising near the end while the last big tickets
// hold the count still. In a terminal, log lines go above the bar, and a wait shows on it.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createProgress, etaEstimator } from '../../src/commands/progress.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { fakeTerminal } from '../helpers/fake-terminal.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('etaEstimator', () => {
  it('says … until a ticket is done, then the average pace since the start', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    expect(eta(0, 100)).toBe('…');
    time.advance(10_000);
    expect(eta(0, 100)).toBe('…');
    expect(eta(10, 100)).toBe('1m30s'); // 1 s a ticket, 90 left
    time.advance(10_000);
    expect(eta(20, 100)).toBe('1m20s');
    expect(eta(100, 100)).toBe('0s');
  });

  it("takes its pace from this run's work only: what a resumed run's earlier one did cost it no time", () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    // A rebuild resumed after 112,000 of 300,000 tickets, 2,000 more done in its first 2 s.
    expect(eta(112_000, 300_000, 112_000)).toBe('…');
    time.advance(2_000);
    // 1 ms a ticket, 186,000 left; counting the earlier 112,000 as done in these 2 s said "4s".
    expect(eta(114_000, 300_000, 112_000)).toBe('3m06s');
  });

  it('does not rise while the count stands still near the end, as long as its promise has time left', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    time.advance(90_000);
    expect(eta(90, 100)).toBe('10s');
    const shown: number[] = [];
    for (let i = 0; i < 9; i++) {
      time.advance(1_000);
      shown.push(Number(eta(90, 100).replace('s', '')));
    }
    // cli-progress's estimate, and a plain average, would grow here (elapsed rises, count does not).
    expect(shown).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    for (const text of shown.map(String)) expect(text).not.toMatch(/NF|NaN|Infinity/);
  });

  it('moves up only once the run is slower than it promised, and formats hours', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    time.advance(1_000);
    expect(eta(1, 10_000)).toBe('2h46m'); // 9,999 s
    time.advance(20_000);
    expect(eta(1, 3)).toBe('42s'); // promised 9,979 s: the new, lower estimate wins
    time.advance(60_000);
    expect(eta(1, 3)).toBe('2m42s'); // the promise ran out: the honest estimate, higher
  });
});

// Longer than the bar's redraw period (a tenth of a second).
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

/**
 * Runs `test` with Date standing still (the bar's redraw timers stay real): the seconds left of a
 * wait are then what the test moves the clock by, not how long a busy machine took to get to the
 * look (2 s of it turned "41|42 s" into 40).
 */
async function onStoppedClock(test: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    await test();
  } finally {
    vi.useRealTimers();
  }
}

describe('the progress lines', () => {
  it('say "1 ticket", "1 event", "1 request", in a terminal and without one', async () => {
    const { stream, screen } = fakeTerminal();
    const bar = createProgress('sync', stream);
    bar.update({ done: 1, total: 1, events: 1, requests: 1 });
    bar.stop();
    await settle();
    expect(screen().join('\n')).toMatch(/ 1\/1 ticket \| 1 event \| 1 request \|/);

    let written = '';
    const plain = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const lines = createProgress('sync', Object.assign(plain, { isTTY: false }));
    lines.update({ done: 0, total: 1, events: 1, requests: 1 });
    lines.stop();
    expect(written).toBe('sync: 0/1 ticket, 1 event, 1 request\n');
  });
});

describe('a run told to stop', () => {
  it('says "stopping" where the bar gave its ETA: the tickets left are not what this run will do', async () => {
    const { stream, screen } = fakeTerminal();
    const stop = new AbortController();
    const bar = createProgress('sync', stream, { stopping: stop.signal });
    bar.update({ done: 54, total: 300, events: 10, requests: 2 });
    await settle();
    expect(screen().join('\n')).toMatch(/ 54\/300 tickets \| 10 events \| 2 requests \| ETA/);
    stop.abort();
    bar.update({ done: 55, total: 300, events: 12, requests: 3 });
    await settle();
    expect(screen().at(-1)).toMatch(/ 55\/300 tickets \| 12 events \| 3 requests \| stopping$/);
    bar.stop();
  });
});

describe('the other tickets ahead', () => {
  it('are named after the counts while there are some, in a terminal and without one, with a + when the look stopped at its limit', async () => {
    const { stream, screen } = fakeTerminal();
    const bar = createProgress('sync', stream);
    bar.update({ done: 0, total: 1, events: 0, requests: 186, ahead: { count: 3, atLeast: false } });
    await settle();
    expect(screen().join('\n')).toMatch(/ 0\/1 ticket \| 0 events \| 186 requests \(3 other tickets ahead\) \| ETA/);
    bar.update({ done: 0, total: 1, events: 0, requests: 187, ahead: { count: 1_000, atLeast: true } });
    await settle();
    expect(screen().join('\n')).toMatch(/ 187 requests \(1,000\+ other tickets ahead\) \| ETA/);
    bar.update({ done: 1, total: 1, events: 20, requests: 188, ahead: { count: 0, atLeast: false } });
    bar.stop();
    await settle();
    expect(screen().join('\n')).toMatch(/ 1\/1 ticket \| 20 events \| 188 requests \| ETA/);

    let written = '';
    const plain = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const lines = createProgress('sync', Object.assign(plain, { isTTY: false }));
    lines.update({ done: 0, total: 1, events: 0, requests: 1, ahead: { count: 1, atLeast: false } });
    lines.stop();
    expect(written).toBe('sync: 0/1 ticket, 0 events, 1 request (1 other ticket ahead)\n');
  });
});

describe('the progress bar in a terminal', () => {
  it('writes log lines above the bar, never onto its line, and leaves one bar when it stops', async () => {
    const { stream, screen } = fakeTerminal();
    const log = createLogger('info', { destination: stream, pretty: true });
    const progress = createProgress('sync', stream);
    progress.update({ done: 1, total: 4, events: 10, requests: 2 });
    log.info('ticket synced');
    await settle();
    progress.update({ done: 2, total: 4, events: 20, requests: 3 });
    log.warn('ticket will be retried');
    await settle();
    progress.update({ done: 4, total: 4, events: 40, requests: 5 });
    progress.stop();
    stream.write('synced 4 | 40 events read with 5 requests\n');
    await settle();
    const lines = screen().filter((l) => l !== '');
    // Each log line on a line of its own, in order, then the bar once (no copy left behind), then what follows it.
    expect(lines.map((l) => l.replace(/^\[[\d:]+\] (INFO|WARN): /, '$1 ').replace(/ [\u2588\u2591]+ /, ' [bar] '))).toEqual([
      'INFO ticket synced',
      'WARN ticket will be retried',
      'sync [bar] 4/4 tickets | 40 events | 5 requests | ETA 0s',
      'synced 4 | 40 events read with 5 requests',
    ]);
  });

  it('writes each log record on one line, its fields after the message and a failure with its reason; the JSON log keeps every field', async () => {
    // What the worker logs (src/queue/sync-log.ts, src/queue/worker.ts): each record was six
    // lines above the bar, a line per field, and fifty tickets scrolled three hundred.
    const records = (log: Logger) => {
      log.info({ ticketId: 2, status: 'synced', events: 4, requests: 1, ms: 629 }, 'ticket synced');
      // A reason quoting what Zendesk sent, control characters and all.
      log.child({ ticketId: 43, jobId: 'a1' }).error({ err: 'page 1: events is missing \u001b[2J', attempt: 3 }, 'ticket failed');
      log.warn({ err: new Error('connect ECONNREFUSED 127.0.0.1:5432'), attempt: 1, retryLimit: 3 }, 'ticket will be retried');
    };
    const { stream, screen } = fakeTerminal();
    const progress = createProgress('sync', stream);
    progress.update({ done: 1, total: 4, events: 4, requests: 1 });
    records(createLogger('info', { destination: stream, pretty: true }));
    progress.stop();
    await settle();
    // The ETA is "…" or "1s" by whether a millisecond passed since the bar began (CI saw both).
    const shown = screen().filter((l) => l !== '').map((l) => l.replace(/^\[[\d:]+\] (INFO|WARN|ERROR): /, '$1 ').replace(/ [\u2588\u2591]+ /, ' [bar] ').replace(/ \| ETA (…|\d+s)$/, ' | ETA'));
    expect(shown).toEqual([
      'INFO ticket synced ticketId=2 status=synced events=4 requests=1 ms=629',
      'ERROR ticket failed ticketId=43 jobId=a1 err="page 1: events is missing \\u001b[2J" attempt=3',
      'WARN ticket will be retried err="connect ECONNREFUSED 127.0.0.1:5432" attempt=1 retryLimit=3',
      'sync [bar] 1/4 tickets | 4 events | 1 request | ETA',
    ]);

    let json = '';
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        json += chunk.toString();
        done();
      },
    });
    records(createLogger('info', { destination: sink, pretty: false }));
    const [synced, failed, retried] = json.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(synced).toMatchObject({ level: 30, ticketId: 2, status: 'synced', events: 4, requests: 1, ms: 629, msg: 'ticket synced' });
    expect(failed).toMatchObject({ level: 50, ticketId: 43, jobId: 'a1', err: 'page 1: events is missing \u001b[2J', attempt: 3, msg: 'ticket failed' });
    expect(retried).toMatchObject({ level: 40, err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432', stack: expect.stringMatching(/^Error: connect/) }, attempt: 1, retryLimit: 3 });
  });

  it('shows a wait on the bar, with its seconds left, in place of the ETA until it is over', () => onStoppedClock(async () => {
    const { stream, screen } = fakeTerminal();
    const progress = createProgress('sync', stream);
    progress.update({ done: 1, total: 4, events: 10, requests: 2 });
    progress.waiting({ text: 'the rate limit (100 requests a minute for all processes, CONVLOG_RATE_LIMIT)', waitMs: 42_000 });
    progress.update({ done: 1, total: 4, events: 10, requests: 3 });
    await settle();
    const bar = () => screen().find((l) => l.includes('tickets'));
    expect(bar()).toMatch(/\| 3 requests \| waiting 42 s for the rate limit \(100 requests a minute for all processes, CONVLOG_RATE_LIMIT\)$/);
    vi.setSystemTime(Date.now() + 1_500);
    await settle();
    expect(bar()).toMatch(/\| 3 requests \| waiting 41 s for the rate limit/);
    progress.waiting(undefined);
    progress.update({ done: 2, total: 4, events: 20, requests: 3 });
    await settle();
    expect(bar()).toMatch(/\| 3 requests \| ETA \S+$/);
    progress.stop();
  }));

  it('shows the wait that started last while two budgets wait, then the other one until it is over too', () => onStoppedClock(async () => {
    // `sync` once its tickets are done: the ticket rows wait for the account-wide budget while
    // the last conversation-log wait runs out. No update comes meanwhile: the bar counts down alone.
    const { stream, screen } = fakeTerminal(200);
    const progress = createProgress('sync', stream);
    progress.update({ done: 4, total: 4, events: 40, requests: 5 });
    progress.waiting({ text: 'the rate limit (3 requests a minute for all processes, CONVLOG_RATE_LIMIT)', waitMs: 20_000 }, 'conversation_log');
    progress.waiting({ text: 'the rate limit (2 requests a minute for all processes, CONVLOG_ACCOUNT_RATE_LIMIT)', waitMs: 50_000 }, 'account');
    await settle();
    const bar = () => screen().find((l) => l.includes('tickets'));
    expect(bar()).toMatch(/\| 5 requests \| waiting 50 s for the rate limit \(2 requests a minute for all processes, CONVLOG_ACCOUNT_RATE_LIMIT\)$/);
    vi.setSystemTime(Date.now() + 1_000);
    await settle();
    expect(bar()).toMatch(/\| 5 requests \| waiting 49 s for the rate limit \(2 requests a minute/);
    progress.waiting(undefined, 'account');
    await settle();
    expect(bar()).toMatch(/\| 5 requests \| waiting 19 s for the rate limit \(3 requests a minute for all processes, CONVLOG_RATE_LIMIT\)$/);
    progress.waiting(undefined, 'conversation_log');
    await settle();
    expect(bar()).toMatch(/\| 5 requests \| ETA 0s$/);
    progress.stop();
  }));
});
