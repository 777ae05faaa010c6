// A ZENDESK_BASE_URL behind a proxy that redirects to itself: fetch gives up after 20 redirects
// with "fetch failed", whose cause says why. The ticket's last_error says why too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ServerError } from '../../src/errors/zendesk-errors.ts';
import { clientFor, drain, rejection } from './helpers.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

it('names a redirect loop as such, not as "fetch failed"', { timeout: 30_000 }, async () => {
  server = createServer((req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const error = await rejection(drain(clientFor(url), 7));
  expect(error).toBeInstanceOf(ServerError);
  expect(error.message).toBe(`cannot reach 127.0.0.1:${(server.address() as AddressInfo).port} for ticket 7: redirect count exceeded`);
});
