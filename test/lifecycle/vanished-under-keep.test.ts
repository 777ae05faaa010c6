// CONVLOG_ON_DELETE=keep keeps a ticket in Zendesk's bin, which an agent can bring back. An event or
// a file gone from a live ticket's log is another thing: a redaction or a deleted comment, erased
// in Zendesk for good. Under keep those rows were only marked, the file's name, its URLs (with
// their tokens) and its thumbnails staying in Postgres. Now a full read removes them whatever the
// setting. Real simulator (behind a proxy that drops an event), real Postgres.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { startProxy, type ZendeskProxy } from './zendesk-proxy.ts';

let fixture: Fixture;
let proxy: ZendeskProxy;
let keep: SyncDeps;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 12, ticketSizes: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i + 1, 30])) });
  proxy = await startProxy(fixture.sim.url);
  const http = createZendeskHttp({ baseUrl: proxy.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  keep = { db: fixture.database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false, onDelete: 'keep' };
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.close();
});

const count = async (text: string, values: unknown[]) => Number((await fixture.database.pool.query<{ n: string }>(text, values)).rows[0].n);

it('under keep, a full read removes the events, files and thumbnails a live ticket no longer lists, instead of marking them', async () => {
  // A ticket with a file that has thumbnails, and another event to drop.
  const ticketId = Array.from({ length: 12 }, (_, i) => i + 1).find((id) => fixture.sim.events(id).some((e) => e.attachments.some((a) => (a.thumbnails ?? []).length > 0)))!;
  expect(ticketId).toBeDefined();
  await syncTicket(keep, ticketId);
  const withFile = fixture.sim.events(ticketId).find((e) => e.attachments.some((a) => (a.thumbnails ?? []).length > 0))!;
  const file = withFile.attachments.find((a) => (a.thumbnails ?? []).length > 0)!;
  const dropped = fixture.sim.events(ticketId).find((e) => e.reference !== withFile.reference && e.attachments.length === 0)!;
  expect(await count('select count(*) as n from zendesk.attachment_thumbnails where attachment_id = $1', [file.id])).toBe(file.thumbnails!.length);

  fixture.sim.editEvent(ticketId, withFile.reference, (event) => void (event.attachments = event.attachments.filter((a) => a.id !== file.id)));
  proxy.plan.dropReferences.add(dropped.reference);
  try {
    const result = await syncTicket(keep, ticketId, { full: true });
    expect(result.status).toBe('synced');
  } finally {
    proxy.plan.dropReferences.clear();
  }
  // Gone, not marked: no row holds the file's name or URLs any more.
  expect(await count('select count(*) as n from zendesk.attachments where id = $1', [file.id])).toBe(0);
  expect(await count('select count(*) as n from zendesk.attachment_thumbnails where attachment_id = $1 or id = any($2::bigint[])', [file.id, file.thumbnails!.map((t) => t.id)])).toBe(0);
  expect(await count('select count(*) as n from zendesk.conversation_events where reference = $1', [dropped.reference])).toBe(0);
  // The rest of the ticket is live and unmarked.
  expect(await count('select count(*) as n from zendesk.conversation_events where ticket_id = $1 and deleted_at is null', [ticketId])).toBe(29);
  expect(await count('select count(*) as n from zendesk.conversation_events where ticket_id = $1 and deleted_at is not null', [ticketId])).toBe(0);
});
