// Which statements a person's query may be: what its first word says, read as Postgres reads it,
// before anything is sent. Shared by `convlog query` and `enqueue --sql` (src/db/run-read-only.ts
// runs what passes).
import { QueryRejected, QueryWrites } from '../errors/convlog-errors.ts';

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

function firstToken(sql: string): string | undefined {
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

/** Refuses, before anything is opened, a statement that is empty or does not start as a query. */
export function assertQueryStatement(sql: string): void {
  // READ ONLY still lets COPY … TO a file and the like through; only queries are asked for.
  const statement = statementKind(sql, READING_KEYWORDS);
  if (statement.kind === 'empty') throw new QueryRejected(sql.trim() === '' ? 'is empty' : /--|\/\*/.test(sql) ? 'holds no statement, only comments' : 'holds no statement');
  if (statement.kind === 'refuse') {
    const Refusal = WRITING_KEYWORDS.has(statement.keyword) ? QueryWrites : QueryRejected;
    throw new Refusal(`must only read (select, with, values, table, explain or show), got "${statement.keyword}…"`);
  }
}
