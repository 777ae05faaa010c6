// One page of GET /api/v2/tickets/{id}/conversation_log with Zendesk's cursor pagination.
// Positions are event indexes (created_at strictly increases with the index), so a saved
// after_cursor keeps pointing at "after event N" and later picks up appended events; with
// snapshot cursors it also holds the log's length when it was given, and returns nothing past it.
import { decodeLogCursor, encodeLogCursor, type LogCursor, type SortOrder } from './cursor.ts';
import { listError, type Reply } from './http.ts';
import type { TicketStore } from './store.ts';
import type { PageBody } from './types.ts';

export const MAX_PAGE_SIZE = 100;

export type PageResult = { ok: true; page: PageBody } | { ok: false; reply: Reply };

const invalid = (title: string): PageResult => ({ ok: false, reply: listError(400, 'InvalidPaginationParameter', title) });

export function conversationLogPage(store: TicketStore, ticketId: number, params: URLSearchParams, origin: string, snapshot = false): PageResult {
  const sizeParam = params.get('page[size]');
  if (sizeParam !== null && !/^\d+$/.test(sizeParam)) return invalid('page[size] is not valid');
  const size = sizeParam === null ? MAX_PAGE_SIZE : Number(sizeParam);
  if (size < 1 || size > MAX_PAGE_SIZE) return invalid(`page[size] must be between 1 and ${MAX_PAGE_SIZE}`);

  const sortParam = params.get('sort');
  if (sortParam !== null && sortParam !== 'created_at' && sortParam !== '-created_at') return invalid('sort is not valid');

  const afterParam = params.get('page[after]');
  const beforeParam = params.get('page[before]');
  if (afterParam !== null && beforeParam !== null) return invalid('page[after] and page[before] cannot be used together');

  const total = store.eventCount(ticketId);
  let cursor: LogCursor | null = null;
  if (afterParam !== null || beforeParam !== null) {
    const name = afterParam !== null ? 'page[after]' : 'page[before]';
    cursor = decodeLogCursor((afterParam ?? beforeParam)!);
    const wanted = afterParam !== null ? 'after' : 'before';
    const sortOk = sortParam === null || (sortParam === '-created_at') === (cursor?.sort === 'desc');
    if (!cursor || cursor.ticketId !== ticketId || cursor.direction !== wanted || !sortOk || cursor.index < -1 || cursor.index > total) {
      return invalid(`${name} is not valid`);
    }
  }
  const sort: SortOrder = cursor?.sort ?? (sortParam === '-created_at' ? 'desc' : 'asc');
  // What this page and the cursors it gives may show: a snapshot cursor's log as it was.
  const count = cursor?.seen === undefined ? total : Math.min(total, cursor.seen);
  const seen = snapshot ? count : undefined;

  const { start, end, hasMore } = window(count, size, sort, cursor);
  const indexes: number[] = [];
  for (let i = start; i < end; i++) indexes.push(i);
  if (sort === 'desc') indexes.reverse();

  let afterIndex: number | null = null;
  let beforeIndex: number | null = null;
  if (indexes.length > 0) {
    afterIndex = indexes[indexes.length - 1];
    beforeIndex = indexes[0];
  } else if (cursor) {
    // Nothing new: hand back cursors for the same spot so the client can simply keep polling.
    const step = sort === 'asc' ? 1 : -1;
    afterIndex = cursor.direction === 'after' ? cursor.index : cursor.index - step;
    beforeIndex = cursor.direction === 'before' ? cursor.index : cursor.index + step;
  }

  const after = afterIndex === null ? null : encodeLogCursor({ ticketId, index: afterIndex, direction: 'after', sort, seen });
  const before = beforeIndex === null ? null : encodeLogCursor({ ticketId, index: beforeIndex, direction: 'before', sort, seen });
  const link = (name: string, value: string | null) => {
    if (value === null) return null;
    const sizePart = sizeParam === null ? '' : `&page%5Bsize%5D=${size}`;
    return `${origin}/api/v2/tickets/${ticketId}/conversation_log.json?page%5B${name}%5D=${encodeURIComponent(value)}${sizePart}&sort=${sort === 'desc' ? '-created_at' : 'created_at'}`;
  };

  return {
    ok: true,
    page: {
      events: indexes.map((i) => store.eventAt(ticketId, i)),
      links: { next: link('after', after), prev: link('before', before) },
      meta: { after_cursor: after, before_cursor: before, has_more: hasMore },
    },
  };
}

/** The half-open index range [start, end) a request covers, and whether more lies beyond it. */
function window(count: number, size: number, sort: SortOrder, cursor: LogCursor | null): { start: number; end: number; hasMore: boolean } {
  // "Forward" means towards higher indexes: ascending pages after a cursor, descending before one.
  let forward: boolean;
  let from: number;
  if (!cursor) {
    forward = sort === 'asc';
    from = forward ? -1 : count;
  } else {
    forward = (sort === 'asc') === (cursor.direction === 'after');
    from = cursor.index;
  }
  if (forward) {
    const start = Math.max(0, from + 1);
    const end = Math.min(count, start + size);
    return { start, end: Math.max(start, end), hasMore: end < count };
  }
  const end = Math.min(count, Math.max(0, from));
  const start = Math.max(0, end - size);
  return { start, end, hasMore: start > 0 };
}
