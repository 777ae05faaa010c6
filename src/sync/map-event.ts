// One event becomes one `conversation_events` row: `raw` keeps the event whole, so nothing
// Zendesk adds later is lost, and the readable columns are derived from it for SQL users.
import type { MappedEventRow } from '../db/store-page.ts';
import { boolean, date, int4, isRecord, record, string } from './fields.ts';
import type { Json } from './fields.ts';
import { plainText } from './plain-text.ts';
import { redactSystemMetadata } from './redact.ts';
import { sanitizeForPostgres } from './sanitize.ts';

export interface EventOptions {
  ticketId: number;
  redactSystemMetadata?: boolean;
}

/**
 * The event as it will be stored in `raw`: sanitised and redacted when asked. It is the input
 * itself when nothing had to change (never mutated, here or later); every column is read from it.
 */
export function storedEvent(event: Json, options: EventOptions): Json {
  const clean = sanitizeForPostgres(event);
  if (!options.redactSystemMetadata || !Object.hasOwn(clean, 'metadata')) return clean;
  const metadata = redactSystemMetadata(clean.metadata);
  // A new object: `clean` may be the caller's event.
  return metadata === clean.metadata ? clean : { ...clean, metadata };
}

/**
 * The row for one stored event (see storedEvent) whose author key is already known. The columns
 * that are parts of `raw` (reference, event id, type, content, metadata, HTML body) are taken
 * from it by the page statement in src/db/store-page.ts, not here.
 */
export function eventRow(raw: Json, authorKey: string | null, ticketId: number): MappedEventRow {
  const content = record(raw.content);
  const metadata = record(raw.metadata);
  return {
    ticketId,
    // A readable ISO 8601 time: validateConversationLogPage (src/zendesk/schemas.ts) refused any
    // page with an event whose created_at is not one, before it was mapped.
    createdAt: new Date(raw.created_at as string),
    authorKey,
    contentType: content ? string(content.type) : null,
    bodyText: plainText(content),
    public: metadata ? boolean(metadata.public) : null,
    sourceType: isRecord(raw.source) ? string(raw.source.type) : null,
    receivedAt: date(raw.received_at),
    ticketVersion: metadata ? int4(metadata.ticket_version) : null,
    raw,
  };
}
