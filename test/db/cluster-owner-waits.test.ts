// claimCluster's two waits (src/db/cluster-owner.ts), for a server another command is starting
// and for one shutting down, against a stand-in for the postmaster: a live process whose working
// directory is the cluster's folder, as /proc shows a postmaster's, named by a postmaster.pid whose
// status line the test writes. No Postgres is needed to hold a shutdown open for two minutes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Interrupted } from '../../src/errors/convlog-errors.ts';
import { claimCluster, ownerDir, type ClusterClaim } from '../../src/db/cluster-owner.ts';
import { startTime } from '../../src/db/postmaster.ts';

let dir: string;
let databaseDir: string;
let standIn: ChildProcess;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-owner-waits-'));
  databaseDir = path.join(dir, 'pg');
  fs.mkdirSync(databaseDir);
  standIn = spawn('sleep', ['600'], { cwd: databaseDir, stdio: 'ignore' });
});
afterEach(() => {
  standIn.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** postmaster.pid as Postgres writes it: pid, folder, start time, port, socket folder, address, shared memory key, status. */
function writePidFile(status: 'ready' | 'stopping'): void {
  const lines = [standIn.pid, databaseDir, Math.floor(Date.now() / 1000), 54321, '/tmp', '127.0.0.1', '0 0', status.padEnd(8)];
  fs.writeFileSync(path.join(databaseDir, 'postmaster.pid'), `${lines.join('\n')}\n`);
}

/** What the claim came to within `ms`: its claim, its error, or 'waiting'. */
async function within(claim: Promise<ClusterClaim>, ms: number): Promise<ClusterClaim | Error | 'waiting'> {
  return Promise.race([claim.catch((error: Error) => error), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms))]);
}

describe('claimCluster waiting', () => {
  it('for a server another command is starting: the command\'s stop ends the wait with Interrupted', async () => {
    // A live owner on record with no postmaster yet: it is starting the server.
    fs.mkdirSync(ownerDir(databaseDir));
    fs.writeFileSync(path.join(ownerDir(databaseDir), '1.json'), JSON.stringify({ pid: standIn.pid, started: startTime(standIn.pid!) }));
    const stop = new AbortController();
    const claim = claimCluster(databaseDir, { marked: false, signal: stop.signal });
    expect(await within(claim, 500)).toBe('waiting');
    stop.abort();
    const ended = await within(claim, 1_000);
    expect(ended).toBeInstanceOf(Interrupted);
    expect((ended as Error).message).toBe(`interrupted while waiting for the embedded Postgres in ${databaseDir}; nothing was changed`);
  });

  it('for a shutdown: a postmaster.pid that names the same pid but no longer says stopping is a new server (pid reused)', async () => {
    writePidFile('stopping');
    const claim = claimCluster(databaseDir, { marked: false });
    expect(await within(claim, 500)).toBe('waiting');
    writePidFile('ready');
    const ended = await within(claim, 2_000);
    if (typeof ended === 'string' || ended instanceof Error) throw new Error(`still waiting for the shutdown of a server that is up: ${String(ended)}`);
    expect(ended.kind).toBe('orphan'); // no owner on record: this claim adopts it
    if (ended.kind === 'orphan') {
      expect(ended.postmaster.pid).toBe(standIn.pid);
      ended.ownership.release();
    }
  });

  it('for a shutdown that does not end: after 120 s, one line saying what holds it and what to do', { timeout: 150_000 }, async () => {
    writePidFile('stopping');
    const ended = await within(claimCluster(databaseDir, { marked: false }), 130_000);
    expect(ended).toBeInstanceOf(Error);
    expect((ended as Error).message).toBe(
      `the embedded Postgres in ${databaseDir} (postgres process ${standIn.pid}) has been shutting down for 120 s and has not stopped: ` +
        "a shutdown ends once every session's backend has (a fast one ends them, but not one that is stopped or stuck; a smart one waits for their clients to leave); " +
        `end that session, or end the shutdown at once with kill -QUIT ${standIn.pid}; then run the command again`,
    );
  });
});
