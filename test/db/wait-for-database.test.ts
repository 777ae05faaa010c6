// A worker's wait for Postgres at start-up (waitForDatabase) ends when SIGINT/SIGTERM aborts it,
// even while its probe is still connecting: node-postgres never settles a connect() that end()
// cut short, and the process used to exit 13 ("unsettled top-level await") instead of 0. Nor does
// it wait for ever on a server that lets it in and then never answers its query.
import { expect, it } from 'vitest';
import { DatabaseUnavailable } from '../../src/errors/convlog-errors.ts';
import { waitForDatabase } from '../../src/db/wait-for-database.ts';
import { silentLogger } from '../../src/log.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

it('returns false when aborted while its probe connects, at any moment of the connection', { timeout: 30_000 }, async () => {
  const database = await createTestDatabase();
  try {
    // The connection's first few milliseconds: before the socket opens, during the start-up
    // packet, during authentication.
    for (const delayMs of [0, 0, 1, 1, 2, 3, 5, 8]) {
      const controller = new AbortController();
      const waiting = waitForDatabase(database.url, silentLogger, { signal: controller.signal });
      setTimeout(() => controller.abort(), delayMs);
      // A probe the abort did not end waits for good; 10 s is room for a busy machine to connect.
      const outcome = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000))]);
      // true when the probe was through before the abort.
      expect([true, false], `aborted after ${delayMs} ms`).toContain(outcome);
    }
  } finally {
    await database.close();
  }
});

it('gives up on a server that lets its probe log in and never answers the query', { timeout: 30_000 }, async () => {
  const database = await createTestDatabase();
  const direct = new URL(database.url);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  try {
    proxy.stallAfterLogin();
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const waiting = waitForDatabase(viaProxy.toString(), silentLogger, { giveUpAfterMs: 1_000, connectTimeoutMs: 1_000, firstDelayMs: 100 });
    const outcome = await Promise.race([waiting.catch((error: unknown) => error), new Promise((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000))]);
    expect(outcome).toBeInstanceOf(DatabaseUnavailable);
    expect((outcome as Error).message).toMatch(/^cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: no answer in time .*; gave up after \d+ s$/);
  } finally {
    await proxy.cut();
    await database.close();
  }
});

it('says a URL lacks the password the server asks for, at once: waiting cannot mend it', { timeout: 30_000 }, async () => {
  const database = await createTestDatabase();
  try {
    const url = new URL(database.url);
    url.password = '';
    const waiting = waitForDatabase(url.toString(), silentLogger, { giveUpAfterMs: 20_000, firstDelayMs: 100 });
    await expect(waiting).rejects.toThrow(
      new DatabaseUnavailable(
        `cannot connect to Postgres at ${url.hostname}:${url.port}${url.pathname}: the server asks for a password and the URL has none, as in postgres://user:password@host:port/database (check DATABASE_URL)`,
      ),
    );
  } finally {
    await database.close();
  }
});
