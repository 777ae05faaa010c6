// Every write of a page happens here, in ONE statement with the ticket's cursor, so that a
// crash at any instant leaves either the whole page and its cursor, or neither.
//
// The statement upserts the four tables and advances the cursor in data-modifying CTEs, each
// table's rows arriving as one jsonb array (jsonb_to_recordset): one round trip per page and a
// handful of parameters, instead of a transaction of six statements with thousands. Foreign keys
// are checked at the end of the statement, when every CTE has written. The column lists come
// from the drizzle schema, so a column added there is written here too.
import { getTableColumns, type Column } from 'drizzle-orm';
import type pg from 'pg';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './connection.ts';
import { attachments, attachmentThumbnails, authors, conversationEvents, type AttachmentRow, type AuthorRow, type EventRow, type ThumbnailRow } from './schema.ts';

// The event columns that are parts of `raw` are defined here only, as SQL over the stored `raw`:
// the mapper does not compute them, and a page is a third smaller to serialise, send and parse.
const DERIVED = [
  // The client checked that these three are strings.
  { key: 'reference', name: 'reference', sql: `r."raw"->>'reference'` },
  { key: 'eventId', name: 'event_id', sql: `r."raw"->>'id'` },
  { key: 'type', name: 'type', sql: `r."raw"->>'type'` },
  // Whatever shape Zendesk sends (an object, a string, an array) is kept; absent is null.
  { key: 'content', name: 'content', sql: `nullif(r."raw"->'content', 'null'::jsonb)` },
  { key: 'metadata', name: 'metadata', sql: `nullif(r."raw"->'metadata', 'null'::jsonb)` },
  {
    key: 'bodyHtml',
    name: 'body_html',
    sql: `case when r."raw"->'content'->>'type' = 'html' and jsonb_typeof(r."raw"->'content'->'body') = 'string' then r."raw"->'content'->>'body' end`,
  },
] as const satisfies readonly { key: keyof EventRow; name: string; sql: string }[];

/** An event row as the mapper gives it: every column but those derived from `raw` in SQL. */
export type MappedEventRow = Omit<EventRow, (typeof DERIVED)[number]['key']>;

/** One page's rows for the four tables, as the mapper gives them. */
export interface PageRows {
  authors: AuthorRow[];
  events: MappedEventRow[];
  attachments: AttachmentRow[];
  thumbnails: ThumbnailRow[];
}

export interface PageProgress {
  ticketId: number;
  /** The cursor to resume from once this page is stored. */
  afterCursor: string | null;
  /** Requests this page cost (retries included). */
  requests: number;
}

export interface StoredPage {
  /** Events inserted or changed by this page; unchanged re-reads count nothing. */
  eventsWritten: number;
}

interface InputColumn {
  key: string;
  name: string;
  type: string;
}

/** Columns a row brings (those with a database default, bookkeeping times, are set here). */
function inputColumns(table: PgTable, skip: string[] = []): InputColumn[] {
  return Object.entries(getTableColumns(table) as Record<string, Column>)
    .filter(([key, column]) => !column.hasDefault && !skip.includes(key))
    .map(([key, column]) => ({ key, name: column.name, type: column.getSQLType() }));
}

const quoted = (name: string) => `"${name}"`;

/** `jsonb_to_recordset($n) as r(...)`, reading the rows' own (camelCase) property names. */
function recordset(param: string, columns: InputColumn[]): string {
  return `jsonb_to_recordset(${param}::jsonb) as r(${columns.map((c) => `${quoted(c.key)} ${c.type}`).join(', ')})`;
}

/** `(a, b) is distinct from (excluded.a, excluded.b)`: only then is a stored row touched. */
function differs(table: string, names: string[]): string {
  return `(${names.map((n) => `${table}.${quoted(n)}`).join(', ')}) is distinct from (${names.map((n) => `excluded.${quoted(n)}`).join(', ')})`;
}

/** Insert every input column; on conflict take every incoming column but the key, when `where`. */
function upsertFiles(table: PgTable, tableName: string, param: string, compared: string[]): string {
  const columns = inputColumns(table);
  const names = columns.map((c) => quoted(c.name)).join(', ');
  const set = columns.filter((c) => c.name !== 'id').map((c) => `${quoted(c.name)} = excluded.${quoted(c.name)}`);
  return `insert into zendesk.${tableName} as t (${names})
      select ${columns.map((c) => `r.${quoted(c.key)}`).join(', ')} from ${recordset(param, columns)} order by r."id"
      on conflict (id) do update set ${[...set, 'updated_at = now()'].join(', ')}
      where ${differs('t', compared)}`;
}

const FILE_FIELDS = ['file_name', 'content_type', 'content_url', 'mapped_content_url', 'url', 'size', 'width', 'height', 'inline', 'deleted'];

const AUTHOR_COLUMNS = inputColumns(authors);
const EVENT_COLUMNS = inputColumns(conversationEvents, DERIVED.map((d) => d.key));
const EVENT_INSERT = [...EVENT_COLUMNS.map((c) => c.name), ...DERIVED.map((d) => d.name)];

// $1 authors, $2 events, $3 attachments, $4 thumbnails (jsonb arrays); $5 ticket, $6 cursor,
// $7 events on the page, $8 requests it cost.
const STORE_PAGE = `
with authors_written as (
  insert into zendesk.authors as a (${AUTHOR_COLUMNS.map((c) => quoted(c.name)).join(', ')})
  select ${AUTHOR_COLUMNS.map((c) => `r.${quoted(c.key)}`).join(', ')} from ${recordset('$1', AUTHOR_COLUMNS)} order by r."authorKey"
  on conflict (author_key) do update set
    -- A later event that omits a field must not erase what an earlier one told us.
    support_user_id = coalesce(excluded.support_user_id, a.support_user_id),
    sunco_user_id = coalesce(excluded.sunco_user_id, a.sunco_user_id),
    type = coalesce(excluded.type, a.type),
    display_name = coalesce(excluded.display_name, a.display_name),
    avatar_url = coalesce(excluded.avatar_url, a.avatar_url),
    updated_at = now()
  where (excluded.support_user_id is not null and excluded.support_user_id is distinct from a.support_user_id)
     or (excluded.sunco_user_id is not null and excluded.sunco_user_id is distinct from a.sunco_user_id)
     or (excluded.type is not null and excluded.type is distinct from a.type)
     or (excluded.display_name is not null and excluded.display_name is distinct from a.display_name)
     or (excluded.avatar_url is not null and excluded.avatar_url is distinct from a.avatar_url)
  returning 1
),
events_written as (
  insert into zendesk.conversation_events as e (${EVENT_INSERT.map(quoted).join(', ')})
  select ${[...EVENT_COLUMNS.map((c) => `r.${quoted(c.key)}`), ...DERIVED.map((d) => d.sql)].join(', ')} from ${recordset('$2', EVENT_COLUMNS)}
  on conflict (reference) do update set
    ${[...EVENT_INSERT.filter((n) => n !== 'reference').map((n) => `${quoted(n)} = excluded.${quoted(n)}`), 'updated_at = now()'].join(', ')}
  -- raw holds everything the other columns are derived from; a row marked deleted that Zendesk
  -- serves again (an undeleted ticket) is live again.
  where ${differs('e', ['raw', 'ticket_id', 'deleted_at'])}
  returning 1
),
attachments_written as (
  ${upsertFiles(attachments, 'attachments', '$3', [...FILE_FIELDS, 'event_reference', 'ticket_id', 'deleted_at'])}
  returning 1
),
thumbnails_written as (
  ${upsertFiles(attachmentThumbnails, 'attachment_thumbnails', '$4', [...FILE_FIELDS, 'attachment_id', 'ticket_id', 'deleted_at'])}
  returning 1
),
cursor_saved as (
  insert into zendesk.ticket_sync as s (ticket_id, status, after_cursor, pages_synced, events_last_run, requests_last_run)
  values ($5, 'syncing', $6, 1, $7, $8)
  on conflict (ticket_id) do update set
    after_cursor = excluded.after_cursor,
    pages_synced = s.pages_synced + 1,
    events_last_run = s.events_last_run + excluded.events_last_run,
    requests_last_run = s.requests_last_run + excluded.requests_last_run,
    updated_at = now()
  returning 1
),
-- The commit does not wait for its WAL to reach disk. Should the server crash within that
-- moment, the page is lost together with its cursor, so the next run fetches it again: the
-- guarantee (page and cursor, or neither) holds, and the worker stops idling on every flush.
-- A CTE runs only when referenced, hence the reference below.
commit_asynchronously as (
  select set_config('synchronous_commit', 'off', true) as setting
)
select (select count(*) from events_written)::int as events_written,
       (select setting from commit_asynchronously) as commit_mode`;

/**
 * A page ready to send, its rows serialised: the costly part, done while the previous page is
 * still being written.
 */
export interface PreparedPage {
  readonly values: readonly unknown[];
}

export function preparePage(rows: PageRows, progress: PageProgress): PreparedPage {
  return {
    values: [
      JSON.stringify(rows.authors),
      JSON.stringify(rows.events),
      JSON.stringify(rows.attachments),
      JSON.stringify(rows.thumbnails),
      progress.ticketId,
      progress.afterCursor,
      rows.events.length,
      progress.requests,
    ],
  };
}

export async function storePage(db: Db, page: PreparedPage): Promise<StoredPage> {
  // Sorted keys (the order by in each CTE) give every statement the same lock order, so two
  // tickets sharing an author or attachment never deadlock.
  // A named statement: each connection plans it once (planning it took as long as running it).
  const client = (db as Db & { $client: pg.Pool | pg.PoolClient | pg.Client }).$client;
  const result = await client.query<{ events_written: number }>({
    name: 'convlog_store_page',
    text: STORE_PAGE,
    values: [...page.values],
  });
  return { eventsWritten: result.rows[0].events_written };
}
