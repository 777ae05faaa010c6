// A command killed outright (kill -9, the OOM killer, a crash) cannot stop the embedded Postgres
// it runs. The next command finds the owner on record dead and adopts the server: it stops it
// when it ends, as if it had started it. A live owner's server is shared and left running.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/db/postmaster.ts';
import { killAll, runProgram, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-orphan-');
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

const adoptions = (stderr: string) => stderr.split('\n').filter((line) => line.includes('"msg":"adopting the embedded Postgres'));

describe('an embedded Postgres whose owner was killed outright', { timeout: 120_000 }, () => {
  it('is adopted by the next command, which says so and stops it when it ends', async () => {
    const orphan = await cluster.leaveOrphan();

    const next = await runProgram(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
    expect(next.code, next.stderr).toBe(0);
    const said = adoptions(next.stderr);
    expect(said, next.stderr).toHaveLength(1);
    expect(JSON.parse(said[0])).toMatchObject({
      level: 30,
      dataDir: cluster.dataDir,
      ownerPid: orphan.killedPid,
      postgresPid: orphan.postmaster,
      msg: `adopting the embedded Postgres convlog process ${orphan.killedPid} left running when it ended: it stops when this command ends`,
    });
    // status waits for the server's exit before its own.
    expect(isAlive(orphan.postmaster), `postmaster ${orphan.postmaster} still running after the adopting command exited`).toBe(false);
    expect(fs.existsSync(cluster.pidFile)).toBe(false);

    // Stopped as the command's own: the next one starts a server afresh, with nothing to adopt.
    const again = await runProgram(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(adoptions(again.stderr)).toEqual([]);
    expect(cluster.postmaster() === undefined || !isAlive(cluster.postmaster()!)).toBe(true);
  });

  it('is adopted and kept up by db-server until SIGTERM; a db-server started at the same moment shares it, and the last one stopped stops it', async () => {
    const orphan = await cluster.leaveOrphan();

    const env = { ...cluster.env, LOG_LEVEL: 'info' };
    const both = [startConvlog(['db-server'], { env }), startConvlog(['db-server'], { env })];
    await upAndServing(both);
    // One adopts the server; the other finds it owned and shares it.
    const adopter = both.find((p) => p.stdout().includes('takes it over'))!;
    const shared = both.find((p) => p !== adopter)!;
    expect(adopter, both.map((p) => p.stdout()).join('\n---\n')).toBeDefined();
    expect(adoptions(adopter.stderr())).toHaveLength(1);
    expect(adopter.stdout()).toContain(`the embedded Postgres in ${cluster.dataDir} was left running by a convlog process that ended without stopping it: db-server takes it over`);
    expect(shared.stdout()).toMatch(
      new RegExp(`^the embedded Postgres in ${cluster.dataDir} is already running \\(postgres pid ${orphan.postmaster}\\), started by another convlog process \\(pid ${adopter.pid}\\): db-server shares it`),
    );
    expect(adoptions(shared.stderr())).toEqual([]);

    // A command run meanwhile shares it: the adopter is its live owner now.
    const meanwhile = await runProgram(['status'], { env, timeoutMs: 90_000 });
    expect(meanwhile.code, meanwhile.stderr).toBe(0);
    expect(adoptions(meanwhile.stderr)).toEqual([]);
    expect(isAlive(orphan.postmaster)).toBe(true);

    // The adopter stopped first leaves it to the db-server sharing it, which stops it when stopped.
    adopter.kill('SIGTERM');
    expect((await adopter.exited).code, adopter.stderr()).toBe(0);
    expect(adopter.stderr()).toContain('embedded Postgres left running');
    expect(isAlive(orphan.postmaster)).toBe(true);
    shared.kill('SIGTERM');
    expect((await shared.exited).code, shared.stderr()).toBe(0);
    expect(shared.stderr()).toContain('embedded Postgres stopped');
    expect(isAlive(orphan.postmaster)).toBe(false);
  });
});

/** Waits until every db-server given has printed how to connect. */
async function upAndServing(servers: readonly Convlog[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!servers.every((p) => /psql /.test(p.stdout()))) {
    if (Date.now() > deadline) throw new Error(`a db-server did not come up: ${servers.map((p) => p.stderr()).join('\n---\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('an embedded Postgres whose owner is alive', { timeout: 120_000 }, () => {
  it('is shared by another command and left running when it ends', async () => {
    const owner = await cluster.startServer({ LOG_LEVEL: 'info' });
    const pid = cluster.postmaster()!;

    const other = await runProgram(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
    expect(other.code, other.stderr).toBe(0);
    expect(adoptions(other.stderr)).toEqual([]);
    expect(isAlive(pid)).toBe(true);
    expect(cluster.postmaster()).toBe(pid);

    owner.kill('SIGTERM');
    expect((await owner.exited).code, owner.stderr()).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('two db-servers started at the same moment: one starts the server, the other waits for it and shares it', async () => {
    const both = [startConvlog(['db-server'], { env: cluster.env }), startConvlog(['db-server'], { env: cluster.env })];
    await upAndServing(both);
    const shared = both.find((p) => p.stdout().includes('db-server shares it'))!;
    const owner = both.find((p) => p !== shared)!;
    expect(shared, both.map((p) => p.stdout()).join('\n---\n')).toBeDefined();
    expect(shared.stdout()).toMatch(new RegExp(`^the embedded Postgres in ${cluster.dataDir} is already running \\(postgres pid \\d+\\), started by another convlog process \\(pid ${owner.pid}\\)`));
    expect(owner.stdout()).not.toContain('takes it over');
    const pid = cluster.postmaster()!;
    // The one sharing it stopped first: the owner keeps it up, and stops it when stopped.
    shared.kill('SIGTERM');
    expect((await shared.exited).code, shared.stderr()).toBe(0);
    expect(isAlive(pid)).toBe(true);
    owner.kill('SIGTERM');
    expect((await owner.exited).code, owner.stderr()).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('a postmaster.pid left by a restart, its pid now another process\'s', { timeout: 120_000 }, () => {
  it('is not taken for the server: the command starts its own, and never signals that process', async () => {
    // The file a server leaves when the machine stops under it: its own, but for the pid.
    const owner = await cluster.startServer();
    const left = fs.readFileSync(cluster.pidFile, 'utf8');
    owner.kill('SIGTERM');
    expect((await owner.exited).code, owner.stderr()).toBe(0);
    const unrelated = spawn('sleep', ['300'], { stdio: 'ignore' });
    const signalled = new Promise<NodeJS.Signals | null>((resolve) => unrelated.on('exit', (_code, signal) => resolve(signal)));
    try {
      fs.writeFileSync(cluster.pidFile, left.replace(/^\d+/, String(unrelated.pid)));

      for (let run = 0; run < 2; run++) {
        const next = await runProgram(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
        expect(next.code, next.stderr).toBe(0);
        expect(adoptions(next.stderr)).toEqual([]);
        if (run === 0) expect(next.stderr).toContain(`postmaster.pid names process ${unrelated.pid}, which is not this cluster's Postgres`);
        expect(unrelated.exitCode === null && unrelated.signalCode === null, `the unrelated process ended (${unrelated.signalCode})`).toBe(true);
      }
      expect(cluster.postmaster() === undefined || !isAlive(cluster.postmaster()!)).toBe(true);
    } finally {
      unrelated.kill('SIGKILL');
    }
    expect(await signalled).toBe('SIGKILL');
  });
});
