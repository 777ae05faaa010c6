// `convlog status` always has a line for the conversation log's budget. After `npm run demo` it
// had none: the demo reads its simulator, which has no rate limit, without taking permits, and
// status listed only the account-wide budget of the ticket rows (4 requests beside the demo's
// hundreds), saying nothing of the budget a sync spends. Where no request has gone through it yet,
// it says so with the limit that will apply. The demo's ticket rows take no permits either: that
// budget's limit is the real account's, and a low one held the demo after its last ticket.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-status-budget-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, seed: 1 }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const budgetLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('budget '));

it("after the demo, says the demo takes no permits from the conversation log's budget, and what a sync takes", { timeout: 300_000 }, async () => {
  const dataDir = path.join(dir, 'data');
  // A real account's tight share in .env: 1 a minute held the second ticket-rows request (the brands list) up to a minute.
  const demo = await runCli(['demo', '--tickets', '3'], { cwd: dir, env: { CONVLOG_DATA_DIR: dataDir, CONVLOG_ACCOUNT_RATE_LIMIT: '1' }, timeoutMs: 150_000 });
  expect(demo.code, demo.stderr).toBe(0);
  // As the demo's closing lines say to run it.
  const status = await runCli(['status'], { cwd: dir, env: { CONVLOG_DATA_DIR: path.join(dataDir, 'demo') }, timeoutMs: 150_000 });
  expect(status.code, status.stderr).toBe(0);
  const lines = budgetLines(status.stdout);
  expect(lines[0]).toBe(
    'budget     conversation_log: not used by the demo (its simulator has no rate limit); a sync from Zendesk takes a permit for each request ' +
      '(100 requests a minute for all processes, CONVLOG_RATE_LIMIT)',
  );
  // The ticket rows the demo read (show_many, the brands list) took no permit from the account-wide budget.
  expect(lines.slice(1)).toEqual([]);
  expect(status.stdout).toMatch(/^context    3 tickets /m);
  // Its requests left no time on the budget: the workers line said "no conversation-log request yet".
  expect(status.stdout.split('\n').find((line) => line.startsWith('workers '))).toMatch(
    /; no conversation-log request recorded \(the demo's, to its simulator, are not\)$/,
  );
});

it('before any request, names the limit that will apply; once a sync has run, shows what it spent', { timeout: 120_000 }, async () => {
  const env = { ...fixture.env, CONVLOG_RATE_LIMIT: '250' };
  const before = await runCli(['status'], { env, timeoutMs: 60_000 });
  expect(before.code, before.stderr).toBe(0);
  expect(budgetLines(before.stdout)).toEqual(['budget     conversation_log: no request taken yet (250 requests a minute for all processes, CONVLOG_RATE_LIMIT)']);

  const sync = await runCli(['sync', '1', '2'], { env, timeoutMs: 60_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const after = await runCli(['status'], { env, timeoutMs: 60_000 });
  const lines = budgetLines(after.stdout);
  expect(lines[0]).toMatch(/^budget {5}conversation_log: \d+ of 250 spent this 60 s window \(no process is taking permits: .*\); .*; [1-9]\d* requests?, /);
  expect(lines.slice(1).every((line) => !line.includes('conversation_log'))).toBe(true);
});
