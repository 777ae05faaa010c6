// A redaction of a ticket's first comment, which Zendesk also copies into the ticket's
// `description`: the redacted text must leave every table of schema zendesk, the tickets row and
// its `raw` included, whether or not anything reads the ticket row again. Real simulator, real
// Postgres, no serve.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { readChangedTickets } from '../../src/sync/ticket-context.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const PAGE = 10;
const SECRET = '4111 1111 1111 1111';
const REDACTED = '▇'.repeat(SECRET.length);
// Zendesk's plain text and convlog's differ for a list (" * first" against "* first"): a
// description whose words are not the comment's new words becomes the comment's new text.
const PARAGRAPHS = `<div class="zd-comment" dir="auto"><p dir="auto">My card is ${SECRET}, please refund it.</p>\n\n<p dir="auto">Thanks</p></div>`;
const WITH_LIST = `<div class="zd-comment" dir="auto"><p dir="auto">My card is ${SECRET}.</p><ul><li>first charge</li><li>second charge</li></ul></div>`;

let f: FixtureWithBoss;
/** Tickets whose log starts with a comment: one page long, and three pages long. */
let short: number[];
let long: number[];
/** A one-page ticket whose log starts with a message with text, not a comment. */
let byMessage: number;

beforeAll(async () => {
  const ticketSizes = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [i + 1, i % 2 === 0 ? 6 : 25]));
  f = await createFixtureWithBoss({ tickets: 16, ticketSizes, accountRateLimit: 0 }, { pageSize: PAGE });
  const startsWithComment = Array.from({ length: 16 }, (_, i) => i + 1).filter((id) => f.sim.events(id)[0].type === 'Comment');
  short = startsWithComment.filter((id) => ticketSizes[id] === 6);
  long = startsWithComment.filter((id) => ticketSizes[id] === 25);
  expect(short.length).toBeGreaterThanOrEqual(2);
  expect(long.length).toBeGreaterThanOrEqual(3);
  byMessage = Array.from({ length: 16 }, (_, i) => i + 1).find((id) => {
    const [first] = f.sim.events(id);
    return ticketSizes[id] === 6 && first.type !== 'Comment' && typeof (first.content as { text?: unknown }).text === 'string';
  })!;
  expect(byMessage).toBeDefined();
});
afterAll(async () => {
  await f?.close();
});

const query = async <T extends object>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;

/** The tables of schema zendesk with a row any column of which (jsonb included) holds `text`. */
async function tablesHolding(text: string): Promise<string[]> {
  const tables = await query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'zendesk' and table_type = 'BASE TABLE' order by 1`,
  );
  const holding: string[] = [];
  for (const { name } of tables) {
    const [{ found }] = await query<{ found: boolean }>(`select exists (select from zendesk."${name}" t where strpos(t::text, $1) > 0) as found`, [text]);
    if (found) holding.push(name);
  }
  return holding;
}

const readById = (ticketId: number) =>
  readChangedTickets({ db: f.database.db, http: f.deps.http, budget: localBudget(), log: silentLogger }, [ticketId], { brandsList: false });
const description = async (ticketId: number) => (await query<{ d: string }>(`select raw->>'description' as d from zendesk.tickets where id = $1`, [ticketId]))[0].d;

/** The customer's first comment, with the secret in it; then its ticket row read by id (as serve reads it) and its log stored. */
async function storedWithSecret(ticketId: number, body: string): Promise<string> {
  const reference = f.sim.events(ticketId)[0].reference;
  f.sim.editEvent(ticketId, reference, (event) => void (event.content = { body, type: 'html' }));
  expect(f.sim.ticket(ticketId).description).toContain(SECRET);
  await readById(ticketId);
  await syncTicket(f.deps, ticketId);
  // What the rest of the test removes is there to begin with.
  expect(await tablesHolding(SECRET)).toEqual(['conversation_events', 'tickets']);
  return reference;
}

const redact = (ticketId: number, reference: string) =>
  f.sim.editEvent(ticketId, reference, (event) => {
    const content = event.content as { type: string; body: string };
    content.body = content.body.replace(SECRET, REDACTED);
  });

it('a plain sync of a one-page ticket takes the redaction into the ticket row: the comment’s new text, here Zendesk’s copy', async () => {
  const [ticketId] = short;
  const reference = await storedWithSecret(ticketId, PARAGRAPHS);
  redact(ticketId, reference);
  const result = await syncTicket(f.deps, ticketId);
  expect(result.fullRead).toBe(true);
  expect(await tablesHolding(SECRET)).toEqual([]);
  // Zendesk's plain text of paragraphs is convlog's: the description is what Zendesk now serves.
  const zendesk = f.sim.ticket(ticketId).description;
  expect(zendesk).toContain(REDACTED);
  expect(await description(ticketId)).toBe(zendesk);
});

it('a full read of a long ticket does it too, and a description worded otherwise becomes the comment’s new text', async () => {
  const [ticketId] = long;
  const reference = await storedWithSecret(ticketId, WITH_LIST);
  redact(ticketId, reference);
  // A plain sync resumes from the cursor and cannot see the first page: the full read does.
  await syncTicket(f.deps, ticketId, { full: true });
  expect(await tablesHolding(SECRET)).toEqual([]);
  const [{ body_text: text }] = await query<{ body_text: string }>(`select body_text from zendesk.conversation_events where reference = $1`, [reference]);
  expect(text).toContain(REDACTED);
  expect(await description(ticketId)).toBe(text);
});

it('a backfill after the redaction stores Zendesk’s redacted copy, which the next sync leaves as it is', async () => {
  const ticketId = short[1];
  const reference = await storedWithSecret(ticketId, WITH_LIST);
  redact(ticketId, reference);
  await runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger },
    { since: nowSec() - 400 * DAY },
  );
  const zendesk = f.sim.ticket(ticketId).description;
  expect(await description(ticketId)).toBe(zendesk);
  expect(await tablesHolding(SECRET)).toEqual(['conversation_events']);
  await syncTicket(f.deps, ticketId);
  expect(await tablesHolding(SECRET)).toEqual([]);
  expect(await description(ticketId)).toBe(zendesk);
});

const fullRead = async (ticketId: number) => expect((await syncTicket(f.deps, ticketId, { full: true })).status).toBe('synced');
const bodyText = async (reference: string) =>
  (await query<{ body_text: string }>(`select body_text from zendesk.conversation_events where reference = $1`, [reference]))[0].body_text;

it('a change of the first comment’s rendering alone (its words the same) leaves the description', async () => {
  const ticketId = long[1];
  const reference = await storedWithSecret(ticketId, WITH_LIST);
  const before = await description(ticketId);
  const textBefore = await bodyText(reference);
  f.sim.editEvent(ticketId, reference, (event) => {
    const content = event.content as { type: string; body: string };
    content.body = content.body.replace('first charge', 'first<br>charge');
  });
  await fullRead(ticketId);
  expect(await bodyText(reference)).not.toBe(textBefore);
  expect(await description(ticketId)).toBe(before);
});

it('an edit appending to the first comment, Zendesk’s copy of it stored first, is not doubled', async () => {
  const ticketId = long[2];
  const reference = await storedWithSecret(ticketId, PARAGRAPHS);
  f.sim.editEvent(ticketId, reference, (event) => {
    const content = event.content as { type: string; body: string };
    content.body = content.body.replace('</div>', '<p dir="auto">Order 1234, sent to 5 Elm St</p></div>');
  });
  // serve's read at the webhook: Zendesk's copy of the edited comment.
  await readById(ticketId);
  const zendesk = f.sim.ticket(ticketId).description;
  expect(zendesk).toContain('5 Elm St');
  expect(await description(ticketId)).toBe(zendesk);
  await fullRead(ticketId);
  expect(await description(ticketId)).toBe(zendesk);
});

it('a ticket opened by a message keeps its description when that message is edited', async () => {
  const ticketId = byMessage;
  const { reference } = f.sim.events(ticketId)[0];
  await readById(ticketId);
  await fullRead(ticketId);
  // A description holding the message's text (a transcript): it is no copy of a comment.
  const text = await bodyText(reference);
  const transcript = `Conversation with the customer\n\n${text}\nEnd of conversation`;
  await query(`update zendesk.tickets set raw = jsonb_set(raw, '{description}', to_jsonb($2::text)) where id = $1`, [ticketId, transcript]);
  f.sim.editEvent(ticketId, reference, (event) => {
    const content = event.content as { type: string; text: string };
    content.text = `${content.text} there`;
  });
  await fullRead(ticketId);
  expect(await bodyText(reference)).toBe(`${text} there`);
  expect(await description(ticketId)).toBe(transcript);
});
