// Queues ticket syncs in bulk. pg-boss's exclusive policy skips a ticket that already has a
// job queued, waiting to retry or running, so enqueueing twice never doubles work.
import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { markQueued } from '../db/ticket-status.ts';
import { SYNC_QUEUE, type SyncJobData } from './boss.ts';

const BATCH = 5_000;

export interface EnqueueResult {
  queued: number;
  alreadyQueued: number;
  /** Ids given more than once; each ticket is queued once. */
  duplicates: number;
}

export interface EnqueueOptions {
  full?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function enqueueTickets(
  boss: PgBoss,
  db: Db,
  ticketIds: readonly number[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const unique = [...new Set(ticketIds)];
  let queued = 0;
  for (let i = 0; i < unique.length; i += BATCH) {
    const batch = unique.slice(i, i + BATCH);
    const jobs = batch.map((ticketId) => ({
      // Our own ids tell us which tickets the ON CONFLICT DO NOTHING insert skipped.
      id: randomUUID(),
      singletonKey: String(ticketId),
      data: (options.full ? { ticketId, full: true } : { ticketId }) satisfies SyncJobData,
    }));
    const inserted = new Set(await boss.insert(SYNC_QUEUE, jobs, { returnId: true }));
    const queuedIds = batch.filter((_, j) => inserted.has(jobs[j].id));
    await markQueued(db, queuedIds);
    queued += queuedIds.length;
    options.onProgress?.(Math.min(i + BATCH, unique.length), unique.length);
  }
  return { queued, alreadyQueued: unique.length - queued, duplicates: ticketIds.length - unique.length };
}
