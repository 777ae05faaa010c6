// A log whose cursors lead back to a page already read, with has_more still true, is an error
// naming the problem, not a run that pages (and spends the budget) forever.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidResponse } from '../../src/errors/zendesk-errors.ts';
import { clientFor, drain, rejection } from './helpers.ts';

// page[after] → the cursor the page gives for the next one.
let next: Record<string, string> = {};
let served = 0;
let server: http.Server;
let baseUrl: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    served += 1;
    const after = new URL(req.url!, 'http://x').searchParams.get('page[after]') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ events: [], meta: { has_more: true, after_cursor: next[after] }, links: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it.each([
  ['the same cursor again', { '': 'A', A: 'A' }, 2, /repeats the cursor of the request/],
  ['a cycle of two pages', { '': 'A', A: 'B', B: 'A' }, 3, /repeats the cursor of an earlier page/],
])('%s: fails after one round', async (_name, cursors, requests, message) => {
  next = cursors;
  served = 0;
  const error = await rejection(drain(clientFor(baseUrl), 9, { maxAttempts: 1 }));
  expect(error).toBeInstanceOf(InvalidResponse);
  expect(error.message).toMatch(message);
  expect(served).toBe(requests);
});
