// Closing a terminal sends SIGHUP. A command attached to a terminal stops on it as on SIGTERM,
// so the embedded Postgres it runs (in a process group of its own, which the hangup does not
// reach) is stopped with it instead of running on for good. Under nohup SIGHUP stays ignored:
// the command keeps running, as its user asked.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { isAlive } from '../../src/db/postmaster.ts';
import { BIN, cleanEnv } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

const EXIT_RECORDER = fileURLToPath(new URL('../helpers/exit-recorder.mjs', import.meta.url));

let cluster: EmbeddedCluster;
const children: ChildProcess[] = [];
const postmaster = () => cluster.postmaster();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const env = () => cleanEnv(cluster.env);

const until = (check: () => boolean, what: string, ms = 60_000) => vi.waitUntil(check, { timeout: ms, interval: 50, message: `waiting for ${what}` });

/** The pid of `parent`'s only child process (the node that `script` or `nohup` runs). */
function childOf(parent: number): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length === 1 ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));

/**
 * db-server as a user runs it, once it has printed its URL: in a terminal of its own (`script`
 * gives it one, as an interactive shell would) or under nohup.
 */
async function startDbServer(under: 'script' | 'nohup', env: NodeJS.ProcessEnv) {
  const args = under === 'script' ? ['-qec', `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} db-server`, '/dev/null'] : [process.execPath, BIN, 'db-server'];
  const child = spawn(under, args, { env, stdio: 'pipe' });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  await until(() => /psql /.test(output), 'db-server to print its URL');
  return { child, output: () => output, server: postmaster()! };
}

async function stopLeftovers(): Promise<void> {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster.stopLeftOver();
}

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-hangup-');
}, 150_000);
afterEach(stopLeftovers);
afterAll(async () => {
  await stopLeftovers();
  await cluster?.remove();
});

it('in a terminal, a hangup stops db-server and the embedded Postgres it started', { timeout: 90_000 }, async () => {
  const { child: term, output, server } = await startDbServer('script', env());
  expect(isAlive(server)).toBe(true);
  const node = childOf(term.pid!);
  expect(node, 'the node process under script').toBeDefined();

  process.kill(node!, 'SIGHUP');
  await exited(term);
  await until(() => !isAlive(server), 'the postmaster to stop', 15_000);
  // The graceful way out, as on Ctrl-C.
  expect(output()).toContain('embedded Postgres stopped');
});

it('a terminal that really closes (its pty hung up before the SIGHUP) stops db-server gracefully, not by an uncaught EIO', { timeout: 90_000 }, async () => {
  const record = path.join(cluster.dataDir, '..', 'exit-record.txt');
  const recorded = cleanEnv({ ...cluster.env, EXIT_RECORD: record, NODE_OPTIONS: `--import ${EXIT_RECORDER}` });
  const { child: term, server } = await startDbServer('script', recorded);
  const node = childOf(term.pid!)!;

  // The terminal goes away: its master side closes, and the kernel sends SIGHUP.
  term.kill('SIGKILL');
  await until(() => !isAlive(node), 'convlog to end', 30_000);
  await until(() => !isAlive(server), 'the postmaster to stop', 15_000);
  const how = fs.readFileSync(record, 'utf8');
  expect(how).not.toMatch(/uncaught/);
  expect(how).toMatch(/^exit 0$/m);
});

it('under nohup, a hangup is ignored: db-server keeps running, and SIGTERM stops it and its Postgres', { timeout: 90_000 }, async () => {
  const { child: held, server } = await startDbServer('nohup', env());
  const node = childOf(held.pid!) ?? held.pid!;

  process.kill(node, 'SIGHUP');
  await pause(1_500);
  expect(held.exitCode).toBeNull();
  expect(isAlive(server)).toBe(true);

  process.kill(node, 'SIGTERM');
  await exited(held);
  await until(() => !isAlive(server), 'the postmaster to stop', 15_000);
});
