// The ticket context written by the backfill, checked against the simulator's own data (read over
// HTTP, outside convlog): every exported ticket's row, AI-agent tickets, names in the view, and
// which state wins when an older export comes after a newer one.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill, type BackfillOptions } from '../../src/queue/backfill.ts';
import { DELETED_BRAND_ID, DELETED_GROUP_ID, startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, exportSince, nowSec, TOKEN } from '../backfill/helpers.ts';
import { simList, type SimTicket } from './helpers.ts';

const t = backfillTestContext();

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ tickets: 90, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0, exportPageSize: 25, ...options });
  t.sims.push(sim);
  return sim;
}

function backfill(sim: Simulator, options: BackfillOptions = {}) {
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  return runBackfill(
    { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger },
    { since: nowSec() - 40 * DAY, exportOptions: { retryBaseMs: 5, maxAttempts: 3 }, ...options },
  );
}

interface StoredTicket {
  id: number;
  status: string;
  priority: string | null;
  via_channel: string | null;
  group_id: number | null;
  brand_id: number | null;
  tags: string[] | null;
  deleted: boolean;
}

async function storedTickets(): Promise<Map<number, StoredTicket>> {
  const { rows } = await t.database.pool.query<StoredTicket>(
    `select id::int, status, priority, via_channel, group_id::float8 as group_id, brand_id::float8 as brand_id, tags, deleted
       from zendesk.tickets order by id`,
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** Each row's change time and raw, to see that nothing at all was replaced. */
async function states(): Promise<{ id: number; generated: string; raw: unknown }[]> {
  const { rows } = await t.database.pool.query<{ id: number; generated: string; raw: unknown }>(
    'select id::int, generated_timestamp::text as generated, raw from zendesk.tickets order by id',
  );
  return rows;
}

const expectedRow = (t: SimTicket) => ({
  id: t.id,
  status: t.status,
  priority: t.priority ?? null,
  via_channel: t.via?.channel ?? null,
  group_id: t.group_id ?? null,
  brand_id: t.brand_id ?? null,
  tags: t.tags ?? null,
  deleted: t.status === 'deleted',
});

describe('after a backfill', () => {
  it('every exported ticket has its row with the via channel, group, brand and tags the simulator serves', async () => {
    const sim = await simulator({ deleted: [7], scrubbed: [8] });
    const since = nowSec() - 40 * DAY;
    const exported = (await exportSince(sim, since)) as unknown as SimTicket[];
    expect(exported.length).toBeGreaterThan(25); // several pages

    const result = await backfill(sim, { since });
    expect(result.accountLists).toMatchObject({ groups: expect.any(Number), brands: expect.any(Number) });

    const stored = await storedTickets();
    const latest = new Map(exported.map((t) => [t.id, t]));
    // Under CONVLOG_ON_DELETE=purge (the default) a deleted ticket keeps only its tombstone in
    // ticket_sync: its tickets row goes with its conversation (its subject and people are personal data).
    const gone = new Set([...latest.values()].filter((t) => t.status === 'deleted' || (t as { subject?: string }).subject === 'SCRUBBED').map((t) => t.id));
    expect([...gone].sort((a, b) => a - b)).toEqual(expect.arrayContaining([7, 8]));
    expect([...stored.keys()]).toEqual([...latest.keys()].filter((id) => !gone.has(id)).sort((a, b) => a - b));
    for (const [id, ticket] of latest) if (!gone.has(id)) expect(stored.get(id), `ticket ${id}`).toEqual(expectedRow(ticket));
    // Every channel the data set uses is there, not one value for all.
    expect(new Set([...stored.values()].map((t) => t.via_channel)).size).toBeGreaterThan(5);
    const { rows: sync } = await t.database.pool.query<{ ticket_id: number; status: string; deleted_how: string }>(
      'select ticket_id::int, status, deleted_how from zendesk.ticket_sync where ticket_id in (7, 8) order by 1',
    );
    expect(sync).toEqual([
      { ticket_id: 7, status: 'not_found', deleted_how: 'export' },
      // Scrubbed: Zendesk erased it for good.
      { ticket_id: 8, status: 'not_found', deleted_how: 'export: permanently deleted' },
    ]);
  });

  it('keeps the tickets AI agents handled, which the export leaves out without support_type_scope=all', async () => {
    const sim = await simulator();
    const since = nowSec() - 40 * DAY;
    const ai = (await exportSince(sim, since)).map((t) => t.id).filter((id) => sim.isAiAgentTicket(id));
    expect(ai.length).toBeGreaterThan(2);

    // Zendesk's default scope, asked directly: the AI-agent tickets are not there.
    const response = await fetch(`${sim.url}/api/v2/incremental/tickets/cursor.json?start_time=${since}&per_page=1000`, {
      headers: { authorization: `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}` },
    });
    const hidden = ((await response.json()) as { tickets: { id: number }[] }).tickets.map((t) => t.id);
    expect(hidden.filter((id) => ai.includes(id))).toEqual([]);

    await backfill(sim, { since });
    const stored = await storedTickets();
    for (const id of ai) expect(stored.get(id)?.tags, `AI-agent ticket ${id}`).toContain('ai_agent_resolved');
  });

  it('shows group, brand and organization names in ticket_conversations, and the id of one no longer listed', async () => {
    const sim = await simulator();
    await backfill(sim);
    const groups = new Map((await simList(sim, 'groups')).map((g) => [g.id, g.name]));
    const brands = new Map((await simList(sim, 'brands')).map((b) => [b.id, b.name]));
    const { rows } = await t.database.pool.query<{ ticket_id: number; group_name: string | null; brand_name: string | null; via_channel: string | null; ticket_status: string | null }>(
      'select ticket_id::int, group_name, brand_name, via_channel, ticket_status from zendesk.ticket_conversations order by 1',
    );
    expect(rows.length).toBeGreaterThan(25);
    let unlisted = 0;
    for (const row of rows) {
      const ticket = sim.ticket(row.ticket_id) as SimTicket;
      const group = ticket.group_id ?? null;
      const brand = ticket.brand_id ?? null;
      expect(row.group_name, `ticket ${row.ticket_id}`).toBe(group === null ? null : (groups.get(group) ?? `group ${group}`));
      expect(row.brand_name, `ticket ${row.ticket_id}`).toBe(brand === null ? null : (brands.get(brand) ?? `brand ${brand}`));
      expect(row).toMatchObject({ via_channel: ticket.via?.channel, ticket_status: ticket.status });
      if (group === DELETED_GROUP_ID || brand === DELETED_BRAND_ID) unlisted++;
    }
    expect(unlisted).toBeGreaterThan(0);
  });
});

describe('which state wins', () => {
  it('a later export with an older generated_timestamp does not overwrite a newer row; a newer one does', async () => {
    // Same seed, started later: every ticket's generated_timestamp is later on `newer`.
    const older = await simulator({ seed: 4 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const newer = await simulator({ seed: 4 });
    const id = (await exportSince(newer, nowSec() - 40 * DAY))[0].id;
    newer.updateTicket(id, { priority: 'urgent', tags: ['escalated'] });

    await backfill(newer);
    const first = await storedTickets();
    const firstStates = await states();
    expect(first.get(id)).toMatchObject({ priority: 'urgent', tags: ['escalated'] });

    await backfill(older);
    const after = await storedTickets();
    expect(after.get(id)).toEqual(first.get(id));
    // Every row kept newer's state, not only the changed ticket.
    for (const [ticketId, row] of after) expect(row).toEqual(first.get(ticketId));
    expect(await states()).toEqual(firstStates);

    newer.updateTicket(id, { priority: 'low' });
    await backfill(newer);
    expect((await storedTickets()).get(id)).toMatchObject({ priority: 'low', tags: ['escalated'] });
  });
});
