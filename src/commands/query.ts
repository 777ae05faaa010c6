// `convlog query "select …"`: what was synced, for people without psql. One statement that
// only reads (src/db/run-read-only.ts), printed as an aligned table or as CSV.
import fs from 'node:fs';
import { clearLine, cursorTo } from 'node:readline';
import { text } from 'node:stream/consumers';
import { openCommandDatabase } from './runtime.ts';
import { SQL_TIMEOUT_MS } from '../db/read-only-query.ts';
import { streamReadOnly, type ResultColumn, type RowSink } from '../db/run-read-only.ts';
import { assertQueryStatement } from '../db/statement-kind.ts';
import { formatRows } from './table.ts';
import { demoDataElsewhere } from './demo-elsewhere.ts';
import { anyTicketRecorded } from '../db/status-report.ts';
import { QueryRejected, QueryWrites, UsageError } from '../errors/convlog-errors.ts';
import { unreadableFileReason } from '../errors/messages.ts';
import { counted, grouped, printable } from '../text.ts';
import type { Command, OutputStream } from './types.ts';

const USAGE = 'convlog query "SQL" | - | --file (-f) PATH [--csv]';

// A refused write was often meant: the analyst who typed it wants to know where writes go.
const TO_WRITE = '; query only reads: to change data on purpose, run the statement in psql ("$DATABASE_URL", or the URL "npx convlog db-server" prints for the embedded Postgres)';

export const query: Command = {
  usage: USAGE,
  options: { file: { type: 'string', short: 'f' }, csv: { type: 'boolean' } },
  allowPositionals: true,
  stopping: 'cancelling the query',
  async run(values, positionals, ctx) {
    try {
      const sql = await readSql(positionals, values.file as string | undefined, ctx.stdin);
      // Before the database: starting the embedded one takes seconds, to refuse what needs none.
      assertQueryStatement(sql);
      // No migration: a read-only login (convlog grant-readonly) may query but not migrate.
      const config = ctx.config();
      const database = await openCommandDatabase(ctx, config, { migrate: false, poolSize: 1 });
      const csv = values.csv ? csvWriter(ctx.stdout, ctx.stderr) : undefined;
      const table = tableRows(TABLE_TEXT_LIMIT);
      let elsewhere: string | undefined;
      try {
        // The line naming the demo's folder, on the embedded default beside one. A database without
        // convlog's tables holds no ticket: its error gives the line (the first query after `npm run
        // demo`); so does an answer from a database that recorded no ticket.
        const demoLine = await demoDataElsewhere(config, () => true, 'query …');
        await streamReadOnly(database.pool, sql, SQL_TIMEOUT_MS, csv ?? table, { signal: ctx.signal, demoHint: demoLine });
        csv?.end(true);
        // A login that may not read ticket_sync gets no hint rather than an error after its answer.
        if (demoLine && !(await anyTicketRecorded(database.pool).catch(() => true))) elsewhere = demoLine;
      } catch (error) {
        csv?.end(false);
        // The reader stopped early (`| head`): nothing is left to say, as for any Unix tool.
        if (error instanceof ReaderGone) return 0;
        throw error;
      } finally {
        await database.close();
      }
      if (!csv) {
        const { columns, rows } = table.result;
        const lines = formatRows(columns.map((c) => c.name), rows, columns.map((c) => NUMBER_TYPES.has(c.dataTypeID)));
        const count = lines.pop();
        for (const line of lines) ctx.out(line);
        // The count goes apart, so that stdout holds only the table.
        ctx.stderr.write(`${count}\n`);
      }
      if (elsewhere) ctx.stderr.write(`${elsewhere}\n`);
      return 0;
    } catch (error) {
      // What the person typed is wrong: one line (the CLI prints it, control characters escaped),
      // no usage text, exit 2, and nothing ran or changed.
      if (!(error instanceof UsageError)) throw error;
      const message = error instanceof QueryRejected ? `the query ${error.message}; nothing was changed${error instanceof QueryWrites ? TO_WRITE : ''}` : error.message;
      throw new UsageError(message, { cause: error, showUsage: false });
    }
  },
};

async function readSql(positionals: string[], file: string | undefined, stdin: NodeJS.ReadableStream): Promise<string> {
  if (positionals.length > 1) {
    throw new UsageError(`give the query as one quoted argument, e.g. convlog query "select count(*) from zendesk.conversation_events" (got ${positionals.length} arguments)`);
  }
  const source = file ?? positionals[0];
  if (source === undefined) throw new UsageError(`give a query: ${USAGE}`);
  if (file !== undefined && positionals.length > 0) throw new UsageError('give the query either as an argument or with --file, not both');
  let sql: string;
  if (source === '-') {
    sql = await text(stdin);
  } else if (file !== undefined) {
    try {
      sql = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${printable(file, 200)}: ${unreadableFileReason(error)}`, { cause: error });
    }
  } else {
    sql = source;
  }
  if (sql.trim() === '') throw new UsageError(`the query is empty${source === '-' ? ' (nothing on standard input)' : file ? ` (${printable(file, 200)})` : ''}`);
  return sql;
}

// The types psql right-aligns: int2, int4, int8, oid, float4, float8, numeric, money. The
// medians and minutes of README's examples are numeric: left-aligned, they read as text.
const NUMBER_TYPES = new Set([21, 23, 20, 26, 700, 701, 1700, 790]);

/** Text a table is aligned from at most (UTF-16 units of its values): past it, --csv is the way. */
export const TABLE_TEXT_LIMIT = 100_000_000;

/** The rows of a table, kept to be aligned once all have come, up to `limit` characters of values. */
function tableRows(limit: number): RowSink & { result: { columns: ResultColumn[]; rows: (string | null)[][] } } {
  const result = { columns: [] as ResultColumn[], rows: [] as (string | null)[][] };
  let characters = 0;
  return {
    result,
    columns: (columns) => (result.columns = columns),
    rows: (batch) => {
      for (const row of batch) {
        for (const value of row) characters += value?.length ?? 0;
        result.rows.push(row);
      }
      if (characters > limit) {
        throw new QueryRejected(
          `returned more than ${limit / 1e6} MB of text within its first ${grouped(result.rows.length)} rows, too much to align as a table: use --csv, which writes the rows as they come, or narrow the query`,
        );
      }
    },
  };
}

/** The reader of stdout went away (`| head` had its lines): the query stops there. */
class ReaderGone extends Error {}

/**
 * CSV written a batch at a time, each batch written out before the next is fetched, so memory
 * holds one batch whatever the result's size. RFC 4180 quoting: a value holding a comma, a quote
 * or a line break is quoted, its quotes doubled. NULL is an empty field and the empty string a
 * quoted one ("") so the two stay apart, as in Postgres's own COPY … CSV. Lines end in \n, as
 * COPY writes them.
 */
function csvWriter(stdout: OutputStream, stderr: OutputStream): RowSink & Pick<RowCount, 'end'> {
  const count = csvCount(stdout, stderr);
  const field = (value: string | null) => {
    if (value === null) return '';
    return value === '' || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  };
  const line = (values: (string | null)[]) => values.map(field).join(',');
  return {
    columns: (columns) => void stdout.write(`${line(columns.map((c) => c.name))}\n`),
    rows: (batch) =>
      new Promise<void>((resolve, reject) => {
        if ((stdout as { destroyed?: boolean }).destroyed) return reject(new ReaderGone());
        stdout.write(`${batch.map(line).join('\n')}\n`, (error) => {
          if (error) return reject(new ReaderGone('stdout was closed', { cause: error }));
          count.written(batch.length);
          resolve();
        });
      }),
    end: count.end,
  };
}

interface RowCount {
  written(rows: number): void;
  /** Clears the running count; `complete`, says how many rows there were. */
  end(complete: boolean): void;
}

/**
 * For a person at a terminal: while a CSV goes to a file or a pipe, how many rows are out so far
 * (a long export is not taken for a hung one), and at the end "(N rows)", as a table ends. Nothing
 * when stderr is no terminal: scripts read stderr for errors only.
 */
function csvCount(stdout: OutputStream, stderr: OutputStream): RowCount {
  let rows = 0;
  let shownAt = Date.now();
  let shown = false;
  const show = (text: string) => {
    cursorTo(stderr, 0);
    clearLine(stderr, 0);
    stderr.write(text);
  };
  return {
    written(added) {
      rows += added;
      // Not over the CSV itself when both go to the terminal.
      if (!stderr.isTTY || stdout.isTTY || Date.now() - shownAt < 250) return;
      shownAt = Date.now();
      shown = true;
      show(`${grouped(rows)} rows written…`);
    },
    end(complete) {
      if (shown) show('');
      if (complete && stderr.isTTY) stderr.write(`(${counted(rows, 'row')})\n`);
    },
  };
}
