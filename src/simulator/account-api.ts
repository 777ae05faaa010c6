// The account-wide endpoints beside the export: tickets by id (show_many) and the group, brand
// and organization lists with Zendesk's cursor pagination. All of them spend the account-wide
// budget, not the conversation log's or the export's.
import { brands, groups, organizations, shiftedRecord, type ZendeskRecord } from './catalog.ts';
import { decodeListCursor, encodeListCursor } from './cursor.ts';
import { forbidden as forbiddenReply, jsonReply, legacyError, listError, recordNotFound, type Reply } from './http.ts';
import { parseInclude, sideloads } from './sideloads.ts';
import type { TicketStore } from './store.ts';

const MAX_SHOW_MANY = 100;
const MAX_LIST_PAGE = 100;

const LISTS = { groups, brands, organizations } as const;
export type ListName = keyof typeof LISTS;
const LIST_NUMBER: Record<ListName, number> = { groups: 1, brands: 2, organizations: 3 };

/** GET /api/v2/tickets/{id}.json: the `url` every served ticket carries. */
export function showTicket(store: TicketStore, idText: string, origin: string): Reply {
  const id = /^\d+$/.test(idText) ? Number(idText) : NaN;
  const { deleted, scrubbed, forbidden } = store.options;
  if (!store.exists(id) || deleted.includes(id) || scrubbed.includes(id)) return recordNotFound();
  if (forbidden.includes(id)) return forbiddenReply();
  return jsonReply(200, { ticket: { url: `${origin}/api/v2/tickets/${id}.json`, ...store.exportTicket(id) } });
}

/** GET /api/v2/tickets/show_many.json?ids=1,2,3: unknown, deleted and hidden tickets are left out. */
export function showMany(store: TicketStore, params: URLSearchParams, origin: string): Reply {
  const idsParam = params.get('ids');
  if (idsParam === null || idsParam.trim() === '') return legacyError(400, 'InvalidValue', 'ids is required, e.g. ids=1,2,3');
  const parts = idsParam.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.some((part) => !/^\d+$/.test(part))) return legacyError(400, 'InvalidValue', `ids must be ticket ids separated by commas (got "${idsParam}")`);
  if (parts.length > MAX_SHOW_MANY) return legacyError(400, 'InvalidValue', `ids may name at most ${MAX_SHOW_MANY} tickets (got ${parts.length})`);
  const sideload = parseInclude(params.get('include'));
  if (!sideload.ok) return legacyError(400, 'InvalidValue', sideload.problem);

  const { deleted, scrubbed, forbidden, seed } = store.options;
  const gone = new Set([...deleted, ...scrubbed, ...forbidden]);
  const ids = [...new Set(parts.map(Number))].filter((id) => store.exists(id) && !gone.has(id));
  const tickets = ids.map((id) => store.exportTicket(id));
  return jsonReply(200, {
    tickets: tickets.map((t) => ({ url: `${origin}/api/v2/tickets/${t.id}.json`, ...t })),
    ...sideloads(seed, tickets, sideload.include, store.shiftSec, store.users),
    next_page: null,
    previous_page: null,
    count: tickets.length,
  });
}

/** GET /api/v2/{groups,brands,organizations}[.json] with page[size], page[after], page[before]. */
export function listPage(store: TicketStore, name: ListName, params: URLSearchParams, origin: string): Reply {
  const records: ZendeskRecord[] = LISTS[name](store.options.seed);
  const invalid = (title: string) => listError(400, 'InvalidPaginationParameter', title);
  const sizeParam = params.get('page[size]');
  if (sizeParam !== null && !/^\d+$/.test(sizeParam)) return invalid('page[size] is not valid');
  const size = sizeParam === null ? MAX_LIST_PAGE : Number(sizeParam);
  if (size < 1 || size > MAX_LIST_PAGE) return invalid(`page[size] must be between 1 and ${MAX_LIST_PAGE}`);
  const afterParam = params.get('page[after]');
  const beforeParam = params.get('page[before]');
  if (afterParam !== null && beforeParam !== null) return invalid('page[after] and page[before] cannot be used together');

  let start = 0;
  let end = Math.min(records.length, size);
  if (afterParam !== null || beforeParam !== null) {
    const cursor = decodeListCursor((afterParam ?? beforeParam)!);
    const direction = afterParam !== null ? 'after' : 'before';
    if (!cursor || cursor.list !== LIST_NUMBER[name] || cursor.direction !== direction || cursor.index < 0 || cursor.index > records.length) {
      return invalid(`page[${direction}] is not valid`);
    }
    if (direction === 'after') {
      start = cursor.index;
      end = Math.min(records.length, start + size);
    } else {
      end = cursor.index;
      start = Math.max(0, end - size);
    }
  }
  const page = records.slice(start, end).map((record) => shiftedRecord(record, store.shiftSec));
  const hasMore = end < records.length;
  const after = page.length > 0 ? encodeListCursor({ list: LIST_NUMBER[name], index: end, direction: 'after' }) : null;
  const before = page.length > 0 ? encodeListCursor({ list: LIST_NUMBER[name], index: start, direction: 'before' }) : null;
  const link = (key: string, cursor: string | null) => {
    if (cursor === null) return null;
    const query = new URLSearchParams({ 'page[size]': String(size), [key]: cursor });
    return `${origin}/api/v2/${name}.json?${query.toString()}`;
  };
  return jsonReply(200, {
    [name]: page,
    meta: { has_more: hasMore, after_cursor: after, before_cursor: before },
    links: { next: hasMore ? link('page[after]', after) : null, prev: start > 0 ? link('page[before]', before) : null },
  });
}
