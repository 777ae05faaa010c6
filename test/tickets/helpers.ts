// Shared by the ticket-context tests: the simulator's own data, read over HTTP as Zendesk serves it.
import type { Simulator } from '../../src/simulator/index.ts';
import { EMAIL, TOKEN } from '../backfill/helpers.ts';

export const AUTH = `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`;

/** The fields the tests compare; the simulator serves many more. */
export interface SimTicket {
  id: number;
  status: string;
  priority?: string | null;
  via?: { channel?: string };
  group_id?: number | null;
  brand_id?: number | null;
  organization_id?: number | null;
  tags?: string[];
  created_at?: string;
  from_messaging_channel?: boolean;
}

/** A whole groups or brands list, every page, straight from the simulator. */
export async function simList(sim: Simulator, list: 'groups' | 'brands' | 'organizations'): Promise<{ id: number; name: string }[]> {
  const records: { id: number; name: string }[] = [];
  let query = 'page[size]=100';
  for (;;) {
    const response = await fetch(`${sim.url}/api/v2/${list}?${query}`, { headers: { authorization: AUTH } });
    if (response.status !== 200) throw new Error(`${list}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as Record<string, { id: number; name: string }[]> & { meta: { has_more: boolean; after_cursor: string } };
    records.push(...body[list]);
    if (!body.meta.has_more) return records;
    query = `page[size]=100&page[after]=${encodeURIComponent(body.meta.after_cursor)}`;
  }
}

/** The tickets show_many returns for these ids (deleted and forbidden ones are left out). */
export async function simShowMany(sim: Simulator, ids: number[]): Promise<SimTicket[]> {
  const tickets: SimTicket[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const response = await fetch(`${sim.url}/api/v2/tickets/show_many.json?ids=${ids.slice(i, i + 100).join(',')}`, { headers: { authorization: AUTH } });
    if (response.status !== 200) throw new Error(`show_many: ${response.status} ${await response.text()}`);
    tickets.push(...((await response.json()) as { tickets: SimTicket[] }).tickets);
  }
  return tickets;
}
