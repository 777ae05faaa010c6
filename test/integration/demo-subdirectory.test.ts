// `cd docs && npm run demo`: npm runs the demo from the package's root and says where the user
// was in INIT_CWD. The closing lines are pasted in the user's shell, in docs/: the folders they
// name must be the demo's from there, not a new empty database (or the wrong rm -rf). A relative
// CONVLOG_DATA_DIR is read from the project folder (the root) wherever below it convlog runs,
// while `rm -rf` is relative to the shell: the two name the same folder differently.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-subdir-'));
fs.chmodSync(root, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'convlog' }));
const docs = path.join(root, 'docs');
fs.mkdirSync(docs);
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

it('run from a subdirectory through npm, the closing lines name folders that are right in that subdirectory', { timeout: 300_000 }, async () => {
  // `CONVLOG_DATA_DIR=$PWD/data npm run demo -- --tickets 2`, typed in docs/.
  const dataDir = path.join(docs, 'data');
  const demo = await runCli(['demo', '--tickets', '2'], { cwd: root, env: { CONVLOG_DATA_DIR: dataDir, INIT_CWD: docs, npm_lifecycle_event: 'demo' }, timeoutMs: 150_000 });
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toContain('  CONVLOG_DATA_DIR=docs/data/demo npx convlog status ');
  expect(demo.stdout).toContain('  rm -rf data/demo   starts the demo over');
  expect(demo.stdout).toContain('  CONVLOG_DATA_DIR=docs/data npm run demo -- --tickets 2   runs it again');

  // The printed command, run where the user is (npx runs in the shell's folder), opens the demo's tickets.
  const sql = 'select count(*) from zendesk.ticket_sync';
  const line = demo.stdout.split('\n').find((l) => l.includes('npx convlog query'))!;
  const folder = /CONVLOG_DATA_DIR=(\S+) npx/.exec(line)![1];
  const query = await runCli(['query', sql, '--csv'], { cwd: docs, env: { CONVLOG_DATA_DIR: folder }, timeoutMs: 150_000 });
  expect(query.code, query.stderr).toBe(0);
  expect(query.stdout.trim().split('\n')[1]).toBe('2');
  expect(fs.readdirSync(docs), 'no other database made').toEqual(['data']);
  expect(fs.readdirSync(path.join(dataDir, 'demo'))).toContain('pg');
});
