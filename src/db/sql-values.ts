// Values handed to SQL, in the shapes every db module needs. drizzle spreads a JS array into one
// parameter per element, which long lists of ids would exhaust, and text would need quoting in
// an array literal: these send one parameter each.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';

/** Anything that runs SQL: the database or a transaction on it. */
export type Executor = Pick<Db, 'execute'>;

/** Ticket (or other) ids as one `bigint[]` parameter. */
export function idArray(ids: readonly number[]): SQL {
  return sql`${`{${ids.join(',')}}`}::bigint[]`;
}

/** Any values as a Postgres array, through one jsonb parameter (no quoting to get wrong). */
export function asArray(values: readonly (string | number)[], type: 'text' | 'bigint'): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::${sql.raw(type)}[]`;
}

/**
 * A time as text that reads back as the very same instant, microseconds kept, on any connection:
 * `::text` follows the session's DateStyle, whose non-ISO styles write a zone abbreviation
 * that reads back as another zone (CST is read as US Central, IST as Israel).
 */
export function exactTime(time: SQL): SQL<string> {
  return sql<string>`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * `column NOT IN (values)`, which Postgres answers with a hashed subplan. `column <> all(array)`
 * compares every row with the whole array: on a 50,000-event ticket's full read that took tens
 * of seconds.
 */
export function notAmong(column: SQL, values: readonly (string | number)[], type: 'text' | 'bigint'): SQL {
  return sql`${column} not in (select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)::${sql.raw(type)})`;
}
