// `convlog grant-readonly` on the embedded default: the server it granted in stops with the
// command, so the address it names (a free port of that run) is gone when the user reads it.
// It says how to reach the server for the CREATE ROLE it suggests: `convlog db-server`. While a
// db-server runs the server, its address is good for as long as that runs: it is named too.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-grant-embedded-');
}, 180_000);
afterAll(async () => {
  await cluster?.remove();
});

it('on the embedded default it names the data folder and points at db-server for the login it suggests', { timeout: 90_000 }, async () => {
  const result = await runCli(['grant-readonly'], { env: cluster.env, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines[0]).toBe(
    `convlog_readonly may now read schema zendesk in the embedded Postgres (data in ${cluster.dataDir}): SELECT on every table and view, also those later migrations add; no writes, and no access to convlog, pgboss, drizzle.`,
  );
  expect(lines).toContain('  CREATE ROLE metabase LOGIN PASSWORD \'<a new password>\' IN ROLE convlog_readonly;');
  expect(lines.at(-1)).toBe('the embedded Postgres stops with this command: run "npx convlog db-server" for a URL to run that with psql (or a BI tool to use)');
});

it('while db-server runs the embedded Postgres it names that server by its address and its data folder', { timeout: 120_000 }, async () => {
  const server = await cluster.startServer();
  try {
    const port = fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[3];
    const result = await runCli(['grant-readonly'], { env: cluster.env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^convlog_readonly may now read schema zendesk in the embedded Postgres at 127\\.0\\.0\\.1:${port}/convlog \\(data in ${cluster.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): SELECT`));
    // The server outlives this command: no line says it stops with it.
    expect(result.stdout).not.toContain('stops with this command');
  } finally {
    server.kill('SIGINT');
    await server.exited;
  }
});
