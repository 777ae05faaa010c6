// The lifecycle of a ticket in zendesk.ticket_sync: queued → syncing → synced, or one of the
// recorded outcomes (not_found, forbidden) or failed with its reason.
import { count, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { conversationEvents, ticketSync, type TicketStatus } from './schema.ts';

const BATCH = 5_000;

/** Ticket rows for ids just queued; a ticket being synced right now keeps its status. */
export async function markQueued(db: Db, ticketIds: readonly number[]): Promise<void> {
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    const values = ticketIds.slice(i, i + BATCH).map((ticketId) => ({ ticketId, status: 'queued' as const, queuedAt: new Date() }));
    await db
      .insert(ticketSync)
      .values(values)
      .onConflictDoUpdate({
        target: ticketSync.ticketId,
        set: { status: 'queued', queuedAt: sql`now()`, updatedAt: sql`now()` },
        setWhere: ne(ticketSync.status, 'syncing'),
      });
  }
}

/**
 * Starts a run and returns the cursor to resume from. `full` forgets the saved cursor, so
 * that edits and deleted attachments in old events are read again.
 */
export async function startRun(db: Db, ticketId: number, options: { full: boolean }): Promise<string | null> {
  const [row] = await db
    .insert(ticketSync)
    .values({ ticketId, status: 'syncing', startedAt: new Date(), attempts: 1 })
    .onConflictDoUpdate({
      target: ticketSync.ticketId,
      set: {
        status: 'syncing',
        startedAt: sql`now()`,
        attempts: sql`${ticketSync.attempts} + 1`,
        eventsLastRun: 0,
        requestsLastRun: 0,
        pagesSynced: 0,
        ...(options.full ? { afterCursor: null } : {}),
        updatedAt: sql`now()`,
      },
    })
    .returning({ afterCursor: ticketSync.afterCursor });
  return row?.afterCursor ?? null;
}

/** Zendesk no longer accepts the saved cursor: the next pages start from the first event. */
export async function forgetCursor(db: Db, ticketId: number): Promise<void> {
  await db.update(ticketSync).set({ afterCursor: null, updatedAt: sql`now()` }).where(eq(ticketSync.ticketId, ticketId));
}

export async function finishRun(db: Db, ticketId: number): Promise<{ eventsSynced: number }> {
  const [{ n }] = await db.select({ n: count() }).from(conversationEvents).where(eq(conversationEvents.ticketId, ticketId));
  await db
    .update(ticketSync)
    .set({ status: 'synced', eventsSynced: n, lastSyncedAt: sql`now()`, lastError: null, lastErrorAt: null, updatedAt: sql`now()` })
    .where(eq(ticketSync.ticketId, ticketId));
  return { eventsSynced: n };
}

/** 404 and 403 are facts about the ticket, recorded as its status; they are not retried. */
export async function recordOutcome(db: Db, ticketId: number, status: Extract<TicketStatus, 'not_found' | 'forbidden'>, reason: string): Promise<void> {
  await db
    .insert(ticketSync)
    .values({ ticketId, status, lastError: reason, lastErrorAt: new Date(), lastSyncedAt: new Date() })
    .onConflictDoUpdate({
      target: ticketSync.ticketId,
      set: { status, lastError: reason, lastErrorAt: sql`now()`, lastSyncedAt: sql`now()`, updatedAt: sql`now()` },
    });
}

/** Records why a run failed. Not final: the ticket waits for its retry as `queued`. */
export async function recordFailure(db: Db, ticketId: number, reason: string, options: { final: boolean }): Promise<void> {
  const status: TicketStatus = options.final ? 'failed' : 'queued';
  await db
    .insert(ticketSync)
    .values({ ticketId, status, lastError: reason, lastErrorAt: new Date() })
    .onConflictDoUpdate({
      target: ticketSync.ticketId,
      set: { status, lastError: reason, lastErrorAt: sql`now()`, updatedAt: sql`now()` },
    });
}

export interface TicketState {
  ticketId: number;
  status: TicketStatus;
  lastError: string | null;
  eventsSynced: number;
  requestsLastRun: number;
}

export async function ticketStates(db: Db, ticketIds: readonly number[]): Promise<TicketState[]> {
  const out: TicketState[] = [];
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    out.push(
      ...(await db
        .select({
          ticketId: ticketSync.ticketId,
          status: ticketSync.status,
          lastError: ticketSync.lastError,
          eventsSynced: ticketSync.eventsSynced,
          requestsLastRun: ticketSync.requestsLastRun,
        })
        .from(ticketSync)
        .where(inArray(ticketSync.ticketId, ticketIds.slice(i, i + BATCH)))),
    );
  }
  return out;
}
