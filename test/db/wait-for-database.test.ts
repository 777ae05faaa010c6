// A worker's wait for Postgres at start-up (waitForDatabase) ends when SIGINT/SIGTERM aborts it,
// even while its probe is still connecting: node-postgres never settles a connect() that end()
// cut short, and the process used to exit 13 ("unsettled top-level await") instead of 0.
import { expect, it } from 'vitest';
import { waitForDatabase } from '../../src/db/wait-for-database.ts';
import { silentLogger } from '../../src/log.ts';
import { createTestDatabase } from '../helpers/database.ts';

it('returns false when aborted while its probe connects, at any moment of the connection', { timeout: 30_000 }, async () => {
  const database = await createTestDatabase();
  try {
    // The connection's first few milliseconds: before the socket opens, during the start-up
    // packet, during authentication.
    for (const delayMs of [0, 0, 1, 1, 2, 3, 5, 8]) {
      const controller = new AbortController();
      const waiting = waitForDatabase(database.url, silentLogger, { signal: controller.signal });
      setTimeout(() => controller.abort(), delayMs);
      const outcome = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3_000))]);
      // true when the probe was through before the abort.
      expect([true, false], `aborted after ${delayMs} ms`).toContain(outcome);
    }
  } finally {
    await database.close();
  }
});
