// What a worker says at info about the tickets it syncs. An operator watching a quiet worker wants
// each ticket (which one, how many events, how long); on a busy one, a line per ticket buries
// everything else, so past a few tickets in a window the rest are summed up in one line at its end,
// counted by how each ended (a burst of deleted ids is a burst of not_found, not of syncs).

import { counted } from '../text.ts';
import type { Logger } from '../log.ts';

/** How a ticket's run ended, in the order the summary names them. */
const OUTCOMES = ['synced', 'not_found', 'forbidden'] as const;

export interface SyncedTicket {
  ticketId: number;
  status: (typeof OUTCOMES)[number];
  events: number;
  requests: number;
  ms: number;
}

export interface SyncLogOptions {
  /** Length of a window: at most `perTicketLines` lines per ticket in it, then one summary. */
  windowMs?: number;
  perTicketLines?: number;
}

export interface SyncLog {
  synced(ticket: SyncedTicket): void;
  /** Says what the current window has not said yet, and stops its timer. */
  close(): void;
}

/**
 * Refused tickets in a row, before any synced, after which the worker says that the cause is
 * likely the API user rather than the tickets: one 403 is a restricted ticket, every one is an
 * agent confined to other groups, a token without read access, or an account without the API.
 */
const REFUSED_HINT_AFTER = 5;

export function createSyncLog(log: Logger, options: SyncLogOptions = {}): SyncLog {
  const windowMs = options.windowMs ?? 10_000;
  const perTicketLines = options.perTicketLines ?? 5;
  let refusedInARow = 0;
  let anySynced = false;
  let lines = 0;
  let timer: NodeJS.Timeout | undefined;
  let windowStart = 0;
  // Tickets past the per-ticket lines in this window, summed for its summary by how each ended:
  // a run of deleted ids is not "synced".
  const unsaid = { tickets: 0, synced: 0, not_found: 0, forbidden: 0, events: 0, requests: 0 };

  const endWindow = () => {
    timer = undefined;
    if (unsaid.tickets > 0) {
      const { tickets, events, requests } = unsaid;
      // A window cut short by close() is as long as it lasted.
      const seconds = Math.max(1, Math.round((Date.now() - windowStart) / 1000));
      const outcomes = OUTCOMES.filter((o) => unsaid[o] > 0).map((o) => `${o} ${unsaid[o]}`).join(', ');
      log.info(
        { ...unsaid, seconds },
        `${counted(tickets, 'more ticket')} finished in the last ${seconds} s: ${outcomes}; ${counted(events, 'event')}, ${counted(requests, 'request')}`,
      );
    }
    lines = 0;
    for (const key of Object.keys(unsaid) as (keyof typeof unsaid)[]) unsaid[key] = 0;
  };

  return {
    synced(ticket) {
      if (ticket.status === 'synced') anySynced = true;
      refusedInARow = ticket.status === 'forbidden' ? refusedInARow + 1 : 0;
      if (!anySynced && refusedInARow === REFUSED_HINT_AFTER) {
        log.warn(
          { tickets: refusedInARow },
          `the first ${refusedInARow} tickets were all refused (403) and none synced: the API user may not read conversation logs ` +
            '(an agent restricted to some groups, an OAuth token without read access, or an account without this API); each is recorded as forbidden',
        );
      }
      // unref: a window still open must not keep a stopping worker alive.
      if (timer === undefined) {
        windowStart = Date.now();
        timer = setTimeout(endWindow, windowMs).unref();
      }
      if (lines < perTicketLines) {
        lines += 1;
        const { ticketId, status, events, requests, ms } = ticket;
        log.info({ ticketId, status, events, requests, ms }, status === 'synced' ? 'ticket synced' : `ticket ${status}`);
        return;
      }
      unsaid.tickets += 1;
      unsaid[ticket.status] += 1;
      unsaid.events += ticket.events;
      unsaid.requests += ticket.requests;
    },
    close() {
      if (timer === undefined) return;
      clearTimeout(timer);
      endWindow();
    },
  };
}
