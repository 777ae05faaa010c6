// Plumbing shared by the fault suite: the environment of its convlog processes, and one checker
// that compares what Postgres holds with what the oracle derives from the simulator.
import type pg from 'pg';
import type { Simulator } from '../../src/simulator/index.ts';
import { expectedRows } from '../helpers/oracle.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

export { range } from '../helpers/sync-fixture.ts';

export const EMAIL = 'agent@example.com';
/**
 * The suite's own API token, not the integration tests' generic one: bad-input.test.ts makes the
 * simulator accept only this token and searches convlog's output for it, so it must be a string
 * that appears nowhere unless leaked.
 */
export const TOKEN = 'fault-suite-token-7f3a9c';

/** The environment a convlog process needs to sync from `sim` into `databaseUrl`. */
export function convlogEnv(databaseUrl: string, sim: Simulator, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...cliEnvFor(databaseUrl, sim.url), ZENDESK_EMAIL: EMAIL, ZENDESK_API_TOKEN: TOKEN, ...extra };
}


export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export interface Verdict {
  tickets: number;
  /** Events the simulator serves for these tickets. */
  expected: number;
  /** Event rows stored for these tickets. */
  stored: number;
  /** Rows beyond one per reference (impossible by the primary key, checked anyway). */
  duplicates: number;
  /** References served but not stored. */
  lost: number;
  /** Stored references the simulator never served for that ticket. */
  unexpected: number;
  /** Attachments, thumbnails and authors that differ from the simulator's distinct sets. */
  fileMismatches: number;
  authorMismatches: number;
  /** Tickets whose ticket_sync row disagrees (status not `synced`, or events_synced wrong). */
  notSynced: number[];
  problems: string[];
}

/**
 * Compares Postgres with the simulator for `ticketIds`: every event once, nothing else, the
 * attachments, thumbnails and authors the events carry, and each ticket `synced` with the
 * right count. Authors are compared as a whole table, so the database must hold only these
 * tickets (a database per test file), unless `authors: false` (then: expected ones present).
 */
export async function verify(pool: pg.Pool, sim: Simulator, ticketIds: readonly number[], options: { status?: string; authors?: boolean } = {}): Promise<Verdict> {
  const wanted = options.status ?? 'synced';
  const verdict: Verdict = { tickets: ticketIds.length, expected: 0, stored: 0, duplicates: 0, lost: 0, unexpected: 0, fileMismatches: 0, authorMismatches: 0, notSynced: [], problems: [] };
  const allAuthors = new Set<string>();
  const ids = [...ticketIds];
  const group = async <T extends pg.QueryResultRow>(sql: string) => {
    const { rows } = await pool.query<T & { ticket_id: number }>(sql, [ids]);
    const byTicket = new Map<number, T[]>();
    for (const row of rows) byTicket.set(Number(row.ticket_id), [...(byTicket.get(Number(row.ticket_id)) ?? []), row]);
    return byTicket;
  };
  const events = await group<{ reference: string; n: number }>(
    'select ticket_id, reference, count(*)::int as n from zendesk.conversation_events where ticket_id = any($1) group by ticket_id, reference',
  );
  const files = await group<{ id: string }>('select ticket_id, id::text as id from zendesk.attachments where ticket_id = any($1)');
  const thumbs = await group<{ id: string }>('select ticket_id, id::text as id from zendesk.attachment_thumbnails where ticket_id = any($1)');
  const states = await group<{ status: string; events_synced: number }>(
    'select ticket_id, status::text as status, events_synced from zendesk.ticket_sync where ticket_id = any($1)',
  );
  const { rows: total } = await pool.query<{ n: number; distinct: number }>(
    'select count(*)::int as n, count(distinct reference)::int as distinct from zendesk.conversation_events where ticket_id = any($1)',
    [ids],
  );
  verdict.duplicates = total[0].n - total[0].distinct;

  for (const id of ids) {
    const oracle = expectedRows(sim, [id]);
    const want = { references: new Set(oracle.events.keys()), attachments: new Set(oracle.attachments.keys()), thumbnails: new Set(oracle.thumbnails.keys()) };
    oracle.authors.forEach((a) => allAuthors.add(a));
    const got = events.get(id) ?? [];
    const refs = new Set(got.map((r) => r.reference));
    verdict.expected += want.references.size;
    verdict.stored += got.reduce((sum, r) => sum + r.n, 0);
    const lost = [...want.references].filter((r) => !refs.has(r));
    const unexpected = [...refs].filter((r) => !want.references.has(r));
    verdict.lost += lost.length;
    verdict.unexpected += unexpected.length;
    if (lost.length || unexpected.length) verdict.problems.push(`ticket ${id}: ${lost.length} lost, ${unexpected.length} unexpected`);

    const fileIds = new Set((files.get(id) ?? []).map((r) => Number(r.id)));
    const thumbIds = new Set((thumbs.get(id) ?? []).map((r) => Number(r.id)));
    const fileDiff = symmetricDifference(want.attachments, fileIds) + symmetricDifference(want.thumbnails, thumbIds);
    verdict.fileMismatches += fileDiff;
    if (fileDiff) verdict.problems.push(`ticket ${id}: attachments/thumbnails differ by ${fileDiff}`);

    const state = states.get(id)?.[0];
    if (!state || state.status !== wanted || (wanted === 'synced' && state.events_synced !== want.references.size)) {
      verdict.notSynced.push(id);
      verdict.problems.push(`ticket ${id}: ticket_sync ${state ? `${state.status}, events_synced ${state.events_synced}` : 'missing'}; expected ${wanted}, ${want.references.size}`);
    }
  }
  // Authors who wrote: sync and enqueue also store requesters and assignees read by id.
  const { rows: authorRows } = await pool.query<{ author_key: string }>(
    'select author_key from zendesk.authors a where exists (select from zendesk.conversation_events e where e.author_key = a.author_key)',
  );
  const storedAuthors = new Set(authorRows.map((r) => r.author_key));
  // Without the whole table (other tickets share it): each expected author must be there.
  verdict.authorMismatches = options.authors === false ? [...allAuthors].filter((a) => !storedAuthors.has(a)).length : symmetricDifference(allAuthors, storedAuthors);
  if (verdict.authorMismatches) verdict.problems.push(`authors differ from the simulator's distinct set by ${verdict.authorMismatches}`);
  if (verdict.duplicates) verdict.problems.push(`${verdict.duplicates} duplicate event rows`);
  return verdict;
}

function symmetricDifference<T>(a: Set<T>, b: Set<T>): number {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  for (const x of b) if (!a.has(x)) n++;
  return n;
}

/** True when the verdict shows an exact copy. */
export function exact(v: Verdict): boolean {
  return v.expected === v.stored && v.duplicates === 0 && v.lost === 0 && v.unexpected === 0 && v.fileMismatches === 0 && v.authorMismatches === 0 && v.notSynced.length === 0;
}

/** Jobs of the sync queue by state, straight from pg-boss's table. */
export async function jobStates(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; n: number }>(
    `select state::text as state, count(*)::int as n from pgboss.job where name = 'ticket-sync' group by state`,
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

/** Ticket sizes for a simulator: `big` tickets of 2,500 events among a realistic mix. */
export function ticketMix(count: number, big: number[], sizes: Record<number, number> = {}): Record<number, number> {
  const out: Record<number, number> = {};
  for (let id = 1; id <= count; id++) out[id] = big.includes(id) ? 2500 : (sizes[id] ?? [0, 1, 7, 12, 40, 100, 101, 250][id % 8]);
  return out;
}
