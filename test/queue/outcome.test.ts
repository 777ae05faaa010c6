// One case per row of the outcome table in src/errors/outcome.ts (outcomeOf), plus the exit codes and
// the one-line message of an error.
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import {
  asDatabaseCannotStore,
  BackfillBusy,
  BackfillFailed,
  ConfigError,
  DatabaseCannotStore,
  DatabaseUnavailable,
  Interrupted,
  RunTakenOver,
  UsageError,
} from '../../src/errors/convlog-errors.ts';
import { errorMessage } from '../../src/errors/messages.ts';
import { outcomeOf, exitCodeFor, refusedValue, type Failure, type Outcome } from '../../src/errors/outcome.ts';
import {
  BadRequest,
  CutOffResponse,
  Forbidden,
  InvalidCursor,
  InvalidResponse,
  NotZendeskApi,
  RateLimited,
  ServerError,
  TicketNotFound,
  Unauthorized,
  ZendeskUnreachable,
} from '../../src/errors/zendesk-errors.ts';

const first = (error: unknown, more: Partial<Failure> = {}) => outcomeOf({ error, attempt: 1, retryLimit: 8, claimLost: false, ...more });
const last = (error: unknown) => first(error, { attempt: 9 });

describe('outcomeOf', () => {
  it('leaves a ticket whose claim was lost to its new owner, whatever the error', () => {
    for (const error of [new ServerError('503'), new Interrupted('stop'), new Unauthorized('401'), new InvalidResponse('bad')]) {
      expect(first(error, { claimLost: true })).toEqual({ job: 'complete', stopWorker: false, exitCode: 0 });
    }
  });

  it("leaves a ticket whose run was taken over (its write found a newer run) to that run's worker", () => {
    expect(first(new RunTakenOver('another run started'))).toEqual({ job: 'complete', stopWorker: false, exitCode: 0 });
    expect(last(new RunTakenOver('another run started'))).toEqual({ job: 'complete', stopWorker: false, exitCode: 0 });
  });

  it('completes a backfill job that found another backfill running', () => {
    expect(first(new BackfillBusy('busy'))).toEqual({ job: 'complete', stopWorker: false, exitCode: 0 });
  });

  it('records 404 and 403 as the ticket status and completes the job, even on the last attempt', () => {
    expect(first(new TicketNotFound('404'))).toEqual({
      ticket: { status: 'not_found', reason: 'Zendesk answered 404: the ticket was deleted or never existed' },
      job: 'complete',
      stopWorker: false,
      exitCode: 0,
    });
    expect(last(new Forbidden('403'))).toMatchObject({
      ticket: { status: 'forbidden', reason: 'Zendesk answered 403: these credentials may not read this ticket' },
      job: 'complete',
    });
  });

  it('stops the worker on bad credentials or configuration, the ticket queued for later (exit 2)', () => {
    const notTheApi = new NotZendeskApi("ZENDESK_BASE_URL (http://127.0.0.1:7101/api/v2) answered 404 Not Found for /api/v2/tickets/1/conversation_log (InvalidEndpoint: Not found), which is not Zendesk's API");
    for (const error of [new Unauthorized('401 Unauthorized'), new ConfigError('ZENDESK_EMAIL is missing'), notTheApi]) {
      expect(first(error)).toEqual({
        ticket: { status: 'queued', reason: error.message },
        job: 'hold',
        stopWorker: true,
        exitCode: 2,
      });
    }
  });

  it("holds every ticket and stops the worker when Postgres stores nothing more (disk full, read-only), on the last attempt too (exit 2)", () => {
    for (const code of ['53100', '25006']) {
      const pgError = Object.assign(new Error(code === '53100' ? 'could not extend file "base/1/2": No space left on device' : 'cannot execute INSERT in a read-only transaction'), { code });
      const error = asDatabaseCannotStore(new DrizzleQueryError('insert into …', [], pgError))!;
      expect(error).toBeInstanceOf(DatabaseCannotStore);
      expect(error.message).toContain(pgError.message);
      for (const outcome of [first(error), last(error)]) {
        expect(outcome).toEqual({ ticket: { status: 'queued', reason: error.message }, job: 'hold', stopWorker: true, exitCode: 2 });
      }
    }
    // A service waits it out: the ticket held with its attempt unspent, the worker kept running.
    const full = asDatabaseCannotStore(Object.assign(new Error('could not extend file'), { code: '53100' }))!;
    for (const attempt of [1, 9]) {
      expect(outcomeOf({ error: full, attempt, retryLimit: 8, claimLost: false, service: true })).toEqual({
        ticket: { status: 'queued', reason: `waiting for Postgres to store again: ${full.message}` },
        job: 'hold',
        stopWorker: false,
        exitCode: 0,
      });
    }
    // Any other SQLSTATE is no such verdict: the ticket's retries deal with it.
    expect(asDatabaseCannotStore(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBeUndefined();
  });

  it('holds an interrupted ticket, its attempt unspent, on the last attempt too', () => {
    const error = new Interrupted('interrupted by shutdown after page 3');
    for (const outcome of [first(error), last(error)]) {
      expect(outcome).toEqual({ ticket: { status: 'queued', reason: error.message, interrupted: true }, job: 'hold', stopWorker: false, exitCode: 0 });
    }
  });

  it('holds a ticket whose Zendesk cannot be reached, without using up an attempt, even the last', () => {
    const unreachable = new ZendeskUnreachable('cannot reach Zendesk at http://127.0.0.1:9: the connection was refused');
    for (const outcome of [first(unreachable), last(unreachable)]) {
      expect(outcome).toEqual({
        ticket: { status: 'queued', reason: 'waiting for Zendesk: cannot reach Zendesk at http://127.0.0.1:9: the connection was refused' },
        job: 'hold',
        stopWorker: false,
        exitCode: 0,
      });
    }
  });

  it('gives up at once on what no retry can fix (exit 1)', () => {
    for (const error of [new InvalidResponse('no events array'), new BadRequest('400'), new InvalidCursor('cursor'), new UsageError('bad')]) {
      expect(first(error)).toEqual({ ticket: { status: 'failed', reason: error.message }, job: 'give-up', stopWorker: false, exitCode: 1 });
    }
  });

  it('retries anything else until the last attempt, then fails the ticket (exit 1)', () => {
    const cutOff = new CutOffResponse('the JSON body is cut off after 14863 characters');
    for (const error of [new ServerError('503'), cutOff, new RateLimited('429', 1000), new DatabaseUnavailable('down'), new Error('deadlock detected')]) {
      expect(first(error, { attempt: 8 })).toEqual({ ticket: { status: 'queued', reason: error.message }, job: 'retry', stopWorker: false, exitCode: 0 });
      expect(last(error)).toEqual({ ticket: { status: 'failed', reason: error.message }, job: 'give-up', stopWorker: false, exitCode: 1 });
    }
  });

  it('gives up on the first attempt when no retry is allowed', () => {
    expect(first(new ServerError('503'), { retryLimit: 0 })).toMatchObject({ job: 'give-up' });
  });

  it("reads a backfill that failed after some pages as its cause's row, with the wrapper's message", () => {
    const after = (cause: Error) => new BackfillFailed(`${cause.message} (after 1 page: …)`, { cause });
    const cases: [Error, Outcome['job'], number][] = [
      [new Unauthorized('401'), 'hold', 2],
      [new ZendeskUnreachable('cannot reach Zendesk'), 'hold', 0],
      [new InvalidResponse('ticket 7: via.channel'), 'give-up', 1],
      [new BadRequest('400'), 'give-up', 1],
      [new ServerError('503'), 'retry', 0],
    ];
    for (const [cause, job, exitCode] of cases) {
      const outcome = first(after(cause));
      expect(outcome).toMatchObject({ job, exitCode });
      expect(outcome.ticket?.reason).toMatch(/\(after 1 page: …\)$/);
    }
  });
});

describe('exitCodeFor', () => {
  it('is 2 for what a person must fix and 1 for anything else', () => {
    for (const error of [new UsageError('x'), new ConfigError('x'), new DatabaseUnavailable('x'), new Unauthorized('x'), new NotZendeskApi('x')]) expect(exitCodeFor(error)).toBe(2);
    for (const error of [new ServerError('x'), new InvalidResponse('x'), new Error('x'), 'a string']) expect(exitCodeFor(error)).toBe(1);
  });

  it('is that of the cause of a backfill that failed after some pages', () => {
    expect(exitCodeFor(new BackfillFailed('401 (after 2 pages: …)', { cause: new Unauthorized('401') }))).toBe(2);
    expect(exitCodeFor(new BackfillFailed('503 (after 2 pages: …)', { cause: new ServerError('503') }))).toBe(1);
  });
});

describe('errorMessage', () => {
  it("gives Postgres's reason for a failed drizzle statement, never the statement or its parameters", () => {
    const reason = new Error('date/time field value out of range: "0000-06-01T00:00:00.000Z"');
    const failed = new DrizzleQueryError('insert into zendesk.pending_comments select … from jsonb_to_recordset($1::jsonb)', ['[{"body":"private words"}]'], reason);
    expect(errorMessage(failed)).toBe(reason.message);
    const lost = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], '');
    expect(errorMessage(new DrizzleQueryError('select 1', [], lost))).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    const bare = errorMessage(new DrizzleQueryError('select secret', ['private words']));
    expect(bare).not.toMatch(/Failed query|secret|private/);
  });
});

describe('refusedValue', () => {
  const pgError = (code: string) => Object.assign(new Error('refused'), { code });
  it('is the SQLSTATE of a data exception or an integrity violation, under drizzle too', () => {
    expect(refusedValue(pgError('22003'))).toBe('22003');
    expect(refusedValue(pgError('23502'))).toBe('23502');
    expect(refusedValue(new DrizzleQueryError('insert …', [], pgError('22P02')))).toBe('22P02');
  });
  it('is undefined for any other failure', () => {
    expect(refusedValue(pgError('25006'))).toBeUndefined();
    expect(refusedValue(pgError('53100'))).toBeUndefined();
    expect(refusedValue(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(refusedValue('22003')).toBeUndefined();
  });
});
