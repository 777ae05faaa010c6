// A page's rows made into the page statement's parameters (src/db/store-page.ts), the costly
// part of storing a page, done while the previous page is still being written.
import type { PageProgress, PageRows, PreparedPage } from './store-page.ts';

/** The response a page's events were parsed from. */
export interface ReceivedPage {
  /** The events as parsed, in the response's order. */
  events: readonly unknown[];
  /** The response body they were parsed from, as received. */
  bytes: Buffer;
}

/**
 * The statement's parameters for a page, but for the two in which the ways of sending it differ:
 * the event rows and the response body, in the order of the statement's ($1 to $10, store-page.ts).
 * Only strings and numbers are kept.
 */
function statementValues(rows: PageRows, progress: PageProgress): (events: string, body: Buffer | null) => unknown[] {
  const authors = JSON.stringify(rows.authors);
  const attachments = JSON.stringify(rows.attachments);
  const thumbnails = JSON.stringify(rows.thumbnails);
  const { ticketId, afterCursor, requests, run } = progress;
  const eventCount = rows.events.length;
  return (events, body) => [authors, events, attachments, thumbnails, ticketId, afterCursor, eventCount, requests, body, run];
}

/**
 * Serialises a page. When every event row's `raw` is the very object parsed from `received` (the
 * mapper changed none: nothing sanitised or redacted), the rows go without it and Postgres reads
 * each event from the response body instead. Serialising the events again took about as long as
 * everything else the worker does with a page, and the body keeps the event exactly as sent
 * (numbers too, which JavaScript would round).
 */
export function preparePage(rows: PageRows, progress: PageProgress, received?: ReceivedPage): PreparedPage {
  const valuesWith = statementValues(rows, progress);
  const withRaw = () => ({ values: valuesWith(JSON.stringify(rows.events), null) });
  if (received === undefined) return withRaw();
  const indexOf = new Map(received.events.map((event, index) => [event, index]));
  const byIndex: unknown[] = [];
  for (const row of rows.events) {
    const pageIndex = indexOf.get(row.raw);
    if (pageIndex === undefined) return withRaw();
    byIndex.push({ ...row, raw: undefined, pageIndex });
  }
  const events = JSON.stringify(byIndex);
  const { bytes } = received;
  return { values: valuesWith(events, asJsonb(bytes)), withRawInRows: () => valuesWith(rawFromBody(events, bytes), null) };
}

/**
 * The body as a jsonb parameter in binary form: a version byte, then the JSON text. The bytes
 * go as they came, instead of being decoded to a string and encoded to UTF-8 again.
 */
function asJsonb(bytes: Buffer): Buffer {
  return Buffer.concat([JSONB_VERSION, bytes]);
}
const JSONB_VERSION = Buffer.from([1]);

/** The rows sent by place in the response (`events`), each given its event from the body again. */
function rawFromBody(events: string, bytes: Buffer): string {
  const received = (JSON.parse(new TextDecoder().decode(bytes)) as { events: unknown[] }).events;
  const rows = (JSON.parse(events) as { pageIndex: number }[]).map(({ pageIndex, ...row }) => ({ ...row, raw: received[pageIndex] }));
  return JSON.stringify(rows);
}
