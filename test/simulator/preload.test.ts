// The preload option makes and serialises every event at start, for benchmarks: what it serves
// must be what a simulator without it serves, byte for byte, edits and a new seed included.
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.ts';
import { get, logPath, simulator } from './helpers.ts';

const OPTIONS = { tickets: 3, ticketSizes: { 1: 250, 3: 0 } };

/** Every page of a ticket's log as sent, following links.next, with the simulator's own origin taken out. */
async function bodies(sim: Simulator, ticketId: number, query: string): Promise<string[]> {
  const out: string[] = [];
  let path: string | null = logPath(ticketId, query);
  while (path !== null) {
    const response = await get(sim, path);
    expect(response.status).toBe(200);
    const text = await response.text();
    out.push(text.replaceAll(sim.url, 'ORIGIN'));
    const page = JSON.parse(text) as { links: { next: string | null }; meta: { has_more: boolean } };
    path = page.meta.has_more ? page.links.next!.slice(sim.url.length) : null;
  }
  return out;
}

async function sameLogs(preloaded: Simulator, plain: Simulator): Promise<void> {
  for (const ticketId of [1, 2, 3]) {
    for (const query of ['', 'page[size]=7', 'page[size]=100&sort=-created_at']) {
      const [a, b] = [await bodies(preloaded, ticketId, query), await bodies(plain, ticketId, query)];
      expect(a.length).toBeGreaterThan(0);
      expect(a).toEqual(b);
    }
  }
}

describe('preload', () => {
  it('serves every page byte for byte as without it', async () => {
    const preloaded = await simulator({ ...OPTIONS, preload: true });
    expect(preloaded.options().preload).toBe(true);
    await sameLogs(preloaded, await simulator(OPTIONS));
  });

  it('serves an edited event as edited', async () => {
    const [preloaded, plain] = [await simulator({ ...OPTIONS, preload: true }), await simulator(OPTIONS)];
    for (const sim of [preloaded, plain]) {
      const reference = sim.events(1)[120].reference;
      sim.editEvent(1, reference, (event) => {
        (event as { content?: unknown }).content = { type: 'html', body: '<p>redacted ▇▇▇</p>' };
      });
    }
    expect(preloaded.events(1)[120].content).toEqual({ type: 'html', body: '<p>redacted ▇▇▇</p>' });
    await sameLogs(preloaded, plain);
  });

  it('serves the events of a new seed once the seed changes', async () => {
    const preloaded = await simulator({ ...OPTIONS, preload: true });
    const before = await bodies(preloaded, 1, '');
    preloaded.setOptions({ seed: 2 });
    const after = await bodies(preloaded, 1, '');
    expect(after).not.toEqual(before);
    await sameLogs(preloaded, await simulator({ ...OPTIONS, seed: 2 }));
  });

  it('is refused unless true or false', async () => {
    await expect(simulator({ preload: 'yes' as unknown as boolean })).rejects.toThrow('preload must be true or false');
  });
});
