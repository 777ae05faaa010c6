// Shared test plumbing: start real simulators on free ports, call them with fetch.
import { afterEach } from 'vitest';
import { startSimulator, type ConversationEvent, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';

export const AUTH = { authorization: `Basic ${Buffer.from('agent@example.com/token:secret').toString('base64')}` };

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

/** A simulator closed automatically after the current test. */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ rateLimit: 0, exportRateLimit: 0, ...options });
  running.push(sim);
  return sim;
}

export function get(sim: Simulator, path: string, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${sim.url}${path}`, { headers });
}

export interface LogPage {
  events: ConversationEvent[];
  links: { next: string | null; prev: string | null };
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
}

export async function getPage(sim: Simulator, path: string): Promise<LogPage> {
  const response = await get(sim, path);
  if (response.status !== 200) throw new Error(`GET ${path} -> ${response.status}: ${await response.text()}`);
  return (await response.json()) as LogPage;
}

export const logPath = (ticketId: number, query = '') => `/api/v2/tickets/${ticketId}/conversation_log.json${query ? `?${query}` : ''}`;

/** Follows links.next until has_more is false, as a sync client would. */
export async function readAll(sim: Simulator, ticketId: number, query = 'page[size]=100'): Promise<{ events: ConversationEvent[]; pages: LogPage[] }> {
  const pages: LogPage[] = [];
  let page = await getPage(sim, logPath(ticketId, query));
  pages.push(page);
  while (page.meta.has_more) {
    page = await getPage(sim, page.links.next!.slice(sim.url.length));
    pages.push(page);
  }
  return { events: pages.flatMap((p) => p.events), pages };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
