// A `convlog work` process stopped in the middle of a long ticket (SIGTERM, SIGKILL), and the
// next worker that must finish that ticket from its saved cursor: the checks the worker-* tests share.
import { expect, vi } from 'vitest';
import { runCli } from './cli.ts';
import { expectedCounts, expectedRows } from './oracle.ts';
import { jobStates, logRequests, rowCounts, ticketSync, type Fixture, type TicketSyncRow } from './sync-fixture.ts';

/** The long ticket's size: 25 pages of the conversation log. */
export const LONG_TICKET_EVENTS = 2500;
/** Events in a page of the conversation log (the default page size). */
const PAGE = 100;

/** Waits until the worker has stored `pages` pages of the ticket. */
export function waitForPages(fixture: Fixture, ticketId: number, pages: number, timeoutMs = 60_000) {
  return vi.waitUntil(async () => ((await ticketSync(fixture.database, ticketId))?.pages_synced ?? 0) >= pages, { message: `${pages} pages of ticket ${ticketId} stored`, timeout: timeoutMs });
}

export interface Interrupted {
  /** The ticket's ticket_sync row once its worker had stopped. */
  state: TicketSyncRow;
  /** Its events stored by then. */
  stored: number;
}

/**
 * The long ticket after its worker stopped: whole pages only (each page committed with its
 * cursor), at least `minPages` of them, not the whole ticket, and a cursor to resume from.
 */
export async function expectWholePages(fixture: Fixture, ticketId: number, minPages: number): Promise<Interrupted> {
  const state = await ticketSync(fixture.database, ticketId);
  const stored = (await rowCounts(fixture.database, [ticketId])).events;
  expect(state).toBeDefined();
  expect(stored).toBeGreaterThanOrEqual(minPages * PAGE);
  expect(stored).toBeLessThan(LONG_TICKET_EVENTS);
  expect(stored).toBe(state!.pages_synced * PAGE);
  expect(state?.after_cursor).toBeTruthy();
  return { state: state!, stored };
}

/**
 * Runs the next worker (`work --until-idle`, the simulator no longer slowed) and checks it took
 * the ticket's job once more and finished the ticket from the saved cursor: one request a
 * remaining page, every event stored once, the ticket synced.
 */
export async function expectNextWorkerFinishes(
  fixture: Fixture,
  ticketId: number,
  from: Interrupted,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<void> {
  fixture.sim.setOptions({ latency: 0 });
  fixture.sim.resetRequests();
  const next = await runCli(['work', '--until-idle'], { env: { ...fixture.env, ...env }, timeoutMs });
  expect(next.code, next.stderr).toBe(0);

  const jobs = await jobStates(fixture.database);
  expect(jobs).toHaveLength(1);
  expect(jobs[0]).toMatchObject({ ticketId, state: 'completed', retryCount: 1 });
  const requests = logRequests(fixture.sim, ticketId);
  expect(requests[0].query['page[after]']).toBe(from.state.after_cursor);
  expect(requests).toHaveLength(LONG_TICKET_EVENTS / PAGE - from.stored / PAGE);

  expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, [ticketId])));
  expect(await ticketSync(fixture.database, ticketId)).toMatchObject({ status: 'synced', events_synced: LONG_TICKET_EVENTS, last_error: null });
}
