// Multiplies the stored templates (analyst-templates.ts) in SQL until the database holds the
// events asked for: copy k of a template ticket is ticket `id + k * T`, its events and files get
// new keys, its times move by whole days so that the copies cover the last two years up to now.
// Agents and bots are shared; customers are cloned per copy, so there are many. Only writable
// columns are inserted, read from information_schema, so the clone follows the schema's columns;
// a column the schema lacks is simply not written. Then the per-ticket upkeep runs over every
// cloned ticket, in batches, and `vacuum analyze` leaves the tables as a settled database has them.
import type pg from 'pg';
import { refreshTicketAnalytics } from '../../src/db/analytics.ts';
import type { Database } from '../../src/db/connection.ts';

/** Rows a clone statement writes at most (several copies per statement when templates are small). */
const CHUNK_EVENTS = 500_000;
/** Tickets per call of the per-ticket upkeep. */
const REFRESH_BATCH = 5_000;
/** The copies are spread over this many days before now. */
const SPAN_DAYS = 730;

export interface CloneResult {
  copies: number;
  cloneSeconds: number;
  refreshSeconds: number;
  vacuumSeconds: number;
}

const elapsed = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const int = (n: number) => n.toLocaleString('en-US');

/** How each cloned column is computed; a column not named is copied as it is. */
const OVERRIDES: Record<string, Record<string, string>> = {
  authors: { author_key: `src.author_key || '-' || m.k` },
  conversation_events: {
    reference: `src.reference || '-' || m.k`,
    event_id: `src.event_id || '-' || m.k`,
    ticket_id: 'm.new_id',
    created_at: 'src.created_at + m.shift',
    received_at: 'src.received_at + m.shift',
    author_key: `case when c.author_key is null then src.author_key else src.author_key || '-' || m.k end`,
    // raw is what every derived column is read from: its reference and id follow the row's.
    raw: `jsonb_set(jsonb_set(src.raw, '{reference}', to_jsonb(src.reference || '-' || m.k)), '{id}', to_jsonb(src.event_id || '-' || m.k))`,
  },
  attachments: { id: 'src.id + m.k * :files', ticket_id: 'm.new_id', event_reference: `src.event_reference || '-' || m.k` },
  attachment_thumbnails: { id: 'src.id + m.k * :files', attachment_id: 'src.attachment_id + m.k * :files', ticket_id: 'm.new_id' },
  tickets: {
    id: 'm.new_id',
    created_at: 'src.created_at + m.shift',
    // Never in the future: the dashboards' "last N days" count from now.
    updated_at: 'least(src.updated_at + m.shift, :now)',
    generated_timestamp: 'least(src.generated_timestamp + m.shift, :now)',
    raw: `jsonb_set(src.raw, '{id}', to_jsonb(m.new_id))`,
  },
  ticket_sync: { ticket_id: 'm.new_id' },
};

/** Each cloned table: its template copy and how a row finds its copy number k (clone_map m). */
const SOURCES: { table: keyof typeof OVERRIDES; from: string }[] = [
  { table: 'authors', from: `tpl_authors src cross join (select distinct k from clone_map where k between $1 and $2) m` },
  { table: 'conversation_events', from: 'tpl_events src join clone_map m on m.ticket_id = src.ticket_id left join tpl_customers c on c.author_key = src.author_key' },
  { table: 'attachments', from: 'tpl_attachments src join clone_map m on m.ticket_id = src.ticket_id' },
  { table: 'attachment_thumbnails', from: 'tpl_thumbnails src join clone_map m on m.ticket_id = src.ticket_id' },
  { table: 'tickets', from: 'tpl_context src join clone_map m on m.ticket_id = src.id' },
  { table: 'ticket_sync', from: 'tpl_sync src join clone_map m on m.ticket_id = src.ticket_id' },
];

async function writableColumns(client: pg.PoolClient, table: string): Promise<string[]> {
  const { rows } = await client.query<{ column_name: string }>(
    `select column_name from information_schema.columns
      where table_schema = 'zendesk' and table_name = $1 and is_generated = 'NEVER' order by ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

/** Copies of the templates, taken before any clone exists, so each statement reads only them. */
const SETUP = `
create temp table tpl_events as select * from zendesk.conversation_events;
create temp table tpl_customers as
  select distinct author_key from tpl_events where raw #>> '{author,type}' = 'user' and author_key is not null;
create temp table tpl_authors as select a.* from zendesk.authors a join tpl_customers using (author_key);
create temp table tpl_attachments as select * from zendesk.attachments;
create temp table tpl_thumbnails as select * from zendesk.attachment_thumbnails;
create temp table tpl_context as select * from zendesk.tickets;
create temp table tpl_sync as select * from zendesk.ticket_sync;
create temp table tpl_tickets as
  select s.ticket_id, coalesce(e.first_at, tk.created_at, $1::timestamptz) as first_at,
         coalesce(e.last_at, tk.created_at, $1::timestamptz) as last_at, coalesce(e.events, 0) as events
    from tpl_sync s
    left join (select ticket_id, min(created_at) as first_at, max(created_at) as last_at, count(*)::int as events
                 from tpl_events group by ticket_id) e using (ticket_id)
    left join tpl_context tk on tk.id = s.ticket_id`;

export async function cloneTemplates(database: Database, options: { targetEvents: number; say: (line: string) => void }): Promise<CloneResult> {
  const { say } = options;
  // One session throughout: the template copies are temporary tables.
  const client = await database.pool.connect();
  // From here: the copies of the templates are part of the clone's time.
  const started = process.hrtime.bigint();
  try {
    await client.query(`set synchronous_commit = off; set work_mem = '64MB'; set maintenance_work_mem = '512MB'`);
    const now = (await client.query<{ now: Date }>('select now() as now')).rows[0].now;
    // Multi-statement text cannot take parameters: the one value is inlined as a literal.
    await client.query(SETUP.replaceAll('$1', `'${now.toISOString()}'`));
    const { rows: tickets } = await client.query<{ ticket_id: string; events: number }>('select ticket_id, events from tpl_tickets order by ticket_id');
    const templateEvents = tickets.reduce((sum, t) => sum + t.events, 0);
    const maxTicket = Math.max(...tickets.map((t) => Number(t.ticket_id)));
    const { rows: fileRange } = await client.query<{ lo: string | null; hi: string | null }>(
      `select min(id)::text as lo, max(id)::text as hi from (select id from tpl_attachments union all select id from tpl_thumbnails) f`,
    );
    // Copy k's file ids sit above copy k-1's: the id range's width apart.
    const files = fileRange[0].lo === null ? 1 : Number(fileRange[0].hi) - Number(fileRange[0].lo) + 1;

    // Whole copies, then a last copy of the first tickets that brings the total to about N.
    const wanted = Math.max(0, options.targetEvents - templateEvents);
    let copies = templateEvents === 0 ? 0 : Math.floor(wanted / templateEvents);
    let rest = wanted - copies * templateEvents;
    let cutoff = maxTicket;
    if (rest > 0 && templateEvents > 0) {
      copies += 1;
      for (const t of tickets) {
        rest -= t.events;
        cutoff = Number(t.ticket_id);
        if (rest <= 0) break;
      }
    }
    if (!Number.isSafeInteger(maxTicket * (copies + 1)) || !Number.isSafeInteger(Number(fileRange[0].hi ?? 0) + files * copies)) {
      throw new Error(`${copies} copies would take ids past 2^53`);
    }
    say(
      copies === 0
        ? `  clone: none, the templates alone hold ${int(templateEvents)} events`
        : `  clone: ${int(templateEvents)} template events in ${tickets.length} tickets, ${copies} copies (ticket id + k × ${maxTicket}, file id + k × ${files})`,
    );

    // Copy k of a ticket moves by whole days (time of day kept), chosen per ticket and copy
    // from those that keep all its events within the last SPAN_DAYS and not after now.
    await client.query(
      `create temp table clone_map as
       select k, t.ticket_id, t.ticket_id + k * ${maxTicket}::bigint as new_id,
              make_interval(days => b.lo + (abs(hashint8(t.ticket_id * 1000003 + k)::bigint) % (greatest(b.hi, b.lo) - b.lo + 1))::int) as shift
         from tpl_tickets t
        cross join generate_series(1, $1::int) as k
        cross join lateral (select ceil(extract(epoch from ($2::timestamptz - make_interval(days => ${SPAN_DAYS})) - t.first_at) / 86400)::int as lo,
                                   floor(extract(epoch from $2::timestamptz - t.last_at) / 86400)::int as hi) b
        where k < $1 or t.ticket_id <= $3;
       `,
      [copies, now, cutoff],
    );
    await client.query('create index on clone_map (k); analyze clone_map; analyze tpl_events; analyze tpl_customers');

    const statements: { table: string; sql: string }[] = [];
    for (const { table, from } of SOURCES) {
      const overrides = OVERRIDES[table];
      const columns = await writableColumns(client, table);
      const values = columns.map((c) => (overrides[c] ?? `src.${c}`).replaceAll(':files', `${files}::bigint`).replaceAll(':now', `'${now.toISOString()}'::timestamptz`));
      const where = table === 'authors' ? '' : ' where m.k between $1 and $2';
      statements.push({ table, sql: `insert into zendesk.${table} (${columns.join(', ')}) select ${values.join(', ')} from ${from}${where}` });
    }

    const perStatement = Math.max(1, Math.floor(CHUNK_EVENTS / Math.max(1, templateEvents)));
    let written = templateEvents;
    for (let k1 = 1; k1 <= copies; k1 += perStatement) {
      const k2 = Math.min(copies, k1 + perStatement - 1);
      for (const { table, sql } of statements) {
        const result = await client.query(sql, [k1, k2]);
        if (table === 'conversation_events') written += result.rowCount ?? 0;
      }
      const seconds = elapsed(started);
      say(`    clone: copies ${k1}..${k2} of ${copies}: ${int(written)} events stored (${seconds.toFixed(0)} s, ${int(Math.round((written - templateEvents) / seconds))} cloned events/s)`);
    }
    const cloneSeconds = elapsed(started);

    // The production upkeep (every per-ticket table), as finishRun and rebuild-analytics call it.
    const { rows: ids } = await client.query<{ new_id: string }>('select new_id from clone_map order by new_id');
    const refreshStarted = process.hrtime.bigint();
    const batches = Math.ceil(ids.length / REFRESH_BATCH);
    for (let b = 0; b < batches; b++) {
      const batch = ids.slice(b * REFRESH_BATCH, (b + 1) * REFRESH_BATCH).map((r) => Number(r.new_id));
      await refreshTicketAnalytics(database.db, batch);
      if ((b + 1) % Math.max(1, Math.ceil(batches / 10)) === 0 || b + 1 === batches) {
        say(`    upkeep: ${int(Math.min(ids.length, (b + 1) * REFRESH_BATCH))}/${int(ids.length)} cloned tickets (${elapsed(refreshStarted).toFixed(0)} s)`);
      }
    }
    const refreshSeconds = elapsed(refreshStarted);

    const vacuumStarted = process.hrtime.bigint();
    await client.query('vacuum analyze');
    return { copies, cloneSeconds, refreshSeconds, vacuumSeconds: elapsed(vacuumStarted) };
  } finally {
    await client.query('discard temp').catch(() => {});
    client.release();
  }
}
