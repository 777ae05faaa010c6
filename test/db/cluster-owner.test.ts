// The owner records of the embedded Postgres (src/db/cluster-owner.ts), claimed against a real
// server its owner left running: a dead owner's, a reused pid's and an unreadable record give the
// server to the claimer; a live owner's does not; of several processes claiming the same server
// at the same moment, exactly one gets it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimCluster, ownerDir, type ClusterClaim } from '../../src/db/cluster-owner.ts';
import { killAll } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
let databaseDir: string;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-cluster-owner-');
  databaseDir = path.join(cluster.dataDir, 'pg');
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

/** The record in force: the highest number in the owner folder. */
function latestRecordFile(): string {
  const dir = ownerDir(databaseDir);
  const n = Math.max(...fs.readdirSync(dir).filter((f) => /^\d+\.json$/.test(f)).map((f) => parseInt(f)));
  return path.join(dir, `${n}.json`);
}

function adopted(claim: ClusterClaim, postmaster: number) {
  if (claim.kind !== 'orphan') throw new Error(`expected the server to be claimable, got ${claim.kind}`);
  expect(claim.postmaster.pid).toBe(postmaster);
  claim.ownership.running(postmaster);
  return claim.ownership;
}

describe('claimCluster', { timeout: 120_000 }, () => {
  it('gives a server to the claimer when its owner is dead, its pid reused or its record unreadable; not while its owner lives', async () => {
    const orphan = await cluster.leaveOrphan();

    const first = await claimCluster(databaseDir, { marked: false });
    const ownership = adopted(first, orphan.postmaster);
    expect(ownership.previous).toMatchObject({ pid: orphan.killedPid, postmaster: orphan.postmaster });

    // This process now owns it, alive: shared.
    const second = await claimCluster(databaseDir, { marked: false });
    expect(second.kind).toBe('shared');
    expect(second.kind === 'shared' && second.owner.pid).toBe(process.pid);

    // The same pid, started at another time: another process than the owner.
    const record = JSON.parse(fs.readFileSync(latestRecordFile(), 'utf8'));
    expect(record.started, 'this machine has /proc').toMatch(/^\d+$/);
    fs.writeFileSync(latestRecordFile(), JSON.stringify({ ...record, started: String(Number(record.started) + 1) }));
    const reused = adopted(await claimCluster(databaseDir, { marked: false }), orphan.postmaster);
    expect(reused.previous?.pid).toBe(process.pid);

    // A record that cannot be read: treated as an owner gone.
    fs.writeFileSync(latestRecordFile(), '{"pid":');
    const unreadable = adopted(await claimCluster(databaseDir, { marked: false }), orphan.postmaster);
    expect(unreadable.previous).toBeUndefined();

    // Released, it is claimable again; with the server gone, there is nothing to adopt.
    unreadable.release();
    adopted(await claimCluster(databaseDir, { marked: false }), orphan.postmaster);
    await cluster.stopLeftOver();
    const none = await claimCluster(databaseDir, { marked: false });
    expect(none.kind).toBe('none');
    if (none.kind === 'none') none.ownership.release();
  });

  it('of several processes claiming the same orphan at the same moment, one gets it and the others share it', async () => {
    const orphan = await cluster.leaveOrphan();
    const module = fileURLToPath(new URL('../../src/db/cluster-owner.ts', import.meta.url));
    // Each claims at `at` (spinning for the last moments, so that they claim together), records
    // the server if it got it, and keeps alive (an owner alive) until its stdin closes.
    const script = `
      const [module, databaseDir, at] = process.argv.slice(1);
      const { claimCluster } = await import(module);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(at) - Date.now() - 20)));
      while (Date.now() < Number(at));
      const claim = await claimCluster(databaseDir, { marked: false });
      if (claim.kind !== 'shared') claim.ownership.running(claim.postmaster.pid);
      process.stdout.write(claim.kind + ' ' + (claim.kind === 'shared' ? claim.owner.pid : process.pid) + '\\n');
      process.stdin.on('data', () => {});
      process.stdin.on('end', () => process.exit(0));`;
    const at = Date.now() + 3_000;
    const children = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, module, databaseDir, String(at)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      return { child, exited, out: () => out, err: () => err };
    });
    try {
      const deadline = Date.now() + 60_000;
      while (children.some((c) => !c.out().endsWith('\n'))) {
        if (Date.now() > deadline) throw new Error(`not every claim returned: ${children.map((c) => c.err()).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const said = children.map((c) => c.out().trim());
      const winners = said.filter((s) => s.startsWith('orphan '));
      expect(winners, said.join('\n')).toHaveLength(1);
      const winner = winners[0].split(' ')[1];
      expect(said.filter((s) => s === `shared ${winner}`), said.join('\n')).toHaveLength(children.length - 1);
    } finally {
      for (const c of children) c.child.stdin.end();
      await Promise.all(children.map((c) => c.exited));
    }
    expect(cluster.postmaster()).toBe(orphan.postmaster);
  });

  it('a claim made before the data folder was deleted and created again leaves the new owner\'s record alone when it ends', async () => {
    const dir = ownerDir(databaseDir);
    fs.rmSync(dir, { recursive: true, force: true });
    const before = await claimCluster(databaseDir, { marked: false });
    if (before.kind !== 'none') throw new Error(`expected no server, got ${before.kind}`);
    // Deleted and made again: the numbers start afresh, and the new owner's record is 1.json as the old one's was.
    fs.rmSync(dir, { recursive: true, force: true });
    const after = await claimCluster(databaseDir, { marked: false });
    if (after.kind !== 'none') throw new Error(`expected no server, got ${after.kind}`);
    after.ownership.running(4242);
    const theirs = fs.readFileSync(path.join(dir, '1.json'), 'utf8');

    before.ownership.running(4343);
    before.ownership.release();
    expect(fs.readFileSync(path.join(dir, '1.json'), 'utf8')).toBe(theirs);
    expect(JSON.parse(theirs)).toMatchObject({ postmaster: 4242 });
    expect(JSON.parse(theirs).released).toBeUndefined();

    after.ownership.release();
    expect(JSON.parse(fs.readFileSync(path.join(dir, '1.json'), 'utf8'))).toMatchObject({ postmaster: 4242, released: true });
  });
});
