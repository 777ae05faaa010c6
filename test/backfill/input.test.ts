// What a person types (ticket ids, --since, --cron, --sql) and what the export answers, checked without the CLI.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketIdsFromSql } from '../../src/db/read-only-query.ts';
import { UsageError } from '../../src/errors/convlog-errors.ts';
import { BadRequest, Forbidden, InvalidResponse } from '../../src/errors/zendesk-errors.ts';
import { validateCron } from '../../src/queue/backfill-schedule.ts';
import { readTicketIds } from '../../src/commands/ticket-ids.ts';
import { parseSince } from '../../src/commands/args.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { pageIncrementalExport, validateExportPage, type ExportStart } from '../../src/zendesk/incremental-export.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { EMAIL, TOKEN } from './helpers.ts';

describe('ticket ids', () => {
  const refusal = (sources: Parameters<typeof readTicketIds>[0]) =>
    readTicketIds(sources).then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );

  it('reads the largest id JavaScript keeps exactly, leading zeros included', async () => {
    expect(await readTicketIds({ args: ['9007199254740991', '007'] })).toEqual([9007199254740991, 7]);
  });

  it('says an id beyond that is too large, not that it is no positive integer', async () => {
    for (const big of ['9007199254740992', '99999999999999999999999']) {
      const error = await refusal({ args: ['5', big] });
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe(`invalid ticket id "${big}" (argument 2, too large): ids are positive integers up to 9007199254740991; nothing was queued`);
    }
    const range = await refusal({ range: '1..9007199254740993' });
    expect(range.message).toBe('invalid --range "1..9007199254740993": an end is too large (ids are at most 9007199254740991); nothing was queued');
  });

  it('reads a # comment after the ids of a line as it does one on a line of its own', async () => {
    const stdin = Readable.from(['# escalations\n12 # vip\n13,14 #and two more\n  # indented\n']);
    expect(await readTicketIds({ file: '-', stdin })).toEqual([12, 13, 14]);
  });

  it('a file of comments only is refused naming it, unless the command allows it (enqueue queues 0)', async () => {
    await expect(readTicketIds({ file: '-', stdin: Readable.from(['# none today\n\n']) })).rejects.toThrow(/^stdin holds no ticket ids \(only blank lines or comments\); nothing was queued$/);
    expect(await readTicketIds({ file: '-', stdin: Readable.from(['# none today\n']), allowEmptyFile: true })).toEqual([]);
  });

  it('refuses an id written with thousands separators, which commas alone would split into two tickets', async () => {
    const args = await refusal({ args: ['12,045'], nothing: 'nothing was purged' });
    expect(args.message).toBe(
      'invalid ticket id "12,045" (argument 1): ids are positive integers (' +
        '"12,045" reads as one number with thousands separators: write 12045, or put a space after each comma for several ids); nothing was purged',
    );
    const file = await refusal({ file: '-', stdin: Readable.from(['7\n1,234,567\n']) });
    expect(file.message).toMatch(/^invalid ticket id "1,234,567" \(stdin line 2\): .*write 1234567/);
    // Commas still separate ids that cannot be one grouped number, and a space after a comma says "several".
    expect(await readTicketIds({ args: ['1,2,3', '12, 045', '1234,5678'] })).toEqual([1, 2, 3, 12, 45, 1234, 5678]);
  });

  it('keeps the plain rule for what is no id at all', async () => {
    expect((await refusal({ args: ['0', 'abc'] })).message).toBe(
      'invalid ticket id "0" (argument 1), "abc" (argument 2): ids are positive integers; nothing was queued',
    );
  });
});

describe('--since', () => {
  const now = Date.parse('2024-06-15T12:00:00Z');
  const sec = (iso: string) => Date.parse(iso) / 1000;

  it.each([
    ['7d', sec('2024-06-08T12:00:00Z')],
    ['12h', sec('2024-06-15T00:00:00Z')],
    ['90m', sec('2024-06-15T10:30:00Z')],
    ['2w', sec('2024-06-01T12:00:00Z')],
    ['3600s', sec('2024-06-15T11:00:00Z')],
    ['2024-05-01', sec('2024-05-01T00:00:00Z')],
    ['2024-05-01T08:00', sec('2024-05-01T08:00:00Z')],
    ['2024-05-01T08:00:30Z', sec('2024-05-01T08:00:30Z')],
    ['2024-05-01 08:00:30.9Z', sec('2024-05-01T08:00:30Z')],
    ['2024-05-01T10:00:00+02:00', sec('2024-05-01T08:00:00Z')],
    ['2024-05-01T10:00:00+0200', sec('2024-05-01T08:00:00Z')],
    ['2024-02-29', sec('2024-02-29T00:00:00Z')],
    [' 7D ', sec('2024-06-08T12:00:00Z')],
  ])('%s', (text, expected) => {
    expect(parseSince(text, now)).toEqual({ startTime: expected, clamped: false });
  });

  // Zendesk's minute is by its clock: 30 s more, for a machine whose clock runs a little ahead.
  it.each(['0m', '30s', '1m', '89s', '2024-06-15T11:59:00Z', '2024-06-15T12:00:00Z'])('"%s" is less than 90 s ago: 90 s ago', (text) => {
    expect(parseSince(text, now)).toEqual({ startTime: now / 1000 - 90, clamped: true });
  });

  it('"90s" is taken as it is', () => {
    expect(parseSince('90s', now)).toEqual({ startTime: now / 1000 - 90, clamped: false });
  });

  it.each([
    ['yesterday', /invalid --since "yesterday": give an ISO date or time/],
    ['', /invalid --since ""/],
    ['7', /invalid --since "7"/],
    ['7x', /invalid --since "7x"/],
    ['-3d', /^invalid --since "-3d": a duration is written without a minus, as a time before now: --since 3d means 3 days ago$/],
    ['-1h', /^invalid --since "-1h": a duration is written without a minus, as a time before now: --since 1h means 1 hour ago$/],
    ['-2024-05-01', /^invalid --since "-2024-05-01": a date is written without a minus: --since 2024-05-01$/],
    ['-yesterday', /^invalid --since "-yesterday": give an ISO date or time/],
    ['2023-02-29', /no such date or time/],
    ['2024-02-30', /no such date or time/],
    ['2024-13-01', /no such date or time/],
    ['2024-05-01T25:00', /no such date or time/],
    ['2024-06-15T12:00:01Z', /is in the future/],
    ['2999-01-01', /is in the future/],
    ['1969-12-31', /before 1970/],
    ['05/01/2024', /invalid --since/],
  ])('"%s" is a usage error', (text, message) => {
    const error = (() => {
      try {
        parseSince(text, now);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a usage error');
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

it('a bad --since lists the forms parseSince takes, each of which it takes', () => {
  const now = Date.parse('2024-06-15T12:00:00Z');
  const message = (() => {
    try {
      parseSince('soon', now);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected a usage error');
  })();
  expect(message).toBe(
    'invalid --since "soon": give an ISO date or time (2024-05-01, 2024-05-01T08:00:00Z, 2024-05-01 08:00; UTC unless it names an offset) ' +
      'or a duration before now, a whole number of s, m, h, d or w (90m, 12h, 7d, 2w)',
  );
  for (const example of ['2024-05-01', '2024-05-01T08:00:00Z', '2024-05-01 08:00', '90m', '12h', '7d', '2w', '120s']) {
    expect(() => parseSince(example, now), example).not.toThrow();
  }
});

describe('--cron', () => {
  // Never started: pg-boss parses expressions without a database.
  const boss = new PgBoss({ connectionString: 'postgres://unused@localhost/unused' });

  it.each(['* * * * *', '*/15 * * * *', '0 6 * * 1-5', '30 */2 * * *', '0 0 1 * *', '@hourly', '@weekdays', 'FREQ=DAILY;BYHOUR=6;BYMINUTE=0'])('accepts "%s"', (cron) => {
    const next = validateCron(boss, cron);
    expect(next).toHaveLength(3);
    expect(next[0].getTime()).toBeGreaterThan(Date.now() - 1000);
  });

  it.each([
    ['', /got nothing/],
    ['every minute', /expected 5 fields/],
    ['* * *', /expected 5 fields.*got 3/],
    ['* * * * * * *', /expected 5 fields.*got 7/],
    ['*/30 * * * * *', /expected 5 fields.*got 6/],
    ['61 * * * *', /61/],
    ['* * 32 * *', /32|day/i],
    ['0 0 31 2 *', /day of month/i],
    ['@sometimes', /"@sometimes" is not a schedule name pg-boss knows: @yearly, @annually, @monthly, @weekly, @daily, @hourly, @minutely, @weekdays, @weekends/],
    // Its message named an alias cut from the word ("cannot resolve alias \"reb\"").
    ['@reboot', /"@reboot" is not a schedule name pg-boss knows/],
    // Accepted, it promised a backfill a second: schedules are looked for every 30 s.
    ['@secondly', /@secondly is a run every second, and pg-boss looks for due schedules every 30 s/],
    ['RRULE:FREQ=SECONDLY', /it runs 1 s apart, and pg-boss looks for due schedules every 30 s: at most once a minute/],
    ['FREQ=MINUTELY;BYSECOND=0,30', /it runs 30 s apart/],
  ])('rejects "%s" in one line', (cron, message) => {
    let error: Error | undefined;
    try {
      validateCron(boss, cron);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message).toMatch(/^invalid --cron ".*": .*; use 5 fields such as/);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain('\n');
  });
});

describe('--sql', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (10, 'failed'), (11, 'synced'), (12, 'failed')`);
  });
  afterAll(() => database?.close());

  it.each([
    ["select ticket_id from zendesk.ticket_sync where status = 'failed' order by 1", [10, 12]],
    ['select generate_series(1, 3)', [1, 2, 3]],
    ['select 5::smallint union all select 9007199254740991::bigint', [5, 9007199254740991]],
    ['select 7::numeric(20, 0)', [7]],
    ['  -- a comment first\n  with t as (select 4 as id) select id, \'ignored\' from t', [4]],
    ['(select 8)', [8]],
    ['values (3), (3)', [3, 3]],
    ['select 1 where false', []],
  ])('%s', async (sql, ids) => {
    expect(await ticketIdsFromSql(database.pool, sql)).toEqual(ids);
  });

  it.each([
    ['', /is empty/],
    ['selec 1', /has a syntax error: syntax error at or near "selec" \(at character 1\)/],
    ['delete from zendesk.ticket_sync', /must be a query/],
    ["copy (select 1) to '/tmp/x'", /must be a query/],
    ['select (1', /has a syntax error: syntax error at end of input/],
    ['select 1; commit; delete from zendesk.ticket_sync', /must be a single statement/],
    ['with d as (delete from zendesk.ticket_sync returning ticket_id) select ticket_id from d', /must only read, but it writes/],
    ['select nextval(\'zendesk.nope\')', /failed: relation "zendesk.nope" does not exist/],
    ["select 'abc' as id", /returned text in its first column "id"/],
    ['select 1.5::float8', /returned double precision/],
    ['select now()', /returned timestamptz/],
    ['select pg_sleep(0), 5', /returned void \(what a function called for its effect, such as pg_sleep, returns\) in its first column "pg_sleep"/],
    ['select 1.5::numeric', /row 1 has "1.5"/],
    ['select 3 union all select null', /row 2 has null/],
    ['select 0', /row 1 has "0"/],
    ['select -4', /row 1 has "-4"/],
    ['select 9007199254740992::bigint', /row 1 has "9007199254740992" in column "int8", which is too large.*up to 9007199254740991/],
    ['select 99999999999999999999::numeric', /row 1 has "99999999999999999999" in column "numeric", which is too large/],
    ['select from zendesk.ticket_sync', /returned no columns/],
    ['select id from no_such_table', /failed: relation "no_such_table" does not exist/],
  ])('rejects %s', async (sql, message) => {
    const error = await ticketIdsFromSql(database.pool, sql).then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^--sql .*; nothing was queued$/);
    expect(error.message).not.toContain('\n');
    // The transaction was rolled back and the connection went back to the pool usable.
    expect((await database.pool.query('select count(*)::int as n from zendesk.ticket_sync')).rows[0].n).toBe(3);
  });

  it('stops a runaway query (a cross join) once it passes 10,000,000 rows, rather than hold them all', { timeout: 120_000 }, async () => {
    // 15 million rows, made as they are read: each fetch is quick, so only the row limit ends it.
    const error = await ticketIdsFromSql(database.pool, 'select a from generate_series(1, 5000) a, generate_series(1, 3000) b').catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe('--sql returned more than 10,000,000 rows: split the query; nothing was queued');
  });

  it('stops a slow query at the statement timeout', async () => {
    const error = await ticketIdsFromSql(database.pool, 'select 1 from pg_sleep(5)', { timeoutMs: 200 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/ran longer than 200 ms and was cancelled/);
  });
});

describe('the export client', () => {
  let server: http.Server;
  let url: string;
  let reply: (req: http.IncomingMessage) => { status: number; body: string; headers?: Record<string, string> };
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const { status, body, headers } = reply(req);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => createZendeskHttp({ baseUrl: url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 2_000 });
  async function drain(start: ExportStart) {
    const pages = [];
    for await (const page of pageIncrementalExport(client(), start, { maxAttempts: 2, retryBaseMs: 1 })) pages.push(page);
    return pages;
  }
  const fail = (promise: Promise<unknown>) => promise.then(() => new Error('expected a rejection'), (e: unknown) => e as Error);

  it('encodes the cursor and stops at end_of_stream; an empty last page keeps the cursor', async () => {
    seen.length = 0;
    const pages = [
      { tickets: [{ id: 1, status: 'open', generated_timestamp: 100, extra: { kept: true } }], after_cursor: 'a+b/c==', end_of_stream: false },
      { tickets: [{ id: 2, status: 'deleted', updated_at: '2024-05-01T00:00:00Z' }], after_cursor: null, end_of_stream: true },
    ];
    let n = 0;
    reply = () => ({ status: 200, body: JSON.stringify(pages[n++]) });
    const got = await drain({ startTime: 50 });
    const scope = 'support_type_scope=all&include=users%2Cgroups%2Corganizations';
    expect(seen).toEqual([`/api/v2/incremental/tickets/cursor.json?start_time=50&${scope}`, `/api/v2/incremental/tickets/cursor.json?cursor=a%2Bb%2Fc%3D%3D&${scope}`]);
    expect(got.map((p) => [p.cursorBefore, p.afterCursor, p.endOfStream])).toEqual([[null, 'a+b/c==', false], ['a+b/c==', 'a+b/c==', true]]);
    expect(got[0].tickets[0]).toEqual(pages[0].tickets[0]); // passed through as received
    expect(got[0].position).toEqual(new Date(100_000));
    expect(got[1].position).toEqual(new Date('2024-05-01T00:00:00Z'));
  });

  it.each([
    [{ tickets: [{ id: '1', status: 'open', generated_timestamp: 1 }], end_of_stream: true }, /tickets\[0\]\.id: expected a positive integer ticket id, got "1"/],
    [{ tickets: [{ id: 1, generated_timestamp: 1 }], end_of_stream: true }, /tickets\[0\]\.status: expected a status string/],
    [{ tickets: [{ id: 1, status: 'open' }], end_of_stream: true }, /expected generated_timestamp or updated_at, got neither/],
    [{ tickets: [{ id: 1, status: 'open', updated_at: 'yesterday' }], end_of_stream: true }, /tickets\[0\]\.updated_at: expected an ISO 8601 timestamp/],
    [{ tickets: [] }, /end_of_stream: expected true or false, got nothing/],
    [{ tickets: [], end_of_stream: false, after_cursor: null }, /after_cursor: expected a cursor because end_of_stream is false/],
    [{ end_of_stream: true }, /tickets: expected an array of tickets/],
  ])('rejects a page that is not usable: %j', (body, message) => {
    expect(() => validateExportPage(body)).toThrow(InvalidResponse);
    expect(() => validateExportPage(body)).toThrow(message);
  });

  it('retries an invalid body, then fails naming the problem', async () => {
    seen.length = 0;
    reply = () => ({ status: 200, body: '{"tickets": [' });
    const error = await fail(drain({ startTime: 50 }));
    expect(error).toBeInstanceOf(InvalidResponse);
    expect(error.message).toMatch(/cut off/);
    expect(seen).toHaveLength(2);
  });

  it('a cursor that repeats while end_of_stream is false is an error, not a loop', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ tickets: [], after_cursor: 'same', end_of_stream: false }) });
    const error = await fail(drain({ cursor: 'same' }));
    expect(error).toBeInstanceOf(InvalidResponse);
    expect(error.message).toMatch(/after_cursor repeats/);
  });

  it('says what a 403, or a 400 on a saved cursor, means for the export', async () => {
    reply = () => ({ status: 403, body: JSON.stringify({ error: 'Forbidden', description: 'You do not have access' }) });
    const forbidden = await fail(drain({ startTime: 50 }));
    expect(forbidden).toBeInstanceOf(Forbidden);
    expect(forbidden.message).toMatch(/refused the incremental ticket export, which is for admins only.*403 Forbidden: Forbidden: You do not have access/);

    reply = () => ({ status: 400, body: JSON.stringify({ error: 'InvalidValue', description: 'cursor is not valid' }) });
    const stale = await fail(drain({ cursor: 'old' }));
    expect(stale).toBeInstanceOf(BadRequest);
    expect(stale.message).toMatch(/rejected the saved export cursor; start again with --since \(400 Bad Request: InvalidValue: cursor is not valid\)/);
    expect(stale.message).not.toContain(TOKEN);

    // The code Zendesk gives a stale cursor: worded for the export, not as a ticket's log cursor.
    reply = () => ({ status: 400, body: JSON.stringify({ errors: [{ code: 'InvalidPaginationParameter', title: 'Invalid pagination parameter' }] }) });
    const invalid = await fail(drain({ cursor: 'old' }));
    expect(invalid).toBeInstanceOf(BadRequest);
    expect(invalid.message).toMatch(/rejected the saved export cursor; start again with --since/);
    expect(invalid.message).not.toMatch(/re-read it from the first event/);
  });
});
