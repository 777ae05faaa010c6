// `convlog status` counts as dead the tickets whose sync gave up. The worker completes the job it
// gives up on itself, so pg-boss records it `completed`: status counted only pg-boss's `failed`
// jobs (those abandoned by killed workers) and said "0 dead" beside "1 failed", in --json too.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 3, seed: 1 }, { queue: [] });
  // A page that is never JSON fails its ticket on the first attempt: no retry can read it.
  fixture.sim.setMalformed(2, 'not-json');
});
afterAll(async () => {
  await fixture?.close();
});

it('a ticket whose sync gave up is counted dead, in text and JSON', { timeout: 60_000 }, async () => {
  const sync = await runCli(['sync', '--range', '1..3'], { env: fixture.env, timeoutMs: 30_000 });
  expect(sync.stdout, sync.stderr).toMatch(/^synced 2, not_found 0, forbidden 0, failed 1/);

  const json = await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 });
  const report = JSON.parse(json.stdout);
  expect(report.tickets.failed).toBe(1);
  expect(report.queue).toMatchObject({ dead: 1, failed: 1 });
  const text = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(text.stdout).toMatch(/^queue +0 queued, 0 waiting to retry, 0 running, 1 dead \(failed tickets: their sync gave up, or a dequeue took them out after an attempt; "last errors" says why\)$/m);
});
