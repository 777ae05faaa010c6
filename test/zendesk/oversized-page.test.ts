// A page Zendesk cannot build in time (huge bodies, many attachments or side-loads) answers 504
// every time it is asked for at that size: the pagers ask again for half as many.
// A gateway in front of the simulator plays Zendesk's front end, failing pages above a size.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors/zendesk-errors.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { pageIncrementalExport } from '../../src/zendesk/incremental-export.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { asReceived, clientFor, drain, recordingBudget, rejection } from './helpers.ts';

const GATEWAY_TIMEOUT = '<html><body><h1>504 Gateway Time-out</h1></body></html>';

/** What the gateway does with a request asking for `size` records (NaN: none said): pass it on, or fail it. */
type Rule = (size: number) => 'pass' | 503 | 504;

let sim: Simulator;
let gateway: http.Server;
let baseUrl: string;
let rule: Rule = () => 'pass';
/** The page size of every request that reached the gateway, in order (page[size] or per_page). */
let asked: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tickets: 300, seed: 3, ticketSizes: { 1: 120, 2: 30 }, rateLimit: 0, exportRateLimit: 0 });
  gateway = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', sim.url);
    const size = url.searchParams.get('page[size]') ?? url.searchParams.get('per_page') ?? '(none)';
    asked.push(size);
    const verdict = rule(size === '(none)' ? Number.NaN : Number(size));
    if (verdict !== 'pass') {
      res.writeHead(verdict, { 'content-type': 'text/html' });
      return res.end(GATEWAY_TIMEOUT);
    }
    void fetch(url, { headers: { authorization: req.headers.authorization ?? '', accept: 'application/json' } }).then(async (upstream) => {
      const headers = Object.fromEntries([...upstream.headers].filter(([name]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)));
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});
afterAll(async () => {
  gateway.closeAllConnections();
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
  await sim.close();
});
beforeEach(() => {
  asked = [];
  rule = () => 'pass';
});

function recordingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('the conversation log', () => {
  it('asks for half as many events after each 504, keeps the smaller size for later pages, and reads every event once', async () => {
    rule = (size) => (size > 25 ? 504 : 'pass');
    const budget = recordingBudget();
    const { log, lines } = recordingLog();
    const { pages, events } = await drain(clientFor(baseUrl), 1, { budget, log, retryBaseMs: 1 });

    expect(events).toStrictEqual(asReceived(sim.events(1)));
    expect(new Set(events.map((event) => event.reference)).size).toBe(120);
    expect(asked).toEqual(['100', '50', '25', '25', '25', '25', '25']);
    expect(pages.map((page) => page.events.length)).toEqual([25, 25, 25, 25, 20]);
    expect(pages.map((page) => page.requests)).toEqual([3, 1, 1, 1, 1]);
    pages.forEach((page, i) => expect(page.cursorBefore).toBe(i === 0 ? null : pages[i - 1].afterCursor));
    // The smaller requests are requests like any other: each waited for a permit.
    expect(budget.taken).toBe(asked.length);
    const shrunk = lines.filter((line) => line.pageSize !== undefined);
    expect(shrunk).toMatchObject([
      { level: 30, ticketId: 1, pageSize: 50, msg: 'conversation log: Zendesk answered 504 (it could not build the page in time, as for a page too large); asking for 50 per page from now on' },
      { level: 30, ticketId: 1, pageSize: 25 },
    ]);
  });

  it('asks again at the same size after a failure that says nothing about the size (503)', async () => {
    let failures = 2;
    rule = () => (failures-- > 0 ? 503 : 'pass');
    const { events } = await drain(clientFor(baseUrl), 2, { retryBaseMs: 1 });
    expect(events).toHaveLength(30);
    expect(asked).toEqual(['100', '100', '100']);
  });

  it('stops halving at the floor, and a page that fails at every size still fails after the usual attempts, naming the 504', async () => {
    rule = () => 504;
    const error = await rejection(drain(clientFor(baseUrl), 1, { retryBaseMs: 1 }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/^Zendesk at 127\.0\.0\.1:\d+ failed while serving ticket 1 \(504 Gateway Timeout: 504 Gateway Time-out\)$/);
    expect(asked).toEqual(['100', '50', '25', '12', '10']);

    asked = [];
    await rejection(drain(clientFor(baseUrl), 1, { retryBaseMs: 1, maxAttempts: 7 }));
    expect(asked).toEqual(['100', '50', '25', '12', '10', '10', '10']);
  });

  it('never asks for more than it was told to, nor halves a size already below the floor', async () => {
    rule = () => 504;
    await rejection(drain(clientFor(baseUrl), 1, { retryBaseMs: 1, maxAttempts: 3, pageSize: 8 }));
    expect(asked).toEqual(['8', '8', '8']);
  });
});

describe('a ticket sync', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.close());

  it('stores every event of a ticket whose full pages always answer 504', async () => {
    rule = (size) => (size > 25 ? 504 : 'pass');
    const deps = { db: database.db, http: clientFor(baseUrl), budget: localBudget(), log: silentLogger, redactSystemMetadata: false };
    // syncTicket keeps the pager's default backoff (500 ms, jittered): two retries before the first page.
    const result = await syncTicket(deps, 1);
    expect(result).toMatchObject({ status: 'synced', events: 120, pages: 5 });
    const { rows } = await database.pool.query('select count(*)::int as n, count(distinct reference)::int as distinct from zendesk.conversation_events where ticket_id = 1');
    expect(rows[0]).toEqual({ n: 120, distinct: 120 });
    expect(asked.slice(0, 3)).toEqual(['100', '50', '25']);
  });
});

describe('the incremental export', () => {
  async function exportAll(options: { pageSize?: number } = {}) {
    const tickets: number[] = [];
    for await (const page of pageIncrementalExport(clientFor(baseUrl), { startTime: 0 }, { budget: localBudget(), retryBaseMs: 1, ...options })) {
      tickets.push(...page.tickets.map((ticket) => ticket.id));
    }
    return tickets;
  }

  it('leaves per_page to Zendesk (1000) until a page answers 504', async () => {
    const tickets = await exportAll();
    expect(new Set(tickets).size).toBe(300);
    expect(asked).toEqual(['(none)']);
    asked = [];
    await exportAll({ pageSize: 1000 });
    expect(asked).toEqual(['1000']);
  });

  it('asks for half as many tickets after each 504, for the rest of the export', async () => {
    // Zendesk's default page, 1000 tickets with their side-loads, always times out; 100 do not.
    rule = (size) => (Number.isNaN(size) || size > 100 ? 504 : 'pass');
    const tickets = await exportAll();
    expect(tickets.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(asked).toEqual(['(none)', '500', '250', '125', '62', '62', '62', '62', '62']);
  });

  it('fails after the usual attempts when every size answers 504', async () => {
    rule = () => 504;
    const error = await rejection(exportAll());
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/504 Gateway Timeout/);
    expect(asked).toEqual(['(none)', '500', '250', '125', '62']);
  });
});
