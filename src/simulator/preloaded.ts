// The preload option: every generated event made and serialised once, before any request, so a
// page is served as a copy of bytes. On one machine with the client, generating and serialising
// pages took a fifth of the CPU an ingest benchmark measured; Zendesk spends it on its own.
import type { ConversationEvent, PageBody } from './types.ts';

const OPEN = Buffer.from('{"events":[');
const COMMA = Buffer.from(',');

export class PreloadedEvents {
  #events = new Map<number, ConversationEvent[]>();
  #bytes = new WeakMap<ConversationEvent, Buffer>();

  /** Keeps a ticket's generated events, index by index, and each one's JSON. */
  fill(ticketId: number, events: ConversationEvent[]): void {
    this.#events.set(ticketId, events);
    for (const event of events) this.#bytes.set(event, Buffer.from(JSON.stringify(event)));
  }

  /** The generated event at `index`, if preloaded. */
  at(ticketId: number, index: number): ConversationEvent | undefined {
    return this.#events.get(ticketId)?.[index];
  }

  /** Forgets everything (a new seed or history end generates other events). */
  clear(): void {
    this.#events.clear();
  }

  /** The page's JSON, byte for byte what JSON.stringify gives, from the kept bytes of its events. */
  pageBytes(page: PageBody): Buffer {
    const { events, ...rest } = page;
    if (this.#events.size === 0 || Object.keys(page)[0] !== 'events') return Buffer.from(JSON.stringify(page));
    const parts: Buffer[] = [OPEN];
    events.forEach((event, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(this.#bytes.get(event) ?? Buffer.from(JSON.stringify(event)));
    });
    const others = JSON.stringify(rest);
    parts.push(Buffer.from(others === '{}' ? ']}' : `],${others.slice(1)}`));
    return Buffer.concat(parts);
  }
}
