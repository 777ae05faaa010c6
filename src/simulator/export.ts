// GET /api/v2/incremental/tickets/cursor.json: tickets ordered by (generated_timestamp, id).
// The cursor also remembers how many runtime changes had happened when it was issued, so a
// ticket changed later is never missed even if its new timestamp ties with the cursor's.
// Like Zendesk, the default support_type_scope (agent) leaves out tickets handled by AI agents.
import type { ZendeskRecord } from './catalog.ts';
import { decodeExportCursor, encodeExportCursor, type ExportCursor } from './cursor.ts';
import { legacyError, type Reply } from './http.ts';
import { parseInclude, sideloads, type Sideload } from './sideloads.ts';
import type { TicketStore } from './store.ts';
import type { ExportTicket } from './types.ts';

const SCOPES = ['agent', 'ai_agent', 'all'];

const MAX_EXPORT_PAGE = 1000;

export interface ExportBody extends Partial<Record<Sideload, ZendeskRecord[]>> {
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
  const scope = params.get('support_type_scope') ?? 'agent';
  if (!SCOPES.includes(scope)) return invalid(`support_type_scope must be one of ${SCOPES.join(', ')} (got "${scope}")`);
  const excludeDeleted = params.get('exclude_deleted');
  if (excludeDeleted !== null && excludeDeleted !== 'true' && excludeDeleted !== 'false') return invalid('exclude_deleted must be true or false');
  const sideload = parseInclude(params.get('include'));
  if (!sideload.ok) return invalid(sideload.problem);

  let include: (ticket: Key) => boolean;
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

  const { deleted, scrubbed, seed } = store.options;
  const hidden = excludeDeleted === 'true' ? new Set([...deleted, ...scrubbed]) : new Set<number>();
  const inScope = (id: number) => scope === 'all' || store.isAiAgentTicket(id) === (scope === 'ai_agent');
  const matched: Key[] = [];
  for (let id = 1; id <= store.ticketCount; id++) {
    const key = { id, generated_timestamp: store.generatedSec(id) };
    if (include(key) && !hidden.has(id) && inScope(id)) matched.push(key);
  }
  matched.sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
  const page = matched.slice(0, pageSize).map((key) => store.exportTicket(key.id));

  const seq = store.changeSeq;
  const first = page[0];
  const last = page[page.length - 1];
  const after = encodeExportCursor(last ? { generatedSec: last.generated_timestamp, ticketId: last.id, seq } : { ...position, seq });
  const before = first ? encodeExportCursor({ generatedSec: first.generated_timestamp, ticketId: first.id - 1, seq }) : null;
  // The next page keeps every parameter but the position, as Zendesk's after_url does.
  const carried = new URLSearchParams(params);
  carried.delete('start_time');
  carried.delete('cursor');
  const url = (cursor: string | null) => {
    if (cursor === null) return null;
    const next = new URLSearchParams({ cursor });
    for (const [key, value] of carried) next.append(key, value);
    return `${origin}/api/v2/incremental/tickets/cursor.json?${next.toString().replace(/\+/g, '%20')}`;
  };

  return {
    ok: true,
    body: {
      tickets: page.map((t) => ({ ...t, url: `${origin}/api/v2/tickets/${t.id}.json` })),
      after_url: url(after),
      before_url: url(before),
      after_cursor: after,
      before_cursor: before,
      end_of_stream: matched.length <= pageSize,
      ...sideloads(seed, page, sideload.include, store.shiftSec, store.users),
    },
  };
}

/** What the export orders and filters by; the full ticket is built only for the page served. */
type Key = Pick<ExportTicket, 'id' | 'generated_timestamp'>;

function isAfter(ticket: Key, cursor: ExportCursor): boolean {
  return ticket.generated_timestamp > cursor.generatedSec || (ticket.generated_timestamp === cursor.generatedSec && ticket.id > cursor.ticketId);
}
