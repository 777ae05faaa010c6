// `convlog enqueue --sql "select id from …"`: ticket ids from a person's query, run so that it
// cannot change anything (one statement, in a READ ONLY transaction that is rolled back) and
// cannot run forever (statement_timeout). Every row is checked before any id is returned, so a
// bad query or a bad value queues nothing.
import type pg from 'pg';
import { UsageError } from '../errors.ts';
import { MAX_ID, quoted, readId, type IdReading } from '../ids.ts';
import { statementKind } from './run-read-only.ts';

export const SQL_TIMEOUT_MS = 60_000;
/** More ids than this is almost certainly a wrong query (a cross join); split it. */
export const MAX_SQL_IDS = 10_000_000;

// Integer column types: int2, int4, int8. numeric is accepted when every value is whole.
const INTEGER_TYPES = new Set([21, 23, 20]);
const NUMERIC = 1700;
const TYPE_NAMES: Record<number, string> = {
  16: 'boolean', 25: 'text', 700: 'real', 701: 'double precision', 1043: 'varchar', 1082: 'date',
  1114: 'timestamp', 1184: 'timestamptz', 2950: 'uuid', 114: 'json', 3802: 'jsonb', 1700: 'numeric',
};

const nothing = '; nothing was queued';

function rejected(message: string): UsageError {
  // About the query, not how the command was typed: the usage line would be noise.
  return new UsageError(`--sql ${message}${nothing}`, { showUsage: false });
}

/** Runs `sql` read-only and returns the ticket ids in its first column, or throws one UsageError. */
export async function ticketIdsFromSql(pool: pg.Pool, sql: string, options: { timeoutMs?: number } = {}): Promise<number[]> {
  // Read-only still lets COPY … TO and the like through; only queries are asked for.
  const statement = statementKind(sql, ['(', 'select', 'with', 'values', 'table']);
  if (statement.kind === 'empty') throw rejected('is empty: give a query such as "select ticket_id from zendesk.ticket_sync where status = \'failed\'"');
  if (statement.kind === 'refuse') throw rejected(`must be a query (select, with, values or table), got "${statement.keyword}…"`);
  const timeoutMs = options.timeoutMs ?? SQL_TIMEOUT_MS;
  const client = await pool.connect();
  let result: pg.QueryArrayResult<unknown[]>;
  try {
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await client.query(`set local idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    // The extended protocol takes exactly one statement, so "…; commit; delete …" cannot end the
    // read-only transaction.
    result = await client.query({ text: sql, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig);
  } catch (error) {
    throw explain(error, timeoutMs);
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }

  if (result.fields.length === 0) throw rejected('returned no columns: select the ticket id as the first column');
  const field = result.fields[0];
  const integer = INTEGER_TYPES.has(field.dataTypeID);
  if (!integer && field.dataTypeID !== NUMERIC) {
    const type = TYPE_NAMES[field.dataTypeID] ?? `type ${field.dataTypeID}`;
    throw rejected(`returned ${type} in its first column "${field.name}": it must be an integer ticket id (cast it with ::bigint if it holds numbers)`);
  }
  if (result.rows.length > MAX_SQL_IDS) throw rejected(`returned ${result.rows.length} rows, more than ${MAX_SQL_IDS}: split the query`);

  const ids: number[] = new Array(result.rows.length);
  for (let i = 0; i < result.rows.length; i++) {
    const value = result.rows[i][0];
    const reading = toTicketId(value);
    if ('problem' in reading) {
      const shown = value === null ? 'null' : quoted(value);
      const why = reading.problem.startsWith('too large') ? `, which is ${reading.problem}` : '';
      throw rejected(`row ${i + 1} has ${shown} in column "${field.name}"${why}: ticket ids are positive integers up to ${MAX_ID}`);
    }
    ids[i] = reading.id;
  }
  return ids;
}

function toTicketId(value: unknown): IdReading {
  // int8 and numeric arrive as text (precision kept); a numeric may read "+42.000".
  const numeric = typeof value === 'string' ? /^\+?(\d+)(?:\.0*)?$/.exec(value) : null;
  return readId(numeric ? numeric[1] : value);
}

function explain(error: unknown, timeoutMs: number): Error {
  const e = error as { code?: string; message?: string; position?: string };
  if (typeof e?.code !== 'string') return error as Error;
  const message = (e.message ?? 'failed').replace(/\s+/g, ' ');
  switch (e.code) {
    case '25006': // read_only_sql_transaction
      return rejected(`must only read, but it writes: ${message}`);
    case '57014': // query_canceled (statement_timeout)
      return rejected(`ran longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} and was cancelled: narrow the query or add an index`);
    case '42601': {
      // syntax_error, and "cannot insert multiple commands into a prepared statement"
      const multiple = /multiple commands/i.test(message);
      if (multiple) return rejected('must be a single statement (no ";" between statements)');
      return rejected(`has a syntax error: ${message}${e.position ? ` (at character ${e.position})` : ''}`);
    }
  }
  // Classes 08 (connection) and 53 (resources) are not the query's fault.
  if (/^(08|53|57P)/.test(e.code)) return error as Error;
  return rejected(`failed: ${message}`);
}
