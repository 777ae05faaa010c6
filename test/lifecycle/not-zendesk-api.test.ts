// A 404 removes a ticket only when Zendesk says the record is gone (RecordNotFound). A base URL
// with /api/ in its path (or any path on a zendesk.com host) is refused before anything opens; one
// that still does not lead to Zendesk's API (a proxy's path mistyped, a web server that is not
// Zendesk, https:// to a plain-HTTP port) answers 404, a page or no TLS for every request: the run
// stops at once with one line naming the setting, and no stored row is touched. Real simulator,
// real HTTP servers, real Postgres, the CLI as a person runs it.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { NotZendeskApi } from '../../src/errors/zendesk-errors.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixtureWithBoss, jobStates, rowVersions, ticketSync, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await fixture?.close();
  fixture = undefined;
});

/** A fresh database and simulator with tickets 1..4 synced through the right URL. */
async function syncedFixture(): Promise<FixtureWithBoss> {
  fixture = await createFixtureWithBoss({ tickets: 4, ticketSizes: { 1: 6, 2: 8, 3: 5, 4: 7 } });
  for (const id of [1, 2, 3, 4]) expect((await syncTicket(fixture.deps, id)).status).toBe('synced');
  return fixture;
}

const eventCount = async (f: FixtureWithBoss, ticketId: number) =>
  (await f.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [ticketId])).rows[0].n;

/** stderr without the warn-level log lines (JSON), which a terminal would show apart. */
const messageLines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

it('ZENDESK_BASE_URL with /api/v2 in it is refused before anything is opened or recorded', { timeout: 60_000 }, async () => {
  const f = await syncedFixture();
  const before = await rowVersions(f.database);
  for (const [url, line] of [
    [`${f.sim.url}/api/v2`, "convlog sync: ZENDESK_BASE_URL must not have /api/ in its path: give the account's root URL (https://acme.zendesk.com), or a proxy's, and convlog adds /api/v2/ to each request (see .env.example)"],
    ['https://Acme.zendesk.com/api/v2/', "convlog sync: ZENDESK_BASE_URL must be the account's root URL, https://acme.zendesk.com, without /api/v2 (convlog adds it to each request) (see .env.example)"],
    // The address bar's URL, copied from the agent workspace.
    ['https://acme.zendesk.com/agent/tickets/12', "convlog sync: ZENDESK_BASE_URL must be the account's root URL, https://acme.zendesk.com, without a path: Zendesk's API is at the root of its host (see .env.example)"],
  ]) {
    const sync = await runCli(['sync', '1', '2'], { env: { ...f.env, ZENDESK_BASE_URL: url }, timeoutMs: 30_000 });
    expect(sync.code, url).toBe(2);
    expect(sync.stderr.trimEnd().split('\n')).toEqual([line]);
  }
  expect(await jobStates(f.database)).toEqual([]);
  const { rows } = await f.database.pool.query("select key from convlog.sync_state where key = 'zendesk_account'");
  expect(rows).toEqual([]);
  expect(await rowVersions(f.database)).toEqual(before);
});

it('sync and work with a base URL whose path leads to no API exit 2 with one line naming it, and leave the stored tickets as they were', { timeout: 120_000 }, async () => {
  const f = await syncedFixture();
  const before = await rowVersions(f.database);
  // A proxy's path, mistyped: the simulator answers Zendesk's InvalidEndpoint there.
  const wrong = `${f.sim.url}/zendesk`;
  const env = { ...f.env, ZENDESK_BASE_URL: wrong };

  const sync = await runCli(['sync', '1', '2'], { env, timeoutMs: 30_000 });
  expect(sync.code).toBe(2);
  expect(sync.stderr.trimEnd().split('\n')).toEqual([
    `convlog sync: ZENDESK_BASE_URL (${wrong}) answered 404 Not Found for /api/v2/users/me.json (InvalidEndpoint: Not found), which is not Zendesk's API: ` +
      "it must be the account's root URL, e.g. https://acme.zendesk.com (no /api/v2), or a proxy that passes /api/v2/ on to it; nothing was queued",
  ]);
  expect(sync.stderr).not.toContain('sim-token');
  expect(await jobStates(f.database)).toEqual([]);

  // Tickets already queued, and a worker that meets the URL: it stops, and holds them.
  await enqueueTickets(f.boss, f.database.db, [1, 2]);
  const work = await runCli(['work', '--until-idle'], { env, timeoutMs: 30_000 });
  expect(work.code).toBe(2);
  const lines = messageLines(work.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^convlog work: ZENDESK_BASE_URL \(http:\/\/127\.0\.0\.1:\d+\/zendesk\) answered 404 Not Found for \/api\/v2\/.*, which is not Zendesk's API: it must be the account's root URL/);

  expect(await rowVersions(f.database)).toEqual(before);
  for (const id of [1, 2]) {
    const state = await ticketSync(f.database, id);
    expect(state?.status, `ticket ${id}`).toMatch(/^(synced|queued)$/);
    expect(state).not.toMatchObject({ status: 'not_found' });
  }
  expect(await eventCount(f, 1)).toBe(6);
  expect(await eventCount(f, 2)).toBe(8);
});

it('a worker whose conversation-log requests meet a web server 404 page keeps the stored ticket and records why it stopped', { timeout: 120_000 }, async () => {
  const f = await syncedFixture();
  const before = await rowVersions(f.database);
  // Answers /users/me as Zendesk does (so the check at start passes), and every other path with
  // the 404 page of a web server that is not Zendesk.
  const web = await serve((req, res) => {
    if (req.url?.startsWith('/api/v2/users/me')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ user: { id: 390000000001, name: 'Agent', role: 'admin' } }));
    }
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><hr>nginx</body></html>');
  });
  const http = createZendeskHttp({ baseUrl: web, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 5_000 });
  await enqueueTickets(f.boss, f.database.db, [3]);
  const failures: { ticketId: number; reason: string }[] = [];
  const summary = await runWorker(f.boss, f.database.pool, { ...f.deps, http }, {
    concurrency: 1,
    untilIdle: true,
    probeAtStart: true,
    signal: new AbortController().signal,
    onFailure: (ticketId, reason) => void failures.push({ ticketId, reason }),
  });

  const reason = `ZENDESK_BASE_URL (${web}) answered 404 Not Found for /api/v2/tickets/3/conversation_log (404 Not Found), which is not Zendesk's API: it must be the account's root URL, e.g. https://acme.zendesk.com (no /api/v2), or a proxy that passes /api/v2/ on to it`;
  expect(summary.fatal).toBeInstanceOf(NotZendeskApi);
  expect(summary.fatal?.message).toBe(reason);
  expect(summary).toMatchObject({ synced: 0, notFound: 0 });
  expect(failures).toEqual([{ ticketId: 3, reason }]);
  expect(await ticketSync(f.database, 3)).toMatchObject({ status: 'queued', last_error: reason });
  const { rows } = await f.database.pool.query('select deleted_how, deleted_at from zendesk.ticket_sync where ticket_id = 3');
  expect(rows).toEqual([{ deleted_how: null, deleted_at: null }]);
  expect(await eventCount(f, 3)).toBe(5);
  expect(await rowVersions(f.database)).toEqual(before);
});

it('a ticket the simulator has deleted (404 RecordNotFound) is still purged, with a 404 tombstone', { timeout: 120_000 }, async () => {
  const f = await syncedFixture();
  expect(await eventCount(f, 4)).toBe(7);
  f.sim.deleteTicket(4);
  const run = await runCli(['sync', '4'], { env: f.env, timeoutMs: 30_000 });
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/synced 0, not_found 1, forbidden 0, failed 0/);
  expect(await eventCount(f, 4)).toBe(0);
  const { rows } = await f.database.pool.query('select status, deleted_how from zendesk.ticket_sync where ticket_id = 4');
  expect(rows).toEqual([{ status: 'not_found', deleted_how: '404' }]);
  // The others are untouched.
  expect(await eventCount(f, 1)).toBe(6);
});

it('sync with https:// to the simulator plain-HTTP port exits 2 at start-up with one line, nothing queued or touched', { timeout: 120_000 }, async () => {
  const f = await syncedFixture();
  const before = await rowVersions(f.database);
  const https = f.sim.url.replace(/^http:/, 'https:');
  const run = await runCli(['sync', '1'], { env: { ...f.env, ZENDESK_BASE_URL: https }, timeoutMs: 20_000 });
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd().split('\n')).toEqual([`convlog sync: cannot reach Zendesk at ${https}: the server does not speak TLS (is it an http:// address?) (check ZENDESK_BASE_URL)`]);
  expect(run.ms).toBeLessThan(15_000);
  expect(await jobStates(f.database)).toEqual([]);
  expect(await rowVersions(f.database)).toEqual(before);
  expect(await ticketSync(f.database, 1)).toMatchObject({ status: 'synced' });
});
