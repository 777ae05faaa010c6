// Issue 16's benchmark: are the analyst views fast enough, and the tables small enough, at ten
// million events? A database of N events is built fast (templates stored by convlog's own code,
// then cloned in SQL: analyst-templates.ts, analyst-clone.ts), then the README's examples and
// the dashboard queries are timed (analyst-queries.ts) and the zendesk schema is weighed.
// Run only when named: `npm run bench -- analyst [--events N]` (default 10,000,000, or
// CONVLOG_BENCH_EVENTS); it takes about half an hour at the default size.
import path from 'node:path';
import { cloneTemplates, type CloneResult } from './analyst-clone.ts';
import { dashboardQueries, isTextSearch, readmeQueries, timeQueries, type TimedQuery } from './analyst-queries.ts';
import { ingestTemplates, upkeepAlone, type TemplateResult } from './analyst-templates.ts';
import { loadAverage, ROOT, type Postgres } from './harness.ts';

export const DEFAULT_EVENTS = 10_000_000;
/** Simulator tickets stored as templates: about 70,000 events of every kind the simulator makes. */
const TEMPLATE_TICKETS = 2_000;
const BYTES_PER_EVENT_TARGET = 1_100;

export interface AnalystResult {
  events: number;
  tickets: number;
  templates: TemplateResult;
  /** The per-ticket upkeep alone over the templates (see upkeepAlone). */
  upkeepSeconds: number;
  clone: CloneResult;
  buildSeconds: number;
  bytes: number;
  queries: TimedQuery[];
}

/** `--events N`, else CONVLOG_BENCH_EVENTS, else ten million; underscores and commas allowed. */
export function eventsWanted(flag: string | undefined, env = process.env.CONVLOG_BENCH_EVENTS): number {
  const given = flag ?? env;
  if (given === undefined || given === '') return DEFAULT_EVENTS;
  const n = Number(given.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`the number of events must be a positive whole number (got "${given}")`);
  return n;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

export async function analystRun(postgres: Postgres, options: { label: string; events: number; log: (line: string) => void }): Promise<AnalystResult> {
  const say = options.log;
  say(`  building a database of ${int(options.events)} events (load average ${loadAverage()})`);
  const database = await postgres.database(options.label);
  try {
    const templates = await ingestTemplates(database, { tickets: TEMPLATE_TICKETS, say });
    say(
      `  templates: ${int(templates.events)} events of ${templates.tickets} tickets stored by storePage in ${templates.seconds.toFixed(1)} s = ${int(templates.events / templates.seconds)} events/s; ` +
        `per-ticket upkeep (finishRun's transactions): ${((100 * templates.finishSeconds) / templates.seconds).toFixed(1)}% of ingest time (${templates.finishSeconds.toFixed(1)} s); ticket context ${templates.contextSeconds.toFixed(1)} s`,
    );
    // Not part of the build's time: a diagnostic.
    const upkeepSeconds = await upkeepAlone(database, templates.tickets);
    say(
      `  the per-ticket upkeep alone, run again per template ticket without a commit: ${upkeepSeconds.toFixed(1)} s = ` +
        `${((100 * upkeepSeconds) / templates.seconds).toFixed(1)}% of ingest time, ${((1000 * upkeepSeconds) / templates.tickets).toFixed(2)} ms a ticket`,
    );
    const clone = await cloneTemplates(database, { targetEvents: options.events, say });
    const buildSeconds = templates.contextSeconds + templates.seconds + clone.cloneSeconds + clone.refreshSeconds + clone.vacuumSeconds;
    const { rows: counts } = await database.pool.query<{ events: number; tickets: number; week: number; first: Date; last: Date }>(
      `select count(*)::int as events, (select count(*)::int from zendesk.ticket_sync) as tickets, min(created_at) as first, max(created_at) as last,
              count(*) filter (where created_at >= now() - interval '7 days')::int as week
         from zendesk.conversation_events`,
    );
    const { events, tickets, week, first, last } = counts[0];
    say(
      `  build: ${int(events)} events in ${int(tickets)} tickets in ${(buildSeconds / 60).toFixed(1)} min = ${int(events / buildSeconds)} events/s ` +
        `(templates ${(templates.contextSeconds + templates.seconds).toFixed(0)} s, clone ${clone.cloneSeconds.toFixed(0)} s, ` +
        `upkeep ${clone.refreshSeconds.toFixed(0)} s, vacuum analyze ${clone.vacuumSeconds.toFixed(0)} s); load average ${loadAverage()}`,
    );
    say(`  events from ${first.toISOString().slice(0, 10)} to ${last.toISOString().slice(0, 10)}, ${int(week)} of them in the last 7 days`);

    // Every table of the schema, each with its TOAST table and indexes.
    const { rows: sizes } = await database.pool.query<{ name: string; total: string; heap: string; indexes: string }>(
      `select c.relname as name, pg_total_relation_size(c.oid) as total, pg_relation_size(c.oid) as heap, pg_indexes_size(c.oid) as indexes
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'zendesk' and c.relkind in ('r', 'p') order by pg_total_relation_size(c.oid) desc`,
    );
    const bytes = sizes.reduce((sum, r) => sum + Number(r.total), 0);
    // What an event row weighs, and its raw alone (stored as it came: a row under about 2 kB is
    // neither compressed nor moved to TOAST), from a 1% sample.
    const { rows: row } = await database.pool.query<{ row: number; raw: number }>(
      `select avg(pg_column_size(e.*))::float8 as row, avg(pg_column_size(e.raw))::float8 as raw from zendesk.conversation_events e tablesample system (1)`,
    );
    say(`  size: ${mb(bytes)} in schema zendesk = ${int(bytes / events)} bytes/event; an event row averages ${int(row[0].row)} bytes, its raw ${int(row[0].raw)}`);
    // The floor under the storage target: what every other column, row and index weighs.
    const withoutRaw = bytes / events - row[0].raw;
    say(`  everything but raw: ${int(withoutRaw)} bytes/event, which leaves raw ${int(BYTES_PER_EVENT_TARGET - withoutRaw)} of the ${int(BYTES_PER_EVENT_TARGET)} targeted`);
    say(
      `  by table (heap + TOAST + indexes): ${sizes
        .map((r) => `${r.name} ${mb(Number(r.total))} (${mb(Number(r.heap))} + ${mb(Number(r.total) - Number(r.heap) - Number(r.indexes))} + ${mb(Number(r.indexes))})`)
        .join(', ')}`,
    );

    const readme = readmeQueries(path.join(ROOT, 'README.md')).map((q) => (isTextSearch(q) ? { ...q, name: `${q.name} (text search)` } : q));
    say(`  queries (second of two runs):`);
    const queries = await timeQueries(database.pool, [...(await dashboardQueries(database.pool)), ...readme], say);
    return { events, tickets, templates, upkeepSeconds, clone, buildSeconds, bytes, queries };
  } finally {
    // CONVLOG_BENCH_KEEP=1 with DATABASE_URL: the database stays, to try indexes and plans on.
    if (process.env.CONVLOG_BENCH_KEEP === '1') await database.pool.end();
    else await database.close();
  }
}

interface Figure {
  figure: string;
  value: string;
  target: string;
  pass: boolean;
}

export function analystFigures(r: AnalystResult): Figure[] {
  const upkeep = r.templates.finishSeconds / r.templates.seconds;
  // The templates take the same time at any size; the rest grows with the events cloned. At
  // another size than ten million, the build's target is judged on that projection.
  const fixed = r.templates.contextSeconds + r.templates.seconds;
  const cloned = r.events - r.templates.events;
  const projected = cloned > 0 ? fixed + ((r.buildSeconds - fixed) * (DEFAULT_EVENTS - r.templates.events)) / cloned : null;
  return [
    {
      figure: `analyst: build of ${int(r.events)} events (minutes; ten million ÷ 30 min${Math.abs(r.events - DEFAULT_EVENTS) < DEFAULT_EVENTS / 100 ? '' : ', projected from this size'})`,
      value:
        projected === null
          ? `${(r.buildSeconds / 60).toFixed(1)} min, nothing cloned to project from`
          : `${(projected / 1_800).toFixed(3)} (${(r.buildSeconds / 60).toFixed(1)} min here, ${int(r.events / r.buildSeconds)} events/s; ten million in ${(projected / 60).toFixed(1)} min)`,
      target: '≤ 1.000',
      pass: projected !== null && projected <= 1_800,
    },
    {
      figure: `analyst: template ingest by storePage + finishRun, ${int(r.templates.events)} events (reported, no target)`,
      value:
        `${int(r.templates.events / r.templates.seconds)} events/s; per-ticket upkeep: ${(100 * upkeep).toFixed(1)}% of ingest time in finishRun` +
        `, ${((100 * r.upkeepSeconds) / r.templates.seconds).toFixed(1)}% in the function alone`,
      target: '-',
      pass: true,
    },
    {
      figure: 'analyst: bytes per event, schema zendesk (heap + TOAST + indexes ÷ events)',
      value: `${(r.bytes / r.events / BYTES_PER_EVENT_TARGET).toFixed(3)} (${int(r.bytes / r.events)} bytes)`,
      target: `≤ 1.000 (${int(BYTES_PER_EVENT_TARGET)} bytes)`,
      pass: r.bytes / r.events <= BYTES_PER_EVENT_TARGET,
    },
    ...r.queries.map((q) => ({
      figure: `analyst query: ${q.name} (ms)`,
      value: q.ms === null ? `failed: ${(q.error ?? '').slice(0, 80)}` : `${q.ms.toFixed(1)} ms, ${q.rows} rows`,
      target: `≤ ${q.targetMs} ms`,
      pass: q.ms !== null && q.ms <= q.targetMs,
    })),
  ];
}
