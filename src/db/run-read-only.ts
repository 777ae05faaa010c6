// One statement typed by a person, run so that it cannot change anything and cannot run forever:
// only a query is accepted, inside a READ ONLY transaction that is always rolled back, with a
// statement timeout. Values come back as the text Postgres prints, so nothing is rounded or
// reformatted on the way (a numeric keeps its digits, a timestamp its zone).
import net from 'node:net';
import pg from 'pg';
import { Interrupted, UsageError } from '../errors/convlog-errors.ts';

/** Statements that only read: EXPLAIN and SHOW are what an analyst also reaches for. */
const READING_KEYWORDS = ['(', 'select', 'with', 'values', 'table', 'explain', 'show'];

/**
 * The key words a Postgres statement can start with (its grammar's stmt rule, Postgres 17), "("
 * aside. A statement that starts with anything else is a syntax error, so Postgres may be asked
 * to say where: nothing of it runs. Every other statement is refused unless it only reads.
 */
const STATEMENT_KEYWORDS = new Set(
  ('abort alter analyse analyze begin call checkpoint close cluster comment commit copy create deallocate declare ' +
    'delete discard do drop end execute explain fetch grant import insert listen load lock merge move notify prepare ' +
    'reassign refresh reindex release reset revoke rollback savepoint security select set show start table truncate ' +
    'unlisten update vacuum values with').split(' '),
);

/**
 * Of those, the ones that change data, the schema or rights, or rewrite what is stored (vacuum,
 * reindex): refused as writes, whose line says where writes go (src/commands/query.ts). The
 * others (prepare, declare, set, listen, begin…) change nothing: they are refused only for not
 * being a query, and told nothing of writing.
 */
const WRITING_KEYWORDS = new Set(
  ('alter analyse analyze call cluster comment copy create delete do drop grant import insert lock merge reassign ' +
    'refresh reindex revoke security truncate update vacuum').split(' '),
);

// What decides whether a statement may run: its first word in lower case, or "(", or the first
// other character; undefined when it holds only white space, comments and ";". Skips what
// Postgres skips before a statement: white space, -- comments, /* comments */ (which nest, so
// "/* /* */ select */ copy …" starts with copy) and empty statements (";").

export function firstToken(sql: string): string | undefined {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (' \t\n\r\f\v;'.includes(c)) {
      i += 1;
    } else if (sql.startsWith('--', i)) {
      while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i += 1;
    } else if (sql.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth += 1;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth -= 1;
          i += 2;
        } else {
          i += 1;
        }
      } while (depth > 0 && i < sql.length);
      // Unterminated: Postgres's own syntax error says so.
      if (depth > 0) return '/*';
    } else {
      return /^[a-z_\u0080-\uffff][a-z0-9_$\u0080-\uffff]*/i.exec(sql.slice(i, i + 64))?.[0].toLowerCase() ?? c;
    }
  }
  return undefined;
}

/**
 * Whether `sql` may be sent: `run` when it starts with one of `reading`, or with something no
 * statement starts with (a typo: Postgres reports the syntax error and runs nothing); `empty`;
 * else the statement key word it starts with, to refuse.
 */
export function statementKind(sql: string, reading: readonly string[]): { kind: 'run' } | { kind: 'empty' } | { kind: 'refuse'; keyword: string } {
  const token = firstToken(sql);
  if (token === undefined) return { kind: 'empty' };
  if (reading.includes(token) || !STATEMENT_KEYWORDS.has(token)) return { kind: 'run' };
  return { kind: 'refuse', keyword: token };
}

/**
 * The statement is the person's mistake: its message is a predicate ("must only read, …") for
 * the caller to put after its own subject ("the query", "--sql").
 */
export class QueryRejected extends UsageError {}

/** Refused because it would write (its first word, or Postgres in the read-only transaction). */
export class QueryWrites extends QueryRejected {}

export interface ReadOnlyResult {
  columns: { name: string; dataTypeID: number }[];
  /** One array per row, one text value (or null) per column. */
  rows: (string | null)[][];
}

const AS_TEXT: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

/** Refuses, before anything is opened, a statement that is empty or does not start as a query. */
export function assertQueryStatement(sql: string): void {
  // READ ONLY still lets COPY … TO a file and the like through; only queries are asked for.
  const statement = statementKind(sql, READING_KEYWORDS);
  if (statement.kind === 'empty') throw new QueryRejected(sql.trim() === '' ? 'is empty' : 'holds no statement, only comments');
  if (statement.kind === 'refuse') {
    const Refusal = WRITING_KEYWORDS.has(statement.keyword) ? QueryWrites : QueryRejected;
    throw new Refusal(`must only read (select, with, values, table, explain or show), got "${statement.keyword}…"`);
  }
}

/** With `signal`, an abort (Ctrl-C) cancels the statement and the call fails with Interrupted. */
export async function runReadOnly(pool: pg.Pool, sql: string, timeoutMs: number, signal?: AbortSignal): Promise<ReadOnlyResult> {
  assertQueryStatement(sql);
  const ms = Math.max(1, Math.floor(timeoutMs));
  const client = await pool.connect();
  const cancel = () => void cancelStatement(pool, client);
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    if (signal?.aborted) throw new Interrupted('the query was cancelled before it ran; nothing was changed');
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${ms}`);
    await client.query(`set local idle_in_transaction_session_timeout = ${ms}`);
    // The extended protocol takes exactly one statement, so "…; commit; delete …" cannot end the
    // read-only transaction.
    const result = await client.query({ text: sql, rowMode: 'array', queryMode: 'extended', types: AS_TEXT } as pg.QueryArrayConfig);
    return {
      columns: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: result.rows as (string | null)[][],
    };
  } catch (error) {
    if (signal?.aborted && !(error instanceof Interrupted)) throw new Interrupted('the query was cancelled (interrupted); nothing was changed', { cause: error });
    throw explain(error, timeoutMs, await noConvlogTables(client, error));
  } finally {
    signal?.removeEventListener('abort', cancel);
    await client.query('rollback').catch(() => {});
    client.release();
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
 */
async function noConvlogTables(client: pg.PoolClient, error: unknown): Promise<string> {
  const code = (error as { code?: unknown }).code;
  if (code !== '42P01' && code !== '3F000') return '';
  try {
    await client.query('rollback');
    const { rows } = await client.query<{ missing: boolean }>(`select to_regnamespace('zendesk') is null as missing`);
    if (!rows[0]?.missing) return '';
  } catch {
    return '';
  }
  return '; this database has no convlog tables (no schema zendesk): is DATABASE_URL or CONVLOG_DATA_DIR the one convlog synced into? (the demo keeps its own in <CONVLOG_DATA_DIR>/demo)';
}

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
        `ran longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} and was cancelled: narrow it or add an index`,
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
