// An embedded server killed under a command: its backends tell their clients that the postmaster
// exited, sometimes before the dying postmaster's pid looks gone. On the embedded default that is
// the server's end, which the command gives as its one line, not a lost connection's warning; on a
// server of the user's own (DATABASE_URL) the warning stays, as for any restart.
import { afterAll, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';
import type { Convlog } from '../helpers/cli.ts';
import { capturedLog } from '../helpers/captured-log.ts';

let cluster: EmbeddedCluster | undefined;
let server: Convlog | undefined;
const pools: Database[] = [];
afterAll(async () => {
  for (const pooled of pools) await pooled.close();
  server?.kill('SIGKILL');
  await cluster?.remove();
});


async function withIdleConnections(pooled: Database, n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => pooled.pool.connect()));
  for (const client of clients) client.release();
}

it('a postmaster that exits is the end of an embedded server, not a lost connection, even while its pid still looks alive', { timeout: 120_000 }, async () => {
  cluster = await createEmbeddedCluster('convlog-postmaster-exit-');
  server = await cluster.startServer();
  const url = cluster.url('postgres');
  const embedded = capturedLog('debug');
  const own = capturedLog();
  // serverGone always false: the moment in which the backends have seen the exit and the pid has not ended.
  pools.push(await connect(url, embedded.log, 2, () => false), await connect(url, own.log, 2));
  for (const pooled of pools) await withIdleConnections(pooled, 2);

  process.kill(cluster.postmaster()!, 'SIGKILL');
  await vi.waitUntil(() => pools.every((pooled) => pooled.pool.totalCount === 0), { timeout: 10_000 });
  await vi.waitUntil(() => own.lines().some((line) => line.level === 40), { timeout: 10_000 });
  // Past the window in which losses are counted into one warning.
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  expect(own.lines().filter((line) => line.level === 40)).toEqual([
    expect.objectContaining({ msg: '2 idle Postgres connections lost', err: 'terminating connection due to unexpected postmaster exit' }),
  ]);
  expect(embedded.lines()).toEqual([]);
});
