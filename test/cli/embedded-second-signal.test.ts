// A second Ctrl-C ("send again to exit at once") while a command is starting the embedded
// Postgres exits at once (process.exit). The server runs in a process group of its own,
// so unless the command's 'exit' hook stops it, it keeps running after the command, until a later
// command adopts it (test/cli/embedded-orphan.test.ts).
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/db/postmaster.ts';
import { startConvlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Created once (initdb), so that the runs below only start it.
  cluster = await createEmbeddedCluster('convlog-second-signal-');
  expect(cluster.postmaster()).toBeUndefined();
}, 150_000);

afterEach(() => cluster.stopLeftOver());
afterAll(() => cluster?.remove());

describe('embedded Postgres and a second Ctrl-C', { timeout: 120_000 }, () => {
  // status starts it as every command does (src/db/embedded.ts); db-server as src/db/serve-embedded.ts.
  // A second signal ends the process as that signal does: 130 for SIGINT, 143 for SIGTERM.
  it.each([
    ['status', 'SIGINT', 130],
    ['db-server', 'SIGTERM', 143],
  ] as const)('%s stops the embedded Postgres it was starting when a second %s exits at once', async (command, signal, code) => {
    // info: the first signal's "send again" line is the cue for the second.
    const proc = startConvlog([command], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
    const started = Date.now();
    while (!fs.existsSync(cluster.pidFile)) {
      if (Date.now() - started > 60_000) throw new Error(`no postmaster.pid: ${proc.stderr()}`);
      await pause(2);
    }
    // The server is starting; the command is inside pg.start(). The signal twice, the second once
    // the first is handled: two sent at once to a process not yet scheduled (a busy machine)
    // arrive as one, as the kernel keeps one pending signal of a kind.
    proc.kill(signal);
    const sent = Date.now();
    while (!/send again to exit at once/.test(proc.stderr() + proc.stdout())) {
      if (Date.now() - sent > 30_000) throw new Error(`the first ${signal} was not acknowledged: ${proc.stderr()}`);
      await pause(2);
    }
    proc.kill(signal);
    const exit = await proc.exited;
    expect(exit.code, proc.stderr()).toBe(code);
    // Give a stopping server time to go.
    await pause(3_000);
    const pid = cluster.postmaster();
    expect(pid !== undefined && isAlive(pid), `postmaster ${pid} still running after convlog exited`).toBe(false);
  });
});
