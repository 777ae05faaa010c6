// For the tests of a ticket asked for again during its run (sync-again, sync-again-blip): one
// worker run of `ticketId` during which the simulator appends events and the ticket is enqueued
// again. The real pg-boss's `complete` waits for that enqueue, so it certainly meets a running job.
import type { PgBoss } from 'pg-boss';
import { enqueueTickets, type EnqueueResult } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { FixtureWithBoss } from './sync-fixture.ts';

export async function runEnqueuedDuringRun(
  fixture: FixtureWithBoss,
  ticketId: number,
  appended: number,
  /** The queue priority of that enqueue (a backlog's by default). */
  priority?: number,
): Promise<{ summary: Awaited<ReturnType<typeof runWorker>>; enqueued: EnqueueResult | undefined }> {
  const { boss, sim } = fixture;
  const { db, pool } = fixture.database;
  let enqueuedDuringRun: Promise<EnqueueResult> | undefined;
  const stop = new AbortController();
  const summary = await runWorker(completingAfter(boss, () => enqueuedDuringRun), pool, fixture.deps, {
    concurrency: 1,
    signal: stop.signal,
    untilIdle: true,
    idleCheckMs: 100,
    onPage: () => {
      // The ticket's page is stored: the run has read everything Zendesk had.
      if (enqueuedDuringRun) return;
      sim.appendEvents(ticketId, appended);
      enqueuedDuringRun = enqueueTickets(boss, db, [ticketId], priority === undefined ? {} : { priority });
    },
  }).finally(() => stop.abort());
  return { summary, enqueued: await enqueuedDuringRun };
}

function completingAfter(boss: PgBoss, waitFor: () => Promise<unknown> | undefined): PgBoss {
  return new Proxy(boss, {
    get(target, key) {
      // pg-boss's methods use private fields: called on the real instance, not on the proxy.
      const value = Reflect.get(target, key, target);
      if (key !== 'complete') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<PgBoss['complete']>) => {
        await waitFor();
        return target.complete(...args);
      };
    },
  });
}
