// query refuses every statement that is not a query by its first word, but only a write is told
// where writes go (psql): prepare, declare, listen or set change no data, and "to change data on
// purpose, run the statement in psql" sent a person who typed one to the wrong place. Refused
// before any database is opened, so a server that is not there is enough.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const NOWHERE = { DATABASE_URL: 'postgres://convlog@127.0.0.1:1/nowhere' };
const query = (sql: string) => runCli(['query', sql], { env: NOWHERE, timeoutMs: 30_000 });
const TO_WRITE = '; query only reads: to change data on purpose, run the statement in psql';

it.each(['prepare p as select 1', 'declare c cursor for select 1', 'listen x', 'set search_path to zendesk', 'begin'])(
  '%s is refused as not a query, not as a write',
  async (sql) => {
    const result = await query(sql);
    expect(result.code).toBe(2);
    const keyword = sql.split(' ')[0];
    expect(result.stderr).toBe(
      `convlog query: the query must only read (select, with, values, table, explain or show), got "${keyword}…"; nothing was changed\n`,
    );
  },
);

it.each(['insert into t values (1)', 'lock table zendesk.tickets', 'vacuum zendesk.tickets', 'security label on table t is null', 'do $$ begin end $$'])(
  '%s is refused as a write, with where writes go',
  async (sql) => {
    const result = await query(sql);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`got "${sql.split(' ')[0]}…"; nothing was changed${TO_WRITE}`);
  },
);
