// A last page that gives no after_cursor (null) keeps the cursor that led to it: saved as null, a
// ticket's next sync would read its whole log again, and the next export would start over from
// its start time, re-queueing every ticket since. An empty one ("") is none either: saved, the
// next request would send `page[after]=`, which names no page.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pageIncrementalExport } from '../../src/zendesk/incremental-export.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { clientFor, drain } from './helpers.ts';

let server: http.Server;
let baseUrl: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const first = !url.searchParams.has('page[after]') && !url.searchParams.has('cursor');
    // Ticket 10 and the export from start_time 200 end with an empty cursor instead of null.
    const none = url.pathname.includes('/10/') || url.searchParams.get('start_time') === '200' || url.searchParams.get('cursor') === 'EXPORT-B' ? '' : null;
    const body = url.pathname.includes('conversation_log')
      ? { events: [], meta: { has_more: first, after_cursor: first ? 'LOG-A' : none, before_cursor: null }, links: {} }
      : { tickets: [], after_cursor: first ? (none === '' ? 'EXPORT-B' : 'EXPORT-A') : none, before_cursor: null, end_of_stream: !first };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it.each([9, 10])('a conversation log whose last page has no after_cursor keeps the one before (ticket %i)', async (ticketId) => {
  const { pages } = await drain(clientFor(baseUrl), ticketId, { maxAttempts: 1 });
  expect(pages.map((p) => [p.cursorBefore, p.afterCursor, p.hasMore])).toEqual([
    [null, 'LOG-A', true],
    ['LOG-A', 'LOG-A', false],
  ]);
});

it.each([
  [100, 'EXPORT-A'],
  [200, 'EXPORT-B'],
])('an export whose last page has no after_cursor keeps the one before (start_time %i)', async (startTime, cursor) => {
  const pages = [];
  for await (const page of pageIncrementalExport(clientFor(baseUrl), { startTime }, { budget: localBudget(), maxAttempts: 1 })) pages.push(page);
  expect(pages.map((p) => [p.cursorBefore, p.afterCursor, p.endOfStream])).toEqual([
    [null, cursor, false],
    [cursor, cursor, true],
  ]);
});
