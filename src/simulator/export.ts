// GET /api/v2/incremental/tickets/cursor.json: tickets ordered by (generated_timestamp, id).
// The cursor also remembers how many runtime changes had happened when it was issued, so a
// ticket changed later is never missed even if its new timestamp ties with the cursor's.
import { decodeExportCursor, encodeExportCursor, type ExportCursor } from './cursor.ts';
import { legacyError, type Reply } from './http.ts';
import type { TicketStore } from './store.ts';
import type { ExportTicket } from './types.ts';

export const MAX_EXPORT_PAGE = 1000;

export interface ExportBody {
  tickets: (ExportTicket & { url: string })[];
  after_url: string | null;
  before_url: string | null;
  after_cursor: string | null;
  before_cursor: string | null;
  end_of_stream: boolean;
}

export type ExportResult = { ok: true; body: ExportBody } | { ok: false; reply: Reply };

const invalid = (description: string): ExportResult => ({ ok: false, reply: legacyError(400, 'InvalidValue', description) });

export function exportPage(store: TicketStore, params: URLSearchParams, origin: string, defaultPageSize: number, nowSec: number): ExportResult {
  const perPage = params.get('per_page');
  if (perPage !== null && (!/^\d+$/.test(perPage) || Number(perPage) < 1 || Number(perPage) > MAX_EXPORT_PAGE)) {
    return invalid(`per_page must be between 1 and ${MAX_EXPORT_PAGE}`);
  }
  const pageSize = perPage === null ? defaultPageSize : Number(perPage);

  let include: (ticket: ExportTicket) => boolean;
  let position: ExportCursor;
  const cursorParam = params.get('cursor');
  if (cursorParam !== null) {
    const cursor = decodeExportCursor(cursorParam);
    if (!cursor) return invalid('cursor is not valid');
    position = cursor;
    include = (t) => isAfter(t, cursor) || store.changeSeqOf(t.id) > cursor.seq;
  } else {
    const startParam = params.get('start_time');
    if (startParam === null || startParam === '') return invalid('start_time is required (or pass a cursor)');
    if (!/^\d+$/.test(startParam)) return invalid(`start_time must be a Unix timestamp in seconds (got "${startParam}")`);
    const startTime = Number(startParam);
    if (startTime > nowSec - 60) return invalid('Too recent start_time. Use a start_time older than 1 minute.');
    position = { generatedSec: startTime, ticketId: 0, seq: 0 };
    include = (t) => t.generated_timestamp >= startTime;
  }

  const matched: ExportTicket[] = [];
  for (let id = 1; id <= store.ticketCount; id++) {
    const ticket = store.exportTicket(id);
    if (include(ticket)) matched.push(ticket);
  }
  matched.sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
  const page = matched.slice(0, pageSize);

  const seq = store.changeSeq;
  const first = page[0];
  const last = page[page.length - 1];
  const after = encodeExportCursor(last ? { generatedSec: last.generated_timestamp, ticketId: last.id, seq } : { ...position, seq });
  const before = first ? encodeExportCursor({ generatedSec: first.generated_timestamp, ticketId: first.id - 1, seq }) : null;
  const url = (cursor: string | null) =>
    cursor === null ? null : `${origin}/api/v2/incremental/tickets/cursor.json?cursor=${encodeURIComponent(cursor)}${perPage === null ? '' : `&per_page=${pageSize}`}`;

  return {
    ok: true,
    body: {
      tickets: page.map((t) => ({ ...t, url: `${origin}/api/v2/tickets/${t.id}.json` })),
      after_url: url(after),
      before_url: url(before),
      after_cursor: after,
      before_cursor: before,
      end_of_stream: matched.length <= pageSize,
    },
  };
}

function isAfter(ticket: ExportTicket, cursor: ExportCursor): boolean {
  return ticket.generated_timestamp > cursor.generatedSec || (ticket.generated_timestamp === cursor.generatedSec && ticket.id > cursor.ticketId);
}
