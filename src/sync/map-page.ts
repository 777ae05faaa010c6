// The pure step between fetching a page and writing it: one page of API events in, the rows
// of four tables out. Each table's rows have unique keys, because Postgres refuses to touch
// one row twice in a single INSERT ... ON CONFLICT DO UPDATE.
import type { AttachmentRow, ThumbnailRow } from '../db/schema.ts';
import type { PageAuthor } from '../db/page-authors.ts';
import type { MappedEventRow, PageRows } from '../db/store-page.ts';
import { attachmentRows } from './attachments.ts';
import { authorRow, mergeAuthor } from './author-key.ts';
import { eventRow, storedEvent } from './map-event.ts';
import { isRecord, string } from './fields.ts';
import { sanitizeString } from './sanitize.ts';

export { authorKey } from './author-key.ts';
export { plainText } from './plain-text.ts';
export { sanitizeForPostgres } from './sanitize.ts';

/** One event as the client validated it: only these four fields are checked. */
export interface ApiEvent {
  reference: string;
  id: string;
  type: string;
  created_at: string;
  [key: string]: unknown;
}

export interface MapOptions {
  ticketId: number;
  /** Drop `metadata.system` ip_address, location, latitude and longitude before storing. */
  redactSystemMetadata?: boolean;
}

/**
 * Rows for one page. An event reference seen twice keeps its last occurrence (at the
 * position of that occurrence); an author seen twice is merged; an attachment or thumbnail id
 * seen twice keeps the last. Never mutates `events`.
 */
export function mapPage(events: readonly ApiEvent[], options: MapOptions): PageRows {
  const lastIndex = new Map<string, number>();
  events.forEach((event, index) => lastIndex.set(sanitizeString(event.reference), index));

  const authors = new Map<string, PageAuthor>();
  const rows: MappedEventRow[] = [];
  const attachments = new Map<number, AttachmentRow>();
  const thumbnails = new Map<number, ThumbnailRow>();

  events.forEach((event, index) => {
    // Earlier copies of a re-sent event are skipped whole: the last one is what Zendesk
    // says now, and mapping the others would only be thrown away.
    if (lastIndex.get(sanitizeString(event.reference)) !== index) return;
    const raw = storedEvent(event, options);
    const named = authorRow(raw.author);
    const row = eventRow(raw, named?.authorKey ?? null, options.ticketId);
    if (named !== null) {
      // As of this event: an older event stored later does not undo what a newer one said.
      const author = { ...named, writtenAt: row.createdAt };
      const seen = authors.get(author.authorKey);
      authors.set(author.authorKey, seen ? mergeAuthor(seen, author) : author);
    }
    rows.push(row);
    const authorType = isRecord(raw.author) ? string(raw.author.type) : null;
    const files = attachmentRows(raw.attachments, { reference: raw.reference as string, authorType }, options.ticketId);
    for (const file of files.attachments) setLast(attachments, file.id, file);
    for (const thumbnail of files.thumbnails) setLast(thumbnails, thumbnail.id, thumbnail);
  });

  return {
    authors: [...authors.values()],
    events: rows,
    attachments: [...attachments.values()],
    thumbnails: [...thumbnails.values()],
  };
}

// Deleting first moves a re-seen key to the end, so rows keep the order of their winning
// occurrence, as events do.
function setLast<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
}
