// `convlog status` counts, on its context line, the tickets convlog syncs or has queued that have
// no `tickets` row yet. A tombstone is neither: a purged ticket, one Zendesk answered 404 for, or
// one it forbids is not read again by the next backfill or sync by id. They were counted, so a
// purge or a deleted ticket left "N synced or queued tickets without a ticket row yet".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 5, seed: 1, deleted: [4], forbidden: [5] }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
});

it('purged, deleted and forbidden tickets are not counted as tickets without a ticket row; a queued one is', { timeout: 60_000 }, async () => {
  const sync = await runCli(['sync', '--range', '1..5'], { env: fixture.env, timeoutMs: 30_000 });
  expect(sync.stdout, sync.stderr).toMatch(/^synced 3, not_found 1, forbidden 1, failed 0/);
  const purge = await runCli(['purge', '2'], { env: fixture.env, timeoutMs: 30_000 });
  expect(purge.code, purge.stderr).toBe(0);

  const json = await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 });
  expect(JSON.parse(json.stdout).context).toMatchObject({ withoutRow: 0 });
  const text = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).not.toMatch(/without a ticket row/);

  // Queued without Zendesk credentials, no row can be read: that one counts.
  const noZendesk = { ...fixture.env, ZENDESK_BASE_URL: undefined, ZENDESK_EMAIL: undefined, ZENDESK_API_TOKEN: undefined };
  const enqueue = await runCli(['enqueue', '99'], { env: noZendesk, timeoutMs: 30_000 });
  expect(enqueue.code, enqueue.stderr).toBe(0);
  const after = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(after.stdout).toMatch(/; 1 synced or queued ticket without a ticket row yet/);
});
