// The queue-error throttle on a hand-driven clock: the first error at once, one summary per
// interval while errors go on, one line when they stop, and no credentials in what it says; then
// pg-boss's error events as startBoss logs them.
import type { PgBoss } from 'pg-boss';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoss } from '../../src/queue/boss.ts';
import { hideSecrets } from '../../src/errors/messages.ts';
import { createErrorThrottle, queueErrorText, urlSecrets, type ThrottleClock } from '../../src/queue/error-throttle.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/** A clock whose time moves only when told, firing the timers that fall due. */
function manualClock(): ThrottleClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let timers: { at: number; callback: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.push({ at: now + ms, callback, id });
      return id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.callback();
      }
      now = until;
    },
    pending: () => timers.length,
  };
}

function setup(intervalMs = 30_000) {
  const clock = manualClock();
  const lines: string[] = [];
  const throttle = createErrorThrottle(
    {
      first: (message) => lines.push(`first: ${message}`),
      continuing: ({ count, seconds, last }) => lines.push(`continue: ${count} in ${seconds} s: ${last}`),
      stopped: ({ count, seconds }) => lines.push(`stopped: ${count} in ${seconds} s`),
    },
    { intervalMs, clock },
  );
  return { clock, lines, throttle };
}

describe('createErrorThrottle', () => {
  it('reports the first error at once and nothing else until the interval ends', () => {
    const { clock, lines, throttle } = setup();
    throttle.error('connect ECONNREFUSED');
    for (let i = 0; i < 50; i++) {
      clock.advance(500);
      throttle.error(`error ${i}`);
    }
    expect(lines).toEqual(['first: connect ECONNREFUSED']);
  });

  it('summarises an outage once per interval with the latest message, then says when it stopped', () => {
    const { clock, lines, throttle } = setup();
    throttle.error('first');
    // Two errors a second for 75 s: the outage. The one at 30 s falls after that interval's summary.
    for (let t = 500; t <= 75_000; t += 500) {
      clock.advance(500);
      throttle.error(`error at ${t}`);
    }
    expect(lines).toEqual(['first: first', 'continue: 59 in 30 s: error at 29500', 'continue: 60 in 30 s: error at 59500']);
    // Errors stop at 75 s. At 90 s they have been gone 15 s: no summary of them as if they went on;
    // a quiet interval after the last one, at 105 s, says they stopped, counting them.
    clock.advance(15_000);
    expect(lines).toHaveLength(3);
    clock.advance(14_999);
    expect(lines).toHaveLength(3);
    clock.advance(1);
    expect(lines.at(-1)).toBe('stopped: 151 in 105 s');
    expect(lines).toHaveLength(4);
    expect(clock.pending()).toBe(0);
  });

  // Seen in a soak: one Postgres restart gave "queue error", then "continue" 30 s later about
  // errors of the same second, then "stopped".
  it('says a blip is over in one line after the first, counting its errors', () => {
    const { clock, lines, throttle } = setup();
    throttle.error('connection terminated');
    clock.advance(200);
    throttle.error('ECONNREFUSED');
    clock.advance(700);
    throttle.error('the database system is starting up');
    clock.advance(29_999);
    expect(lines).toEqual(['first: connection terminated']);
    clock.advance(1);
    expect(lines).toEqual(['first: connection terminated', 'stopped: 3 in 31 s']);
    expect(clock.pending()).toBe(0);
  });

  it('still summarises errors that come further apart than a third of the interval', () => {
    const { clock, lines, throttle } = setup();
    throttle.error('at 0');
    for (let t = 20_000; t <= 100_000; t += 20_000) {
      clock.advance(20_000);
      throttle.error(`at ${t / 1000}`);
    }
    // At 30 s the last error is 10 s old: the summary waits for 50 s, by when another came; the
    // same at 80 s, summarised at 90 s.
    expect(lines).toEqual(['first: at 0', 'continue: 2 in 50 s: at 40', 'continue: 2 in 40 s: at 80']);
    // The last one, at 100 s: a whole quiet interval after it, at 130 s, says they stopped.
    clock.advance(29_999);
    expect(lines).toHaveLength(3);
    clock.advance(1);
    expect(lines.at(-1)).toBe('stopped: 6 in 130 s');
    expect(clock.pending()).toBe(0);
  });

  it('says a lone error is over after one quiet interval', () => {
    const { clock, lines, throttle } = setup(10_000);
    throttle.error('boom');
    clock.advance(10_000);
    expect(lines).toEqual(['first: boom', 'stopped: 1 in 10 s']);
    expect(clock.pending()).toBe(0);
  });

  it('starts afresh after errors stopped: the next error is reported at once', () => {
    const { clock, lines, throttle } = setup(10_000);
    throttle.error('one');
    throttle.error('two');
    clock.advance(20_000);
    throttle.error('again');
    clock.advance(10_000);
    expect(lines).toEqual(['first: one', 'stopped: 2 in 10 s', 'first: again', 'stopped: 1 in 10 s']);
  });

  it('on close, summarises what it has not yet reported and leaves no timer', () => {
    const { clock, lines, throttle } = setup();
    throttle.error('one');
    clock.advance(5_000);
    throttle.error('two');
    throttle.error('three');
    clock.advance(5_000);
    throttle.close();
    expect(lines).toEqual(['first: one', 'continue: 2 in 10 s: three']);
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    expect(lines).toHaveLength(2);
  });

  it('close with nothing pending says nothing', () => {
    const { clock, lines, throttle } = setup();
    throttle.close();
    throttle.error('one');
    throttle.close();
    clock.advance(60_000);
    expect(lines).toEqual(['first: one']);
  });
});

describe('queue error text', () => {
  const url = 'postgres://convlog:s3cr%40t-pass@db.internal:5432/convlog';

  it('takes the message, or the code of a copied AggregateError whose message is empty', () => {
    expect(queueErrorText(new Error('Connection terminated unexpectedly'))).toBe('Connection terminated unexpectedly');
    expect(queueErrorText({ message: '', code: 'ECONNREFUSED', queue: 'ticket-sync' })).toBe('ECONNREFUSED');
    expect(queueErrorText({ message: 'timeout', queue: 'ticket-sync' })).toBe('timeout');
  });

  it('keeps passwords out: in any URL, and the connection string’s own, decoded or not', () => {
    const secrets = urlSecrets(url);
    expect(secrets).toEqual(['s3cr@t-pass', 's3cr%40t-pass']);
    const text = queueErrorText(new Error(`cannot reach ${url}; auth failed for password s3cr@t-pass (s3cr%40t-pass)`), secrets);
    expect(text).not.toMatch(/s3cr/);
    expect(text).toBe('cannot reach postgres://convlog:[redacted]@db.internal:5432/convlog; auth failed for password [redacted] ([redacted])');
    expect(hideSecrets('see https://user:hunter2@example.com/x and postgresql://u:p@h/d')).toBe(
      'see https://user:[redacted]@example.com/x and postgresql://u:[redacted]@h/d',
    );
  });

  it('has no secrets to look for in a URL without a password, or whose password is the user name', () => {
    expect(urlSecrets('postgres://convlog@localhost/convlog')).toEqual([]);
    // The embedded cluster's: the user's name, which messages say anyway.
    expect(urlSecrets('postgres://convlog:convlog@127.0.0.1:5433/convlog')).toEqual([]);
    expect(urlSecrets('not a url')).toEqual([]);
  });
});

// A burst of errors (one per polling loop during an outage) is one line, not one each, and the
// connection string's password never shows.
describe('startBoss', () => {
  let database: TestDatabase;
  let boss: PgBoss | undefined;
  const lines: { level: number; msg: string; err?: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false, timeout: 2_000 });
    await database?.close();
  });

  it('logs the first of a burst of queue errors, redacted, and holds the rest for the summary', async () => {
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    boss = await startBoss(database, log);
    // The test cluster's password may be no secret (see urlSecrets); any in a URL is one.
    const secret = 'hunter2-secret';
    lines.length = 0;

    // As pg-boss emits them, with the queue (and, for a refused connection to localhost, no message).
    const emit = (message: string, extra: object) => boss!.emit('error', Object.assign(new Error(message), { queue: 'ticket-sync', ...extra }));
    for (let i = 0; i < 40; i++) emit(`connect failed for postgres://app:${secret}@db:5432/x (${i})`, {});
    emit('', { code: 'ECONNREFUSED' });

    const queueLines = lines.filter((l) => /queue error/.test(l.msg));
    expect(queueLines).toEqual([expect.objectContaining({ msg: 'queue error: connect failed for postgres://app:[redacted]@db:5432/x (0)', err: 'connect failed for postgres://app:[redacted]@db:5432/x (0)' })]);
    expect(JSON.stringify(lines)).not.toContain(secret);

    // Stopping reports the errors counted since, in one line.
    await boss.stop({ graceful: false, timeout: 2_000 });
    boss = undefined;
    const summary = lines.filter((l) => /queue errors continue/.test(l.msg));
    expect(summary).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^queue errors continue: 40 in the last \d+ s: ECONNREFUSED$/) })]);
  });
});
