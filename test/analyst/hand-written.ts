// Hand-written tickets for the definition tests: a few conversation-log events in the API's JSON
// shape (as test/fixtures/seed-page.json and src/simulator/generate.ts write them), stored the way
// syncTicket stores a ticket read from its first event: startRun, then each page mapped by the
// production mapper and written by storePage, then endFullRead, the run's end. Nothing here computes an expected answer: the tests write those out by hand.
import type { Db } from '../../src/db/connection.ts';
import { endFullRead, SeenRows } from '../../src/db/full-read.ts';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { saveExportPage, storeTicketContext } from '../../src/db/tickets.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { exportedTicket } from '../sync/tickets.ts';

export type Author = Record<string, unknown>;

/** A Support user (a customer by email or web form, or an agent), as a comment names its author. */
export function supportUser(type: 'user' | 'agent', supportId: number, name: string): Author {
  return { display_name: name, type, 'zen:support:user_id': supportId };
}

/** A messaging end user: Sunshine Conversations id only, as for a widget visitor. */
export function visitor(suncoId: string, name = 'Visitor'): Author {
  return { display_name: name, type: 'user', 'zen:sunco:user_id': suncoId };
}

/** The bot: Support id -1 (which never becomes its key) and a Sunshine Conversations id. */
export const BOT: Author = {
  avatar_url: 'https://static.zdassets.com/web_widget/latest/default_avatar.png',
  display_name: 'SampleBot',
  type: 'bot',
  'zen:sunco:user_id': 'bot-sample',
  'zen:support:user_id': -1,
};

// References are the table's primary key across all tickets, so they come from one counter.
let counter = 0;
const next = () => (counter += 1);
/** ULID-like, increasing with the counter: within a second, ids sort in the order events were written here. */
const eventId = (n: number) => `01HX${n.toString(36).toUpperCase().padStart(22, '0')}`;

interface EventOptions {
  id?: string;
  reference?: string;
  text?: string;
}

/** A Comment (email, web form, agent workspace): no received_at, metadata.public says note or not. */
export function comment(at: string, author: Author, options: EventOptions & { public?: boolean } = {}): ApiEvent {
  const n = next();
  return {
    attachments: [],
    author,
    content: { body: `<p>${options.text ?? `comment ${n}`}</p>`, type: 'html' },
    created_at: at,
    id: options.id ?? eventId(n),
    metadata: { custom: {}, public: options.public ?? true, system: {}, ticket_version: 0 },
    reference: options.reference ?? `zen:ticket_event:${9_000_000 + n}`,
    type: 'Comment',
  };
}

/**
 * A messaging message. `receivedAt` defaults to the created_at second plus 500 ms (Zendesk gives
 * created_at in whole seconds and received_at to the millisecond); null leaves it out.
 */
export function message(at: string, author: Author, options: EventOptions & { receivedAt?: string | null; source?: string } = {}): ApiEvent {
  const n = next();
  const receivedAt = options.receivedAt === undefined ? at.replace(/Z$/, '.500Z') : options.receivedAt;
  const role = author.type;
  return {
    attachments: [],
    author,
    content: { text: options.text ?? `message ${n}`, type: 'text' },
    created_at: at,
    id: options.id ?? eventId(n),
    metadata: { custom: {}, system: {}, ticket_version: 0 },
    ...(receivedAt === null ? {} : { received_at: receivedAt }),
    reference: options.reference ?? `zen:sunco:conversation_message:${n.toString(16).padStart(24, '0')}`,
    source: { type: options.source ?? (role === 'bot' ? 'zd:answerBot' : role === 'agent' ? 'zd:agentWorkspace' : 'web') },
    type: 'Messaging::ConversationMessage',
  };
}

/** The bot hands the conversation to a human: Messaging::ConversationStatusChange, transferred_to_agent. */
export function transferToAgent(at: string): ApiEvent {
  const n = next();
  return {
    attachments: [],
    author: BOT,
    content: { status: 'transferred_to_agent', type: 'status' },
    created_at: at,
    id: eventId(n),
    metadata: { custom: {}, system: {}, ticket_version: 0 },
    received_at: at.replace(/Z$/, '.500Z'),
    reference: `zen:ticket_event:${9_000_000 + n}`,
    source: { type: 'zd:answerBot' },
    type: 'Messaging::ConversationStatusChange',
  };
}

/**
 * Stores `events` as ticket `ticketId`, `pageSize` events a page in the order given, exactly as
 * syncTicket does for a read from the first event (src/sync/sync-ticket.ts).
 */
export async function storeTicket(db: Db, ticketId: number, events: readonly ApiEvent[], options: { pageSize?: number } = {}): Promise<void> {
  const pageSize = options.pageSize ?? 100;
  const { run } = await startRun(db, ticketId, { full: true });
  const seen = new SeenRows();
  for (let start = 0; start < events.length; start += pageSize) {
    const page = events.slice(start, start + pageSize);
    const rows = mapPage(page, { ticketId });
    for (const event of page) seen.references.add(event.reference);
    for (const file of rows.attachments) seen.attachments.add(file.id);
    for (const thumbnail of rows.thumbnails) seen.thumbnails.add(thumbnail.id);
    const more = start + pageSize < events.length;
    await storePage(db, preparePage(rows, { ticketId, run, afterCursor: more ? `after-${start + pageSize}` : `end-${ticketId}`, requests: 1 }));
  }
  await endFullRead(db, ticketId, seen, run);
}

/**
 * The ticket's own row (zendesk.tickets), as a read by id stores it: only its status matters here.
 * Status 'deleted' is how the export reports a deleted ticket (tickets.deleted becomes true): it
 * is stored as an export page's statement stores it, before the purge the backfill then makes (a
 * read by id stores no deleted state).
 */
export async function storeTicketStatus(db: Db, ticketId: number, status: 'open' | 'solved' | 'closed' | 'deleted'): Promise<void> {
  // Reported now: a deletion older than the ticket's last sync would be a stale one (restored since).
  const generated_timestamp = Math.floor(Date.now() / 1000);
  const rows = mapTicketContext({ tickets: [exportedTicket({ id: ticketId, status, generated_timestamp, url: `https://acme.zendesk.com/api/v2/tickets/${ticketId}.json` })] });
  if (status === 'deleted') await saveExportPage(db, rows, { cursor: null, position: null });
  else await storeTicketContext(db, rows);
}
