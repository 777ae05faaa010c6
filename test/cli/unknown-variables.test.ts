// A misspelled variable (CONVLOG_RATE_LIMT=300 in .env) ran with the default without a word, where
// a misspelled flag gets "did you mean". Now one warning names it and the nearest known name; only
// for CONVLOG_ and ZENDESK_ names, and never in place of a bad value's one line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmptyDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-unknown-variables-'));
let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await createEmptyDatabase();
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The JSON log lines of stderr (LOG_LEVEL is warn in tests). */
const logLines = (stderr: string) => stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string; variable?: string });

it('a misspelled CONVLOG_ variable in .env is one warning naming the variable it meant, and the command runs', { timeout: 60_000 }, async () => {
  fs.writeFileSync(path.join(dir, '.env'), `DATABASE_URL=${db.url}\nCONVLOG_RATE_LIMT=300\n`);
  const result = await runCli(['migrate'], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  expect(logLines(result.stderr)).toEqual([
    expect.objectContaining({ level: 40, variable: 'CONVLOG_RATE_LIMT', msg: 'CONVLOG_RATE_LIMT is not a variable convlog reads, so it changes nothing; did you mean CONVLOG_RATE_LIMIT?' }),
  ]);
});

it('ZENDESK_ names too; known names, test knobs, other prefixes and other tools\' variables say nothing', { timeout: 60_000 }, async () => {
  const env = { DATABASE_URL: db.url, ZENDESK_TOKEN: 'x', ZENDESK_SUBDOMAIN: 'acme', CONVLOG_SUPERVISE_SECONDS: '5', CONVLOGX: '1', MY_CONVLOG_RATE: '1', ZENDESK_MARKETPLACE_APP_KEY: '1' };
  const result = await runCli(['migrate'], { env });
  expect(result.code, result.stderr).toBe(0);
  // Another tool's variable resembles no setting: no warning.
  expect(logLines(result.stderr).map((line) => line.msg)).toEqual([
    'ZENDESK_TOKEN is not a variable convlog reads, so it changes nothing; did you mean ZENDESK_API_TOKEN?',
  ]);
});

it('a bad value is still the one line, exit 2, with no warning beside it', async () => {
  const result = await runCli(['migrate'], { env: { DATABASE_URL: db.url, CONVLOG_RATE_LIMIT: 'abc', CONVLOG_RATE_LIMT: '300' } });
  expect(result.code).toBe(2);
  expect(result.stderr).toBe('convlog migrate: CONVLOG_RATE_LIMIT must be a positive integer, got "abc" (see .env.example)\n');
});

it('a misspelt variable that meant one the command finds missing is named in that one line', async () => {
  const account = { DATABASE_URL: db.url, ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com' };
  const [alone, besideBadValue, noAccount, noSecret] = await Promise.all([
    runCli(['sync', '1'], { env: { ...account, ZENDESK_API_TOKN: 'abc' } }),
    runCli(['sync', '1'], { env: { ...account, ZENDESK_API_TOKN: 'abc', CONVLOG_RATE_LIMIT: 'abc' } }),
    runCli(['sync', '1'], { env: { DATABASE_URL: db.url, ZENDESK_SUBDOMIAN: 'acme', ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'abc' } }),
    runCli(['serve'], { env: { DATABASE_URL: db.url, CONVLOG_WEBHOOK_SECRT: 'a-long-secret' } }),
  ]);
  const slip = 'ZENDESK_API_TOKN is not a variable convlog reads: did you mean ZENDESK_API_TOKEN?';
  expect([alone.code, alone.stderr]).toEqual([2, `convlog sync: ZENDESK_API_TOKEN is missing; ${slip} (see .env.example)\n`]);
  expect(besideBadValue.code).toBe(2);
  expect(besideBadValue.stderr).toMatch(new RegExp(`^convlog sync: ZENDESK_API_TOKEN is missing; ${slip.replace('?', '\\?')}; CONVLOG_RATE_LIMIT must be a positive integer`));
  expect(noAccount.stderr).toBe(
    'convlog sync: ZENDESK_SUBDOMAIN is missing (or set ZENDESK_BASE_URL); ZENDESK_SUBDOMIAN is not a variable convlog reads: did you mean ZENDESK_SUBDOMAIN? (see .env.example)\n',
  );
  expect(noSecret.code).toBe(2);
  expect(noSecret.stderr).toMatch(/^convlog serve: CONVLOG_WEBHOOK_SECRET is missing: .*; CONVLOG_WEBHOOK_SECRT is not a variable convlog reads: did you mean CONVLOG_WEBHOOK_SECRET\? \(see \.env\.example\)\n$/);
});
