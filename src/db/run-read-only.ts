// One statement typed by a person, run so that it cannot change anything and cannot run forever:
// only a query is accepted (src/db/statement-kind.ts), inside a READ ONLY transaction that is
// always rolled back, with a time limit, its rows read a batch at a time so that no result is too
// large for memory. Values come back as the text Postgres prints, so nothing is rounded or
// reformatted on the way (a numeric keeps its digits, a timestamp its zone).
import net from 'node:net';
import pg from 'pg';
import { Interrupted, QueryRejected, QueryWrites } from '../errors/convlog-errors.ts';
import { openPortal, readPortal, type ResultColumn } from './portal.ts';
import { assertQueryStatement } from './statement-kind.ts';

export type { ResultColumn } from './portal.ts';

/**
 * Where a streamed result goes: its columns once, then its rows a batch at a time, the next batch
 * read once `rows` has returned (or its promise resolved), so a slow reader holds back the query
 * instead of filling memory. An error thrown by either stops the query, and the call fails with it.
 */
export interface RowSink {
  columns(columns: ResultColumn[]): void;
  rows(batch: (string | null)[][]): void | Promise<void>;
}

/** Rows a batch brings at most: a batch of wide rows (an event's JSON is a kilobyte or more) stays some megabytes. */
export const ROWS_PER_FETCH = 1_000;

const PORTAL = 'convlog_query';
const INTERRUPTED = 'the query was cancelled (interrupted); nothing was changed';

/**
 * Runs `sql` read-only, its rows handed to `sink` as they come, `rowsPerFetch` at a time
 * (src/db/portal.ts), and the time limit holds for each batch: a long export that keeps moving
 * is not cut off, a batch stuck for the limit is. With `signal`, an abort (Ctrl-C) cancels the
 * statement and the call fails with Interrupted.
 */
export async function streamReadOnly(
  pool: pg.Pool,
  sql: string,
  timeoutMs: number,
  sink: RowSink,
  options: { signal?: AbortSignal; rowsPerFetch?: number; demoHint?: string } = {},
): Promise<void> {
  const { signal, rowsPerFetch = ROWS_PER_FETCH, demoHint } = options;
  assertQueryStatement(sql);
  const ms = Math.max(1, Math.floor(timeoutMs));
  const client = await pool.connect();
  const cancel = () => void cancelStatement(pool, client);
  signal?.addEventListener('abort', cancel, { once: true });
  // Between two batches nothing runs: Postgres may end the session then (the idle timeout, a
  // restart), and pg reports that as an event of the client, which nobody else listens to now.
  let lost: unknown;
  const onLost = (error: unknown) => (lost ??= error);
  client.on('error', onLost);
  try {
    if (signal?.aborted) throw new Interrupted('the query was cancelled before it ran; nothing was changed');
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${ms}`);
    await client.query(`set local idle_in_transaction_session_timeout = ${ms}`);
    // The extended protocol takes exactly one statement, so "…; commit; delete …" cannot end the
    // read-only transaction.
    let batch = await openPortal(client, PORTAL, sql, rowsPerFetch);
    sink.columns(batch.columns);
    for (;;) {
      if (batch.rows.length > 0) await sink.rows(batch.rows);
      if (!batch.more) break;
      if (signal?.aborted) throw new Interrupted(INTERRUPTED);
      batch = await readPortal(client, PORTAL, rowsPerFetch, batch.columns);
    }
  } catch (error) {
    if (signal?.aborted && !(error instanceof Interrupted)) throw new Interrupted(INTERRUPTED, { cause: error });
    const cause = lost ?? error;
    throw explain(cause, timeoutMs, await noConvlogTables(client, cause, demoHint));
  } finally {
    signal?.removeEventListener('abort', cancel);
    await client.query('rollback').catch(() => {});
    client.off('error', onLost);
    client.release(lost instanceof Error ? lost : undefined);
  }
}

const CANCEL_REQUEST_CODE = 80_877_102;
/** How long a cancel request may take to be sent: failing that, the statement still meets its time limit. */
const CANCEL_SEND_MS = 5_000;

/**
 * Asks Postgres to cancel what `client` runs (the client itself is busy until its statement ends)
 * with the protocol's cancel request, on a connection of its own to the same host: the client's
 * process id and secret key, as it was told them when it logged in. Not pg_cancel_backend(pid):
 * behind PgBouncer the client was told PgBouncer's key, whose "pid" is no backend's, and only
 * PgBouncer can map it back to the server connection running the statement. Failing this, the
 * statement still meets its time limit.
 */
async function cancelStatement(pool: pg.Pool, client: pg.PoolClient): Promise<void> {
  const { processID, secretKey } = client as pg.PoolClient & { processID?: number; secretKey?: number };
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return;
  // A client that never connects: pg's reading of the pool's config (URL, PGHOST…) into a host and port.
  const { host, port } = new pg.Client(pool.options);
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);
  await new Promise<void>((resolve) => {
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    socket.setTimeout(CANCEL_SEND_MS, () => socket.destroy());
    // Written, and the connection left for the server to close once it has acted on it, as libpq
    // does: PgBouncer drops a cancel request whose sender hung up before it was passed on.
    socket.on('connect', () => socket.write(request));
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.resume();
  });
}

/**
 * A missing relation in a database without schema zendesk is a database convlog never synced into
 * (a mistyped CONVLOG_DATA_DIR creates an empty one): say that, not only what is missing.
 * `demoHint`, the caller's line naming the demo's folder, replaces the general word on where the
 * demo keeps its data: right after `npm run demo`, a first `query` on the embedded default opens a
 * new cluster that nothing has migrated.
 */
async function noConvlogTables(client: pg.PoolClient, error: unknown, demoHint?: string): Promise<string> {
  const code = (error as { code?: unknown }).code;
  if (code !== '42P01' && code !== '3F000') return '';
  try {
    await client.query('rollback');
    const { rows } = await client.query<{ missing: boolean }>(`select to_regnamespace('zendesk') is null as missing`);
    if (!rows[0]?.missing) return '';
  } catch {
    return '';
  }
  return `; this database has no convlog tables (no schema zendesk): is DATABASE_URL or CONVLOG_DATA_DIR the one convlog synced into? (${demoHint ?? 'the demo keeps its own in <CONVLOG_DATA_DIR>/demo'})`;
}

const seconds = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);

function explain(error: unknown, timeoutMs: number, hint = ''): unknown {
  const e = error as { code?: string; message?: string; position?: string };
  if (typeof e?.code !== 'string') return error;
  const message = (e.message ?? 'failed').replace(/\s+/g, ' ');
  const at = e.position ? ` (at character ${e.position})` : '';
  switch (e.code) {
    case '25006': // read_only_sql_transaction
      return new QueryWrites(`must only read, but it writes: ${message}`, { cause: error });
    case '57014': // query_canceled (statement_timeout)
      return new QueryRejected(
        `ran longer than ${seconds(timeoutMs)} and was cancelled: narrow it or add an index`,
        { cause: error },
      );
    case '25P03': // idle_in_transaction_session_timeout: between two fetches, its reader was busy
      return new QueryRejected(
        `was ended by Postgres: its next rows were not asked for within ${seconds(timeoutMs)} (the rows printed before are not all of them); write them to a file, or narrow the query`,
        { cause: error },
      );
    case '42601': // syntax_error, and "cannot insert multiple commands into a prepared statement"
      if (/multiple commands/i.test(message)) return new QueryRejected('must be a single statement (no ";" between statements)', { cause: error });
      return new QueryRejected(`has a syntax error: ${message}${at}`, { cause: error });
  }
  // Classes 08 (connection), 53 (resources) and 57P (shutdown) are not the statement's fault.
  if (/^(08|53|57P)/.test(e.code)) return error;
  return new QueryRejected(`failed: ${message}${at}${hint}`, { cause: error });
}
