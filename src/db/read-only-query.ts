// `convlog enqueue --sql "select id from …"`: ticket ids from a person's query, run as `convlog
// query` runs one (src/db/run-read-only.ts): it cannot change anything, cannot run forever, and
// Ctrl-C cancels it. Every row is checked before any id is returned, so a bad query or a bad
// value queues nothing.
import type pg from 'pg';
import { Interrupted, QueryRejected, UsageError } from '../errors/convlog-errors.ts';
import { MAX_ID, readId, type IdReading } from '../ids.ts';
import { grouped, quoted } from '../text.ts';
import { streamReadOnly, type ResultColumn, type RowSink } from './run-read-only.ts';
import { statementKind } from './statement-kind.ts';

export const SQL_TIMEOUT_MS = 60_000;
/** More ids than this is almost certainly a wrong query (a cross join); split it. */
const MAX_SQL_IDS = 10_000_000;

// Integer column types: int2, int4, int8. numeric is accepted when every value is whole.
const INTEGER_TYPES = new Set([21, 23, 20]);
const NUMERIC = 1700;
const TYPE_NAMES: Record<number, string> = {
  16: 'boolean', 25: 'text', 700: 'real', 701: 'double precision', 1043: 'varchar', 1082: 'date',
  1114: 'timestamp', 1184: 'timestamptz', 2950: 'uuid', 114: 'json', 3802: 'jsonb', 1700: 'numeric',
  17: 'bytea', 18: 'char', 19: 'name', 26: 'oid', 705: 'unknown (an untyped literal)', 869: 'inet', 1007: 'integer[]',
  1016: 'bigint[]', 1009: 'text[]', 1083: 'time', 1186: 'interval', 2249: 'record',
  2278: 'void (what a function called for its effect, such as pg_sleep, returns)',
};

const nothing = '; nothing was queued';

function rejected(message: string, cause?: unknown): UsageError {
  // About the query, not how the command was typed: the usage line would be noise.
  return new UsageError(`--sql ${message}${nothing}`, { cause, showUsage: false });
}

/**
 * Runs `sql` read-only and returns the ticket ids in its first column, or throws one UsageError.
 * With `signal`, an abort (Ctrl-C) cancels the query in Postgres and the call fails with Interrupted.
 */
export async function ticketIdsFromSql(pool: pg.Pool, sql: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number[]> {
  // Read-only still lets COPY … TO and the like through; only queries are asked for (not explain or show).
  const statement = statementKind(sql, ['(', 'select', 'with', 'values', 'table']);
  if (statement.kind === 'empty') throw rejected('is empty: give a query such as "select ticket_id from zendesk.ticket_sync where status = \'failed\'"');
  if (statement.kind === 'refuse') throw rejected(`must be a query (select, with, values or table), got "${statement.keyword}…"`);
  // Checked as the rows come, a fetch at a time: a query that runs away (a cross join) is stopped
  // at the limit rather than held in memory.
  const ids: number[] = [];
  let field: ResultColumn = { name: '', dataTypeID: 0 };
  const sink: RowSink = {
    columns: (columns) => {
      if (columns.length === 0) throw rejected('returned no columns: select the ticket id as the first column');
      field = columns[0];
      if (!INTEGER_TYPES.has(field.dataTypeID) && field.dataTypeID !== NUMERIC) {
        const type = TYPE_NAMES[field.dataTypeID] ?? `type ${field.dataTypeID}`;
        throw rejected(`returned ${type} in its first column "${field.name}": it must be an integer ticket id (cast it with ::bigint if it holds numbers)`);
      }
    },
    rows: (batch) => {
      for (const row of batch) {
        if (ids.length === MAX_SQL_IDS) throw rejected(`returned more than ${grouped(MAX_SQL_IDS)} rows: split the query`);
        const value = row[0];
        const reading = toTicketId(value);
        if ('problem' in reading) {
          const shown = value === null ? 'null' : quoted(value);
          const why = reading.problem.startsWith('too large') ? `, which is ${reading.problem}` : '';
          throw rejected(`row ${ids.length + 1} has ${shown} in column "${field.name}"${why}: ticket ids are positive integers up to ${MAX_ID}`);
        }
        ids.push(reading.id);
      }
    },
  };
  try {
    await streamReadOnly(pool, sql, options.timeoutMs ?? SQL_TIMEOUT_MS, sink, { signal: options.signal });
  } catch (error) {
    if (error instanceof QueryRejected) throw rejected(error.message, error);
    if (error instanceof Interrupted) throw new Interrupted(`the --sql query was cancelled (interrupted)${nothing}`, { cause: error });
    throw error;
  }
  return ids;
}

function toTicketId(value: unknown): IdReading {
  // Values arrive as the text Postgres prints (an int8's precision kept); a numeric may read "+42.000".
  const numeric = typeof value === 'string' ? /^\+?(\d+)(?:\.0*)?$/.exec(value) : null;
  return readId(numeric ? numeric[1] : value);
}
