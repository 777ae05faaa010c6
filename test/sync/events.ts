// Fixture loading and event builders for the mapping tests. Every call returns a fresh
// object, so a test that mutates (or a mapper that wrongly would) cannot leak into another.
import { readFileSync } from 'node:fs';
import type { ApiEvent } from '../../src/sync/map-page.ts';

const fixturesDir = new URL('../fixtures/', import.meta.url);

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, fixturesDir), 'utf8'));
}

/** The API reference's example comment: agent author, one attachment with one thumbnail. */
export function seedEvent(): ApiEvent {
  return readJson('seed-event.json') as ApiEvent;
}

/** The API reference's example page: a bot message, then an end-user comment. */
export function seedPage(): { events: ApiEvent[] } {
  return readJson('seed-page.json') as { events: ApiEvent[] };
}

let counter = 0;

/** A minimal messaging event; `fields` override or add top-level fields. */
export function messagingEvent(fields: Record<string, unknown> = {}): ApiEvent {
  counter += 1;
  return {
    reference: `zen:sunco:conversation_message:${counter.toString(16).padStart(24, '0')}`,
    id: `EVT${counter}`,
    type: 'Messaging::ConversationMessage',
    created_at: '2025-04-22T09:24:26Z',
    attachments: [],
    author: { display_name: 'Visitor', type: 'user', 'zen:sunco:user_id': `sunco-${counter}` },
    content: { type: 'text', text: `message ${counter}` },
    metadata: { custom: {}, system: {}, ticket_version: 0 },
    received_at: '2025-04-22T09:24:26.861Z',
    source: { type: 'zd:widget' },
    ...fields,
  };
}

/** An attachment item as the API sends it; `fields` override. */
export function attachment(id: unknown, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    content_type: 'application/pdf',
    content_url: `https://example.zendesk.com/attachments/token/${String(id)}/?name=file.pdf`,
    deleted: false,
    file_name: 'file.pdf',
    id,
    inline: false,
    mapped_content_url: `https://example.zendesk.com/attachments/token/${String(id)}/?name=file.pdf`,
    size: 1000,
    thumbnails: [],
    url: `https://example.zendesk.com/api/v2/attachments/${String(id)}.json`,
    ...fields,
  };
}
