// A comment a ticket.comment_added webhook announced must be in the read that clears it. Whether a
// saved after_cursor returns events appended later is not documented (resuming from it is an
// optimisation, a read from the first event the safe fallback). This server answers a cursor as a
// snapshot would: only the events the log had when the cursor was given. A ticket longer than one
// page resumes from its cursor, so the resumed read misses the new comment and stores nothing; the
// run then reads the ticket again from its first event, once. A comment that read does not find
// either is cleared with it, and costs no full read on later syncs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { addPendingComments } from '../../src/db/pending-comments.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { localBudget } from '../../src/zendesk/index.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { clientFor } from '../zendesk/helpers.ts';

const PAGE = 5;
const FIRST_NUMBER = 9_000_000_000_000;

/** An event shaped as the reference page's Comment example; its comment number is in `reference`. */
function comment(n: number) {
  return {
    attachments: [],
    author: { display_name: 'sample user', type: 'user', 'zen:support:user_id': 8303911923701 },
    content: { body: `<div class="zd-comment" dir="auto"><p dir="auto">message ${n}</p></div>`, type: 'html' },
    created_at: new Date(Date.UTC(2025, 3, 22, 9, 0, n)).toISOString().replace('.000Z', 'Z'),
    id: `01JSED0VSGBJP9TJ471NT${String(n).padStart(5, '0')}`,
    metadata: { custom: {}, public: true, system: {}, ticket_version: n },
    reference: `zen:ticket_event:${FIRST_NUMBER + n}`,
    type: 'Comment',
  };
}

/** Each ticket's log, by number of events; appending one adds the next comment. */
const logLength = new Map<number, number>();
/** The page[after] of each request, per ticket: null for a request of the first page. */
const asked = new Map<number, (string | null)[]>();

// A cursor holds its offset and the log's length when it was given: what a snapshot cursor returns.
const cursorOf = (offset: number, length: number) => Buffer.from(JSON.stringify({ offset, length })).toString('base64');
const fromCursor = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64').toString()) as { offset: number; length: number };

let server: http.Server;
let deps: SyncDeps;

const database = useTestDatabase();
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ticketId = Number(/\/api\/v2\/tickets\/(\d+)\/conversation_log$/.exec(url.pathname)?.[1]);
    const after = url.searchParams.get('page[after]');
    asked.set(ticketId, [...(asked.get(ticketId) ?? []), after]);
    const size = Number(url.searchParams.get('page[size]'));
    const { offset, length } = after === null ? { offset: 0, length: logLength.get(ticketId) ?? 0 } : fromCursor(after);
    const end = Math.min(offset + size, length);
    const events = Array.from({ length: end - offset }, (_, i) => comment(offset + i));
    const body = { events, links: {}, meta: { after_cursor: cursorOf(end, length), before_cursor: null, has_more: end < length } };
    res.writeHead(200, { 'content-type': 'application/json', 'Zendesk-RateLimit-omnilog-index': 'total=100; remaining=90; resets=30' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  deps = { db: database.db, http: clientFor(baseUrl), budget: localBudget(), log: silentLogger, redactSystemMetadata: false, pageSize: PAGE };
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Syncs the ticket; returns the run's result and the page[after] of each of its requests. */
async function sync(ticketId: number) {
  asked.delete(ticketId);
  const result = await syncTicket(deps, ticketId);
  const requests = asked.get(ticketId) ?? [];
  return { fullRead: result.fullRead, readsFromFirstPage: requests.filter((after) => after === null).length, requests: requests.length };
}

/** What serve records for a comment_added webhook (event.comment.id: the Support comment id). */
async function announce(ticketId: number, commentId: string) {
  await addPendingComments(database.db, [{
    ticketId, commentId, body: 'a new message', isPublic: true, authorZendeskId: 8303911923701, authorName: 'sample user',
    authorIsStaff: false, writtenAt: new Date().toISOString(), webhookEventId: `evt-${commentId}`, raw: {},
  }]);
}

const pendingIds = async (ticketId: number) =>
  (await database.pool.query<{ id: string }>(`select comment_id as id from zendesk.pending_comments where ticket_id = $1`, [ticketId])).rows.map((r) => r.id);
const timelineRow = async (ticketId: number, commentId: string) =>
  (await database.pool.query(
    `select event_id, reference, pending from zendesk.conversation_timeline where ticket_id = $1 and (reference = $2 or event_id = $3)`,
    [ticketId, `zen:ticket_event:${commentId}`, commentId],
  )).rows;

it('a comment the resumed cursor does not return is read from the first event, stored, and no longer pending', async () => {
  const ticketId = 601;
  logLength.set(ticketId, 7);
  // A first sync reads the whole ticket: two pages, and its cursor is saved.
  expect(await sync(ticketId)).toEqual({ fullRead: true, readsFromFirstPage: 1, requests: 2 });
  // Nothing new, nothing pending: a resumed read of one request.
  expect(await sync(ticketId)).toEqual({ fullRead: false, readsFromFirstPage: 0, requests: 1 });

  logLength.set(ticketId, 8);
  const commentId = String(FIRST_NUMBER + 7);
  await announce(ticketId, commentId);
  expect(await timelineRow(ticketId, commentId)).toEqual([{ event_id: commentId, reference: null, pending: true }]);

  // The resumed read returns nothing (a snapshot); the run reads the ticket again from its first event, once.
  const run = await sync(ticketId);
  expect(await timelineRow(ticketId, commentId)).toEqual([{ event_id: comment(7).id, reference: `zen:ticket_event:${commentId}`, pending: false }]);
  expect(await pendingIds(ticketId)).toEqual([]);
  expect(run).toEqual({ fullRead: true, readsFromFirstPage: 1, requests: 1 + 2 });

  // A second sync with nothing new resumes from the cursor and reads nothing from the first event.
  expect(await sync(ticketId)).toEqual({ fullRead: false, readsFromFirstPage: 0, requests: 1 });
});

it('a comment the full read does not find either is cleared with it, and no later sync reads the ticket whole for it', async () => {
  const ticketId = 602;
  logLength.set(ticketId, 7);
  await sync(ticketId);
  // A comment the log does not show (yet), or whose id matches no stored event.
  await announce(ticketId, 'not-in-the-log');

  expect(await sync(ticketId)).toEqual({ fullRead: true, readsFromFirstPage: 1, requests: 1 + 2 });
  expect(await pendingIds(ticketId)).toEqual([]);
  expect(await sync(ticketId)).toEqual({ fullRead: false, readsFromFirstPage: 0, requests: 1 });

  // A comment received before the ticket's last read from the first event began was looked for
  // by that read: it sends no later run back to the first event.
  await announce(ticketId, 'again-not-in-the-log');
  await database.pool.query(`update zendesk.ticket_sync set last_full_read_at = now() where ticket_id = $1`, [ticketId]);
  expect(await sync(ticketId)).toEqual({ fullRead: false, readsFromFirstPage: 0, requests: 1 });
  expect(await pendingIds(ticketId)).toEqual([]);
});
