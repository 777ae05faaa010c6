// Redactions reported by webhook, end to end: the simulator changes a served event and POSTs its
// signed webhook to a real `serve`, and an in-process `work` syncs what serve queued. What was
// redacted must leave every column, `raw` included, and the pending comments. Real Postgres,
// real pg-boss, real simulator.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runWorker } from '../../src/queue/worker.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { startServeWithSimulator, type ServeFixture, type ServeWithSimulator } from './serve-fixture.ts';

// Ticket 1 needs two pages at the production page size, so a plain sync resumes from its cursor
// and never sees its first page again.
const LONG = 1;
let f: ServeFixture;
let sim: Simulator;
let deps: SyncDeps;

let all: ServeWithSimulator;

beforeAll(async () => {
  all = await startServeWithSimulator({ tickets: 3, ticketSizes: { 1: 150, 2: 5, 3: 5 } });
  ({ f, sim, deps } = all);
});
afterAll(async () => {
  await all?.close();
});
beforeEach(async () => {
  await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
});

const query = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;

/** Runs an in-process worker until the queue is empty, as `work --until-idle` does. */
async function work() {
  const stop = new AbortController();
  return runWorker(f.boss, f.database.pool, deps, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());
}

it('an attachment redacted in a long ticket leaves attachments, thumbnails and raw once serve queued the ticket', async () => {
  await syncTicket(deps, LONG);
  // A file with thumbnails on the ticket's first page, which a resumed sync does not read again.
  const index = sim.events(LONG).findIndex((e, i) => i < 100 && e.attachments.some((a) => (a.thumbnails ?? []).length > 0));
  expect(index).toBeGreaterThanOrEqual(0);
  const event = sim.events(LONG)[index];
  const file = event.attachments.find((a) => (a.thumbnails ?? []).length > 0)!;
  const thumbnails = file.thumbnails!.map((t) => t.id);
  expect(await query(`select id::text from zendesk.attachment_thumbnails where attachment_id = $1 order by id`, [file.id])).toHaveLength(thumbnails.length);

  // Zendesk replaces a redacted attachment by an empty redacted.txt, without thumbnails.
  sim.editEvent(LONG, event.reference, (e) => {
    const url = `https://example.zendesk.com/attachments/token/redacted/?name=redacted.txt`;
    e.attachments = e.attachments.map((a) =>
      a.id === file.id
        ? { id: a.id, url: a.url, file_name: 'redacted.txt', content_type: 'text/plain', content_url: url, mapped_content_url: url, size: 0, inline: false, deleted: false, thumbnails: [] }
        : a,
    );
  });
  await sim.webhooks.settled();
  const delivery = sim.webhooks.deliveries.at(-1)!;
  expect(delivery).toMatchObject({ type: 'zen:event-type:ticket.attachment_redacted_from_comment', ticketId: LONG, status: 200 });

  expect((await work()).synced).toBe(1);
  expect(await query(`select file_name from zendesk.attachments where id = $1`, [file.id])).toEqual([{ file_name: 'redacted.txt' }]);
  expect(await query(`select id from zendesk.attachment_thumbnails where attachment_id = $1 or id = any($2::bigint[])`, [file.id, thumbnails])).toEqual([]);
  const [stored] = await query<{ raw: string }>(`select raw::text as raw from zendesk.conversation_events where reference = $1`, [event.reference]);
  expect(stored.raw).not.toContain(file.file_name);
  expect(stored.raw).not.toContain(file.content_url);
});

it('a comment redacted while pending leaves pending_comments and the timeline as serve answers, before any sync', async () => {
  const ticketId = 2;
  await syncTicket(deps, ticketId);
  const [added] = sim.appendEvents(ticketId, 1);
  await sim.webhooks.settled();
  const said = (added.content as { body?: string; text?: string }).body ?? (added.content as { text?: string }).text ?? '';
  expect(said).not.toBe('');
  const pending = () => query(`select comment_id from zendesk.pending_comments where ticket_id = $1`, [ticketId]);
  expect(await pending()).toEqual([{ comment_id: added.id }]);

  sim.editEvent(ticketId, added.reference, (e) => {
    const content = e.content as { body?: string; text?: string };
    if (typeof content.body === 'string') content.body = '▇▇▇▇';
    if (typeof content.text === 'string') content.text = '▇▇▇▇';
  });
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.at(-1)).toMatchObject({ type: 'zen:event-type:ticket.comment_redacted', ticketId, status: 200 });
  // Nothing has synced the ticket yet: its job waits, now as a full re-read.
  expect(await query(`select data->>'full' as full from pgboss.job where name = 'ticket-sync' and state = 'created'`)).toEqual([{ full: 'true' }]);
  expect(await pending()).toEqual([]);
  const shown = await query<{ body_text: string | null }>(`select body_text from zendesk.conversation_timeline where ticket_id = $1`, [ticketId]);
  expect(shown.map((r) => r.body_text).join('\n')).not.toContain(said);

  expect((await work()).synced).toBe(1);
  const [stored] = await query<{ raw: string; body_text: string }>(`select raw::text as raw, body_text from zendesk.conversation_events where reference = $1`, [added.reference]);
  expect(stored.body_text).toBe('▇▇▇▇');
  expect(stored.raw).not.toContain(said);
});
