// Right after `npm run demo`, a plain `npx convlog status` opens the embedded default database,
// which the demo never writes to (its tickets live in DATA_DIR/demo), and showed zeros with no
// hint of where the demo's data went. An empty default database beside a demo folder now names it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-status-demo-hint-');
}, 180_000);
afterAll(async () => {
  await cluster?.remove();
});

const HINT = /^the demo's data is in /m;

it('names the demo folder when the embedded default holds no ticket and the demo has run', { timeout: 120_000 }, async () => {
  const before = await runProgram(['status'], { env: cluster.env, timeoutMs: 60_000 });
  expect(before.code, before.stderr).toBe(0);
  expect(before.stdout).not.toMatch(HINT);

  // What `npm run demo` leaves beside the default database: its own folder.
  const demo = path.join(cluster.dataDir, 'demo');
  fs.mkdirSync(demo);
  const after = await runProgram(['status'], { env: cluster.env, timeoutMs: 60_000 });
  expect(after.code, after.stderr).toBe(0);
  expect(after.stdout.trimEnd().split('\n').at(-1)).toBe(`the demo's data is in ${demo}: CONVLOG_DATA_DIR=${demo} npx convlog status`);
  // --json is for scripts: the hint is for a person at the terminal.
  const json = await runProgram(['status', '--json'], { env: cluster.env, timeoutMs: 60_000 });
  expect(() => JSON.parse(json.stdout)).not.toThrow();
});

it('query names it too, on stderr after its answer, and not once the default database holds a ticket', { timeout: 120_000 }, async () => {
  const demo = path.join(cluster.dataDir, 'demo');
  fs.mkdirSync(demo, { recursive: true });
  const asked = ['query', '--csv', 'select count(*) as events from zendesk.conversation_events'];
  const empty = await runProgram(asked, { env: cluster.env, timeoutMs: 60_000 });
  expect(empty.code, empty.stderr).toBe(0);
  expect(empty.stdout).toBe('events\n0\n');
  expect(empty.stderr.trimEnd().split('\n').at(-1)).toBe(`the demo's data is in ${demo}: CONVLOG_DATA_DIR=${demo} npx convlog query …`);

  // A ticket asked of the default database: the data there is the person's own, whatever it holds.
  const server = await cluster.startServer();
  try {
    const client = new pg.Client({ connectionString: cluster.url('convlog') });
    await client.connect();
    await client.query(`insert into zendesk.ticket_sync (ticket_id, status) values (7, 'queued')`);
    await client.end();
    const after = await runProgram(asked, { env: cluster.env, timeoutMs: 60_000 });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toMatch(HINT);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});

it("the first query after the demo, on an embedded default nothing has migrated yet, names the demo's folder in its one line", { timeout: 180_000 }, async () => {
  // `npm run demo`, then `npx convlog query …`: query does not migrate, so the default cluster it
  // creates has no schema zendesk, and the error said only "<CONVLOG_DATA_DIR>/demo".
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-query-demo-hint-'));
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  try {
    const dataDir = path.join(dir, 'data');
    const demo = path.join(dataDir, 'demo');
    fs.mkdirSync(demo, { recursive: true });
    const result = await runProgram(['query', 'select count(*) from zendesk.conversation_events'], {
      env: { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined },
      timeoutMs: 150_000,
    });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('this database has no convlog tables (no schema zendesk)');
    expect(lines[0]).toContain(`(the demo's data is in ${demo}: CONVLOG_DATA_DIR=${demo} npx convlog query …)`);
    expect(lines[0]).not.toContain('<CONVLOG_DATA_DIR>');
  } finally {
    const pidFile = path.join(dir, 'data', 'pg', 'postmaster.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
    if (pid) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
