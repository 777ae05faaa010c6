// The periodic full reads a backfill queues: tickets of a full page or more whose last read from
// the first event is older than CONVLOG_FULL_RESYNC_DAYS, oldest first, so that redactions and
// edits deep in them reach Postgres. They may spend CONVLOG_FULL_RESYNC_PERCENT of the
// conversation log's limit in force. A full read costs a request a page, dozens for a long ticket, so
// the share is counted in requests: it accrues between backfills, each backfill queues the
// oldest due tickets its allowance covers, and what it leaves waits for the next. A ticket
// longer than a run's share waits until enough has accrued, rather than never being read.
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { BUDGET_NAMES } from '../db/budgets.ts';
import type { Db } from '../db/connection.ts';
import { ticketsDueForFullRead, type DueTicket } from '../db/full-read.ts';
import { limitInForce } from '../db/rate-budget.ts';
import { loadFullReadAllowance, saveFullReadAllowance, type DbClock, type FullReadAllowance } from '../db/sync-state.ts';
import { enqueueTickets } from './enqueue.ts';

/** The full reads as a process is set: CONVLOG_FULL_RESYNC_DAYS and _PERCENT, and its CONVLOG_RATE_LIMIT. */
export interface FullReadPolicy {
  days: number;
  /** CONVLOG_FULL_RESYNC_PERCENT / 100. */
  share: number;
  /** This process's CONVLOG_RATE_LIMIT. */
  rateLimit: number;
}

export interface FullReadSweep {
  days: number;
  /** The policy's share of the conversation log's limit in force: the requests a minute they may take. */
  requestsPerMinute: number;
}

/** Due tickets looked at per backfill: far more than any allowance covers. */
const LOOK_AT = 1_000;
/** What may accrue while no ticket is due, or between rare backfills: an hour's share. */
const SAVED_MINUTES = 60;

export interface SweepResult {
  queued: number;
  /** The requests their reads are expected to cost. */
  requests: number;
}

/**
 * The sweep a backfill runs now. The limit in force is the lowest of the processes taking
 * conversation-log permits (src/db/rate-budget.ts), the workers that will read these tickets,
 * whatever the process running the backfill is set to; with none taking part, each applies its
 * own, so this one's stands in. Read as the backfill ends, it stands for the minutes since the last.
 */
export async function sweepNow(pool: pg.Pool, policy: FullReadPolicy, at: DbClock = {}): Promise<FullReadSweep> {
  const limit = (await limitInForce(pool, BUDGET_NAMES.conversationLog, at)) ?? policy.rateLimit;
  return { days: policy.days, requestsPerMinute: limit * policy.share };
}

/** `at` stands in for the database clock, which measures the time between backfills (tests). */
export async function queueDueFullReads(db: Db, boss: PgBoss, sweep: FullReadSweep, at: DbClock = {}): Promise<SweepResult> {
  const due = await ticketsDueForFullRead(db, sweep.days, LOOK_AT);
  const saved = await loadFullReadAllowance(db, at);
  const allowance = accrued(saved, sweep.requestsPerMinute, due[0]?.requests ?? 0);
  const { ticketIds, requests } = oldestWithin(due, allowance);
  const queued = ticketIds.length > 0 ? (await enqueueTickets(boss, db, ticketIds, { full: true })).queued : 0;
  await saveFullReadAllowance(db, allowance - requests, at);
  return { queued, requests };
}

/**
 * The allowance now: what was left, plus the share of the minutes since. It is capped at an hour's
 * share, or at the oldest due ticket's cost when that is more, so that it can be read one day.
 * The first backfill starts with a minute's share.
 */
export function accrued(saved: FullReadAllowance | null, perMinute: number, firstCost: number): number {
  if (saved === null) return perMinute;
  return Math.min(saved.requests + saved.minutesSince * perMinute, Math.max(SAVED_MINUTES * perMinute, firstCost));
}

/** The due tickets, oldest first, up to the first one the allowance does not cover. */
export function oldestWithin(due: readonly DueTicket[], allowance: number): { ticketIds: number[]; requests: number } {
  const ticketIds: number[] = [];
  let requests = 0;
  for (const ticket of due) {
    if (requests + ticket.requests > allowance) break;
    ticketIds.push(ticket.ticketId);
    requests += ticket.requests;
  }
  return { ticketIds, requests };
}
