// A page whose events the mapper left as they came is stored from the response body itself:
// Postgres reads each event's `raw` from the text Zendesk sent, not from JavaScript's copy. These
// pages come from a small HTTP server answering with exact bytes, which the simulator (writing
// its pages with JSON.stringify) cannot: numbers JavaScript would round, and escapes Postgres
// refuses in a part of the page no row is made from.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { messagingEvent } from './events.ts';

/** Ticket id → the one page its log answers with, as text (sent as UTF-8) or exact bytes. */
const pages = new Map<number, string | Buffer>();
let server: Server;
let deps: SyncDeps;

const database = useTestDatabase();
beforeAll(async () => {
  server = createServer((req, res) => {
    const ticketId = Number(/\/tickets\/(\d+)\/conversation_log/.exec(req.url ?? '')?.[1]);
    const page = pages.get(ticketId);
    res.writeHead(page === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
    res.end(page ?? '{"error":"RecordNotFound"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const http = createZendeskHttp({ baseUrl: `http://127.0.0.1:${port}`, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  deps = { db: database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false };
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

/** A one-page log of these events (JSON texts), exactly as written. */
function page(events: string[]): string {
  return `{"events":[${events.join(',')}],"meta":{"has_more":false,"after_cursor":"c1","before_cursor":"c0"},"links":{"next":null,"prev":null}}`;
}

/**
 * A messaging event as JSON text, with `extra` (JSON text) added to its metadata. Its id follows
 * its reference, so that events of one second keep the same order whichever tests ran before.
 */
function eventText(reference: string, extra: string): string {
  const event = messagingEvent({ reference, id: `EVT-${reference}` });
  const text = JSON.stringify(event);
  return text.replace('"metadata":{', `"metadata":{${extra},`);
}

const stored = async (ticketId: number) =>
  (
    await database.pool.query<{ reference: string; big: string; price: string; body_text: string }>(
      `select reference, raw #>> '{metadata,big}' as big, raw #>> '{metadata,price}' as price, body_text
         from zendesk.conversation_events where ticket_id = $1 order by position`,
      [ticketId],
    )
  ).rows;

it('stores each event as Zendesk wrote it, numbers JavaScript would round included, and a re-read writes nothing', async () => {
  pages.set(1, page([eventText('zen:1:a', '"big":12345678901234567890,"price":1.50'), eventText('zen:1:b', '"big":9007199254740993,"price":2')]));
  const first = await syncTicket(deps, 1);
  expect(first).toMatchObject({ status: 'synced', events: 2, eventsWritten: 2 });
  // JSON.parse gives 12345678901234567000 and 9007199254740992; jsonb keeps the digits and the scale.
  expect(await stored(1)).toMatchObject([
    { reference: 'zen:1:a', big: '12345678901234567890', price: '1.50' },
    { reference: 'zen:1:b', big: '9007199254740993', price: '2' },
  ]);
  const again = await syncTicket(deps, 1, { full: true });
  expect(again).toMatchObject({ status: 'synced', events: 2, eventsWritten: 0 });
});

it('stores the page from its rows when Postgres refuses the body: a NUL in an earlier copy of a re-sent event', async () => {
  // The earlier copy is skipped by the mapper (the last one wins), so every row is as received,
  // but jsonb cannot hold the escaped NUL that the body still carries.
  const earlier = eventText('zen:2:a', '"note":"before\\u0000after"');
  pages.set(2, page([earlier, eventText('zen:2:b', '"price":3'), eventText('zen:2:a', '"price":4')]));
  const result = await syncTicket(deps, 2);
  expect(result).toMatchObject({ status: 'synced', events: 3, eventsWritten: 2 });
  expect((await stored(2)).map((row) => [row.reference, row.price])).toEqual([
    ['zen:2:a', '4'],
    ['zen:2:b', '3'],
  ]);
});

it('stores a page whose event had to be repaired from its rows, the repair kept', async () => {
  pages.set(3, page([eventText('zen:3:a', '"price":5').replace('"text":"message', '"text":"a\\u0000b message')]));
  const result = await syncTicket(deps, 3);
  expect(result).toMatchObject({ status: 'synced', eventsWritten: 1 });
  const [row] = await stored(3);
  expect(row.price).toBe('5');
  expect(row.body_text).toMatch(/^ab message/);
});

it('under redaction, sends Postgres no response body: what the mapper skipped could hold what was to be redacted', async () => {
  // The earlier copy of zen:4:a has an IP address; the kept copy has none, so no row changed. Only
  // the rows went to Postgres, as JavaScript wrote them: its big number is rounded.
  const earlier = eventText('zen:4:a', '"system":{"ip_address":"203.0.113.9"}').replace('"system":{},', '');
  pages.set(4, page([earlier, eventText('zen:4:a', '"big":12345678901234567890')]));
  const result = await syncTicket({ ...deps, redactSystemMetadata: true }, 4);
  expect(result).toMatchObject({ status: 'synced', eventsWritten: 1 });
  expect((await stored(4))[0].big).toBe('12345678901234567000');
});

it('stores characters beyond Latin-1, in values and keys, as Zendesk sent them', async () => {
  const text = 'Grüße – das Paket 📦 kam nicht an';
  const event = eventText('zen:5:a', '"labels":{"Straße":"Nº 5"},"price":6').replace('"text":"message', `"text":"${text}`);
  pages.set(5, page([event]));
  const result = await syncTicket(deps, 5);
  expect(result).toMatchObject({ status: 'synced', eventsWritten: 1 });
  const { rows } = await database.pool.query(
    `select body_text, raw #>> '{content,text}' as text, raw #> '{metadata,labels}' as labels, author_key
       from zendesk.conversation_events where ticket_id = 5`,
  );
  expect(rows).toEqual([{ body_text: expect.stringMatching(new RegExp(`^${text}`)), text: expect.stringMatching(new RegExp(`^${text}`)), labels: { Straße: 'Nº 5' }, author_key: expect.any(String) }]);
  // The row and raw agree: a re-read changes nothing.
  expect(await syncTicket(deps, 5, { full: true })).toMatchObject({ status: 'synced', eventsWritten: 0 });
});

it('stores a page with bytes that are not UTF-8 from its rows, each such byte a replacement character', async () => {
  const [before, after] = page([eventText('zen:6:a', '"price":7').replace('"text":"message', '"text":"caf@ message')]).split('@');
  pages.set(6, Buffer.concat([Buffer.from(before), Buffer.from([0xe9]), Buffer.from(after)]));
  const result = await syncTicket(deps, 6);
  expect(result).toMatchObject({ status: 'synced', eventsWritten: 1 });
  const [row] = await stored(6);
  expect(row.price).toBe('7');
  expect(row.body_text).toMatch(/^caf\uFFFD message/);
});

it('stores a page with a number past what Postgres numeric holds from its rows, as JavaScript read it', async () => {
  // JSON.parse reads 1e200000 as Infinity, so the mapper left the event as it came, but jsonb
  // refuses the body ("value overflows numeric format"); JSON.stringify writes Infinity as null.
  pages.set(7, page([eventText('zen:7:a', '"big":1e200000,"price":8')]));
  const result = await syncTicket(deps, 7);
  expect(result).toMatchObject({ status: 'synced', eventsWritten: 1 });
  expect(await stored(7)).toMatchObject([{ reference: 'zen:7:a', big: null, price: '8' }]);
});
