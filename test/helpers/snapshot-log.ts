// A Zendesk conversation log whose saved after_cursor behaves as a snapshot would: it returns only
// the events the log had when the cursor was given. Whether Zendesk's own cursors return events
// appended later is not documented; convlog must not depend on it. Newest first (`sort=-created_at`)
// it serves the log as it is now, unless told to refuse `sort`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { syncTicket, type SyncDeps, type SyncResult } from '../../src/sync/sync-ticket.ts';
import { localBudget } from '../../src/zendesk/index.ts';
import { clientFor } from '../zendesk/helpers.ts';

export const FIRST_NUMBER = 9_000_000_000_000;

const DEFAULT_EPOCH_MS = Date.UTC(2025, 3, 22, 9, 0, 0);

/**
 * An event shaped as the reference page's Comment example; its comment number is in `reference`.
 * Written `n` seconds after `epochMs`.
 */
export function comment(n: number, epochMs = DEFAULT_EPOCH_MS) {
  return {
    attachments: [],
    author: { display_name: 'sample user', type: 'user', 'zen:support:user_id': 8303911923701 },
    content: { body: `<div class="zd-comment" dir="auto"><p dir="auto">message ${n}</p></div>`, type: 'html' },
    created_at: new Date(Math.floor(epochMs / 1000) * 1000 + n * 1000).toISOString().replace('.000Z', 'Z'),
    id: `01JSED0VSGBJP9TJ471NT${String(n).padStart(5, '0')}`,
    metadata: { custom: {}, public: true, system: {}, ticket_version: n },
    reference: `zen:ticket_event:${FIRST_NUMBER + n}`,
    type: 'Comment',
  };
}

export interface SnapshotLog {
  url: string;
  /** Each ticket's log, by number of events; raising it appends the next comments. */
  logLength: Map<number, number>;
  /** Each request's query, per ticket, in order. */
  asked: Map<number, URLSearchParams[]>;
  /** Answers a request with `sort` 400 InvalidPaginationParameter, as an account that took none would. */
  refuseSort: boolean;
  /** When comment 0 was written (comment(n, epochMs)). */
  epochMs: number;
  close(): Promise<void>;
}

// A cursor holds its offset and the log's length when it was given.
const cursorOf = (offset: number, length: number) => Buffer.from(JSON.stringify({ offset, length })).toString('base64');
const fromCursor = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64').toString()) as { offset: number; length: number };

export async function startSnapshotLog(): Promise<SnapshotLog> {
  const log: Omit<SnapshotLog, 'url' | 'close'> = { logLength: new Map(), asked: new Map(), refuseSort: false, epochMs: DEFAULT_EPOCH_MS };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ticketId = Number(/\/api\/v2\/tickets\/(\d+)\/conversation_log$/.exec(url.pathname)?.[1]);
    log.asked.set(ticketId, [...(log.asked.get(ticketId) ?? []), url.searchParams]);
    const headers = { 'content-type': 'application/json', 'Zendesk-RateLimit-omnilog-index': 'total=100; remaining=90; resets=30' };
    const size = Number(url.searchParams.get('page[size]'));
    const now = log.logLength.get(ticketId) ?? 0;
    if (url.searchParams.get('sort') === '-created_at') {
      if (log.refuseSort) {
        res.writeHead(400, headers).end(JSON.stringify({ errors: [{ code: 'InvalidPaginationParameter', title: 'sort is not valid' }] }));
        return;
      }
      const events = Array.from({ length: Math.min(size, now) }, (_, i) => comment(now - 1 - i, log.epochMs));
      res.writeHead(200, headers).end(JSON.stringify({ events, links: {}, meta: { after_cursor: now > size ? 'older-events' : null, before_cursor: null, has_more: now > size } }));
      return;
    }
    const after = url.searchParams.get('page[after]');
    const { offset, length } = after === null ? { offset: 0, length: now } : fromCursor(after);
    const end = Math.min(offset + size, length);
    const events = Array.from({ length: end - offset }, (_, i) => comment(offset + i, log.epochMs));
    const body = { events, links: {}, meta: { after_cursor: cursorOf(end, length), before_cursor: null, has_more: end < length } };
    res.writeHead(200, headers).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(log, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** Sync dependencies reading `log`, `pageSize` events a request (5: a ticket of 7 is two pages). */
export function depsFor(log: SnapshotLog, db: Db, pageSize = 5): SyncDeps {
  return { db, http: clientFor(log.url), budget: localBudget(), log: silentLogger, redactSystemMetadata: false, pageSize };
}

/** Syncs the ticket: the run's result, and the query of each request it sent. */
export async function syncAsking(deps: SyncDeps, log: SnapshotLog, ticketId: number): Promise<{ result: SyncResult; asked: URLSearchParams[] }> {
  log.asked.delete(ticketId);
  const result = await syncTicket(deps, ticketId);
  return { result, asked: log.asked.get(ticketId) ?? [] };
}
