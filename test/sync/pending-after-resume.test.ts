// A comment a ticket.comment_added webhook announced must be in the read that clears it. Whether a
// saved after_cursor returns events appended later is not documented (resuming from it is an
// optimisation, a read from the first event the safe fallback). This server answers a cursor as a
// snapshot would: only the events the log had when the cursor was given. A ticket longer than one
// page resumes from its cursor, so the resumed read misses the new comment and stores nothing; the
// run then reads the ticket again from its first event, once. A comment that read does not find
// either is cleared with it, and costs no full read on later syncs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addPendingComments } from '../../src/db/pending-comments.ts';
import type { SyncDeps } from '../../src/sync/sync-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { comment, depsFor, FIRST_NUMBER, startSnapshotLog, syncAsking, type SnapshotLog } from '../helpers/snapshot-log.ts';

let zendesk: SnapshotLog;
let deps: SyncDeps;
let logLength: Map<number, number>;

const database = useTestDatabase();
beforeAll(async () => {
  zendesk = await startSnapshotLog();
  logLength = zendesk.logLength;
  deps = depsFor(zendesk, database.db);
});
afterAll(async () => {
  await zendesk.close();
});

/** Syncs the ticket; returns the run's result and the page[after] of each of its requests. */
async function sync(ticketId: number) {
  const { result, asked } = await syncAsking(deps, zendesk, ticketId);
  const requests = asked.map((query) => query.get('page[after]'));
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
