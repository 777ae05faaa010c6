// Zendesk answers from its own machines; the simulator shares two cores with the client it
// serves. Rendering a page (generating its events, serialising them) on request put that work in
// the middle of every client's page-to-page round trip, so a benchmark of convlog measured the
// simulator too. A client paging through a ticket asks next for the page after the one it got:
// that page is rendered as soon as the current one is sent, while the client is busy with it.
//
// A rendered page is served only if nothing it was made from changed since: the store (events
// appended or edited, faults set) and the options (ticket sizes, deletions).
import type { ResolvedOptions } from './options.ts';

// Enough for every client paging at once; a page of 100 events is about 80 KB.
const MAX_PAGES = 200;

export interface RenderState {
  options: ResolvedOptions;
  storeVersion: number;
}

interface Entry<T> {
  state: RenderState;
  value: T;
}

export class PageLookahead<T> {
  #pages = new Map<string, Entry<T>>();

  /** The page rendered ahead for `key`, if still true in `state`; each is served once. */
  take(key: string, state: RenderState): T | undefined {
    const entry = this.#pages.get(key);
    if (!entry) return undefined;
    this.#pages.delete(key);
    const current = entry.state.options === state.options && entry.state.storeVersion === state.storeVersion;
    return current ? entry.value : undefined;
  }

  /** Renders `key` once the current turn of the event loop is over (after the reply is written). */
  prepare(key: string, state: () => RenderState, render: () => T): void {
    setImmediate(() => {
      // Pages nobody came back for (a client that stopped) must not pile up.
      if (this.#pages.size >= MAX_PAGES) this.#pages.delete(this.#pages.keys().next().value!);
      const before = state();
      this.#pages.set(key, { state: before, value: render() });
    });
  }

  clear(): void {
    this.#pages.clear();
  }
}
