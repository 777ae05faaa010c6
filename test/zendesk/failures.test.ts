import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { Forbidden, InvalidResponse, ServerError, TicketNotFound, Unauthorized } from '../../src/errors/zendesk-errors.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { BASIC, EMAIL, TOKEN, asReceived, clientFor, configFor, drain, rejection } from './helpers.ts';

let sim: Simulator;
const fast = { maxAttempts: 3, retryBaseMs: 5 };

beforeAll(async () => {
  sim = await startSimulator({ tickets: 10, seed: 1, ticketSizes: { 1: 250, 2: 300, 3: 5 }, rateLimit: 0, forbidden: [7], deleted: [8] });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.resetRequests();
  sim.setOptions({ failRate: 0, truncateRate: 0, hangRate: 0 });
});

const errors: Error[] = [];
/** Every error a test sees is kept and scanned for credentials at the end. */
async function failWith(promise: Promise<unknown>): Promise<Error> {
  const error = await rejection(promise);
  errors.push(error);
  return error;
}

describe('answers that end the ticket at once', () => {
  it('403 surfaces as Forbidden after one request', async () => {
    const error = await failWith(drain(clientFor(sim.url), 7, fast));
    expect(error).toBeInstanceOf(Forbidden);
    expect(error.message).toContain('ticket 7');
    expect(error.message).toContain('You do not have access to this ticket');
    expect(sim.requests).toHaveLength(1);
  });

  it('404 surfaces as TicketNotFound after one request', async () => {
    const error = await failWith(drain(clientFor(sim.url), 8, fast));
    expect(error).toBeInstanceOf(TicketNotFound);
    expect((error as TicketNotFound).ticketId).toBe(8);
    expect(sim.requests).toHaveLength(1);
  });

  it('401 surfaces as Unauthorized after one request', async () => {
    // The simulator takes any credential, so the header is removed to provoke a refusal.
    const anonymous = createZendeskHttp(configFor(sim.url)).extend({
      hooks: { beforeRequest: [({ request }) => request.headers.delete('authorization')] },
    });
    const error = await failWith(drain(anonymous, 1, fast));
    expect(error).toBeInstanceOf(Unauthorized);
    expect(error.message).toContain("Couldn't authenticate you");
    expect(error.message).toContain(new URL(sim.url).host);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0].authorization).toBe(false);
  });
});

describe('transient failures', () => {
  it('5xx is retried maxAttempts times, then surfaces as ServerError', async () => {
    sim.setOptions({ failRate: 1 });
    const error = await failWith(drain(clientFor(sim.url), 1, fast));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/50[034]/);
    expect((error as ServerError).ticketId).toBe(1);
    expect(sim.requests).toHaveLength(3);
    expect(sim.requests.every((r) => r.status >= 500)).toBe(true);
  });

  it('a cut-off body is retried maxAttempts times, then surfaces as InvalidResponse with ticket and cursor', async () => {
    const first = await drain(clientFor(sim.url), 3);
    const cursor = first.pages[0].afterCursor!;
    sim.appendEvents(3, 10);
    sim.setOptions({ truncateRate: 1 });
    sim.resetRequests();
    const error = await failWith(drain(clientFor(sim.url), 3, { ...fast, afterCursor: cursor }));
    expect(error).toBeInstanceOf(InvalidResponse);
    expect((error as InvalidResponse).problem).toMatch(/cut off/);
    expect((error as InvalidResponse).ticketId).toBe(3);
    expect((error as InvalidResponse).cursor).toBe(cursor);
    expect(error.message).toContain(`ticket 3, page cursor ${cursor}`);
    expect(sim.requests).toHaveLength(3);
  });

  it('recovers from occasional failures with every event exactly once', async () => {
    sim.setOptions({ failRate: 0.3, truncateRate: 0.3 });
    const { events } = await drain(clientFor(sim.url), 2, { maxAttempts: 20, retryBaseMs: 1 });
    expect(events).toStrictEqual(asReceived(sim.events(2)));
    expect(sim.requests.length).toBeGreaterThan(3);
  });

  it('a hung response surfaces as ServerError mentioning a timeout', async () => {
    sim.setOptions({ hangRate: 1 });
    const http = clientFor(sim.url, { requestTimeoutMs: 300 });
    const started = Date.now();
    const error = await failWith(drain(http, 1, { maxAttempts: 2, retryBaseMs: 5 }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/timeout/);
    expect(error.message).toContain('300 ms');
    expect(error.message).toContain(new URL(sim.url).host);
    expect((error as ServerError).cause).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    // Not bounded, a hung response never ends; 10 s leaves a busy machine room over the ~0.6 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops at once when the caller aborts, without disguising it as a Zendesk failure', async () => {
    sim.setOptions({ hangRate: 1 });
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = Date.now();
      controller.abort(new Error('worker shutting down'));
    }, 100);
    const error = await rejection(drain(clientFor(sim.url), 1, { signal: controller.signal }));
    expect(error.message).toBe('worker shutting down');
    // From the abort, not from the start (a late timer is no slowness of the client), and under
    // the request's 5 s timeout, which an ignored abort would wait out.
    expect(Date.now() - abortedAt).toBeLessThan(3_000);
  });

  it('a refused connection surfaces as ServerError naming the host and the reason', async () => {
    const closed = await startSimulator({ tickets: 1 });
    const url = closed.url;
    await closed.close();
    const error = await failWith(drain(clientFor(url), 1, fast));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain(`cannot reach ${new URL(url).host} for ticket 1: connection refused`);
    expect((error as ServerError).cause).toBeDefined();
  });
});

describe('secrecy', () => {
  it('no error message, string form, JSON or inspection contains a credential', () => {
    expect(errors.length).toBeGreaterThanOrEqual(7);
    for (const error of errors) {
      const views = [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 10, showHidden: true })];
      for (const view of views) {
        expect(view).not.toContain(TOKEN);
        expect(view).not.toContain(BASIC);
        expect(view).not.toContain(`${EMAIL}/token`);
      }
    }
  });

  it('no log line, even at trace level, contains a credential, and each carries ticketId and page', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const log = pino({ level: 'trace' }, sink);
    sim.setOptions({ failRate: 0.5 });
    await drain(clientFor(sim.url, {}, { log }), 2, { log, maxAttempts: 20, retryBaseMs: 1 });
    await drain(createZendeskHttp({ ...configFor(sim.url), auth: { kind: 'oauth', token: TOKEN } }, { log }), 3, { log, maxAttempts: 20, retryBaseMs: 1 });
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(BASIC);
    }
    const pagerLines = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => /conversation log/.test(String(entry.msg)));
    expect(pagerLines.length).toBeGreaterThan(3);
    for (const entry of pagerLines) {
      expect(entry.ticketId).toEqual(expect.any(Number));
      expect(entry.page).toEqual(expect.any(Number));
      expect(entry.level).toBe(20);
    }
  });
});
