// The one place that decides what a failure means by its class: whether a page request is worth
// sending again (isRetryable), whether Postgres refused a value (refusedValue), what a failure
// does to a ticket and its job (outcomeOf), which exit code a command ends with (exitCodeFor),
// which failure ends a command at once (endsAtOnce), and whether waiting for Postgres can help
// (isTransient, serverWentAway, refusedForLackOfSlots).
import { BackfillBusy, BackfillFailed, ConfigError, DatabaseCannotStore, DatabaseUnavailable, DeletedDuringRun, EmbeddedServerGone, Interrupted, MigrationFailed, RunTakenOver, UsageError } from './convlog-errors.ts';
import { causeWithCode, errorMessage, noPasswordToSend } from './messages.ts';
import { BadRequest, CutOffResponse, Forbidden, InvalidCursor, InvalidResponse, NotZendeskApi, ServerError, TicketNotFound, Unauthorized, ZendeskUnreachable } from './zendesk-errors.ts';

/**
 * The error whose class the policy reads: a 401 on a backfill's tenth page is refused credentials,
 * as on its first, not a failure a retry could mend.
 */
function decisive(error: unknown): unknown {
  return error instanceof BackfillFailed ? error.cause : error;
}

/** A page request worth sending again at once (after a short backoff): transient by nature. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ServerError || error instanceof InvalidResponse;
}

/**
 * Postgres refused a value of the statement: SQLSTATE class 22 (data exception: out of range, a
 * bad date, an invalid text representation) or 23 (integrity constraint violation: a null, a
 * check, a key). The same statement without that value may succeed, so serve's intake records a
 * refused batch again one delivery at a time, and a refused pending comment is left out while
 * its ticket is queued all the same (its sync stores the comment from the log). The SQLSTATE
 * (found among the causes: drizzle wraps Postgres's error), else undefined.
 */
export function refusedValue(error: unknown): string | undefined {
  return causeWithCode(error, (code) => /^2[23][0-9A-Z]{3}$/.test(code))?.code;
}

/** A Zendesk answer that is a fact about the ticket, recorded as its status; not retried. */
export function settledBy(error: unknown): { status: 'not_found' | 'forbidden'; reason: string } | undefined {
  if (error instanceof TicketNotFound) return { status: 'not_found', reason: 'Zendesk answered 404: the ticket was deleted or never existed' };
  if (error instanceof DeletedDuringRun) return { status: 'not_found', reason: 'the ticket was recorded deleted while this run read it' };
  if (error instanceof Forbidden) return { status: 'forbidden', reason: 'Zendesk answered 403: these credentials may not read this ticket' };
  return undefined;
}

export interface Failure {
  error: unknown;
  /** 1 for the first run of the job. */
  attempt: number;
  /** Runs allowed after the first (pg-boss retryLimit). */
  retryLimit: number;
  /** The job was taken over by another worker (or failed by pg-boss) while this one ran it. */
  claimLost: boolean;
  /**
   * The worker is a service (`work`), which waits out a Postgres that stores nothing more; a run
   * someone waits for (`sync`, `work --until-idle`) stops for it instead.
   */
  service?: boolean;
}

export interface Outcome {
  /** What zendesk.ticket_sync records; none when the ticket is no longer this worker's to record. */
  ticket?: {
    status: 'queued' | 'failed' | 'not_found' | 'forbidden';
    reason: string;
    /** A shutdown stopped the run: not a failure, and recorded as not one (ticket_sync.interrupted_at). */
    interrupted?: true;
  };
  /**
   * complete: the job ends, nothing more to do; retry: pg-boss runs it again after its backoff
   * (5 s doubling, at most 5 min), an attempt used; give-up: the job ends (completed by afterRun,
   * src/queue/after-run.ts) and the ticket is failed; hold: it goes back to the queue without
   * using up an attempt, and the worker takes no job until Zendesk answers again (or, with
   * stopWorker, stops; after a shutdown's, it is stopping already).
   */
  job: 'complete' | 'retry' | 'give-up' | 'hold';
  /** No ticket can succeed (credentials, configuration): the worker stops taking jobs. */
  stopWorker: boolean;
  /** What this outcome makes the command that ran it exit with. */
  exitCode: number;
}

/** The status reason of a ticket a service holds while Postgres stores nothing (src/queue/postgres-gate.ts). */
export function waitingToStore(reason: string): string {
  return `waiting for Postgres to store again: ${reason}`;
}

/**
 * What happens when a ticket's job fails, in one table (test/queue/outcome.test.ts has a case per
 * row); a backfill that failed after some pages (BackfillFailed) is the row of its cause. A 404 or
 * 403 of the log is recorded by syncTicket itself (a 404 removes the rows and leaves a tombstone).
 * A backfill's job is held only when a shutdown stops it: anything else but a retry ends it, and
 * the next scheduled one continues from the saved position (src/queue/backfill-job.ts).
 * | failure                                       | ticket      | job      |
 * | claim lost (any error), or the run taken over | untouched   | complete (fenced to this attempt: the newer owner's job goes on) |
 * | another backfill holds the lock               | (no ticket) | complete |
 * | 404 whose body is JSON not naming InvalidEndpoint (RecordNotFound) / 403 | not_found / forbidden | complete |
 * | credentials, configuration, a URL that is not Zendesk's API (a 404 naming InvalidEndpoint or not JSON), a Postgres that stores nothing more (disk full, read-only) in a run someone waits for | queued | hold, due at once; the worker stops (exit 2) |
 * | a Postgres that stores nothing more, in a service (`work`) | queued, "waiting for Postgres to store again: …" | hold, due after the worker's pause (src/queue/postgres-gate.ts) |
 * | Zendesk's host never reached (DNS, refused, connect timeout, TLS) | queued, "waiting for Zendesk: …" | hold, due a second after the next probe |
 * | shutdown (Interrupted: a stop signal; the page being stored commits) | queued, interrupted | hold, due at once (a backfill's job too) |
 * | malformed page, refused request, a cursor refused again after a read from the first event, bad usage | failed | give up (exit 1) |
 * | anything else (outage, database, unforeseen)  | queued      | retry; on the last attempt failed, give up (exit 1) |
 * A hold uses no attempt, not even the last; the reason recorded is the failure's message. Two
 * shutdowns the worker settles without this table (src/queue/worker.ts):
 * | stopped because no ticket can sync (another run met a row that stops the worker, or the check at start did) | queued, "stopped before this run ended: <that failure>", not interrupted | hold, due at once |
 * | a second stop signal, exiting at once (src/queue/jobs-in-flight.ts) | queued, interrupted (EXITED_AT_ONCE) | hold, due at once, if done within 3 s |
 */
export function outcomeOf({ error: failure, attempt, retryLimit, claimLost, service = false }: Failure): Outcome {
  const none = { stopWorker: false, exitCode: 0 };
  const error = decisive(failure);
  // Its next owner writes its status: a `queued` or `failed` from here would race with it.
  if (claimLost || error instanceof RunTakenOver || error instanceof BackfillBusy) return { ...none, job: 'complete' };
  const settled = settledBy(error);
  if (settled) return { ...none, ticket: settled, job: 'complete' };
  const reason = errorMessage(failure);
  const lastAttempt = attempt > retryLimit;
  // Not the ticket's failure either: a retry would spend its attempts (on the last, pg-boss would
  // give the job up) for as long as the credentials stay wrong, or the disk full.
  if (error instanceof DatabaseCannotStore && service) {
    return { ...none, ticket: { status: 'queued', reason: waitingToStore(reason) }, job: 'hold' };
  }
  if (error instanceof Unauthorized || error instanceof ConfigError || error instanceof NotZendeskApi || error instanceof DatabaseCannotStore) {
    return { ...none, ticket: { status: 'queued', reason }, job: 'hold', stopWorker: true, exitCode: exitCodeFor(error) };
  }
  // Nothing was asked of this ticket: a host that never answered must not spend its retries.
  if (error instanceof ZendeskUnreachable) {
    return { ...none, ticket: { status: 'queued', reason: `waiting for Zendesk: ${reason}` }, job: 'hold' };
  }
  // A shutdown is never the ticket's failure: its job goes back as it was (full, priority), due at
  // once for the next worker, no attempt spent however many deploys a long ticket meets.
  if (error instanceof Interrupted) {
    return { ...none, ticket: { status: 'queued', reason, interrupted: true }, job: 'hold' };
  }
  // A body cut off on every attempt is the network's fault, as a 5xx is: the job tries again later.
  const malformed = error instanceof InvalidResponse && !(error instanceof CutOffResponse);
  const hopeless = malformed || error instanceof BadRequest || error instanceof InvalidCursor || error instanceof UsageError;
  if (hopeless || lastAttempt) return { ...none, ticket: { status: 'failed', reason }, job: 'give-up', exitCode: 1 };
  return { ...none, ticket: { status: 'queued', reason }, job: 'retry' };
}

/** 2 for what a person must fix (usage, configuration, credentials, Zendesk's URL, database, its disk, a migration), else 1. */
export function exitCodeFor(failure: unknown): number {
  const error = decisive(failure);
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof DatabaseUnavailable ||
    error instanceof DatabaseCannotStore ||
    error instanceof MigrationFailed ||
    error instanceof Unauthorized ||
    error instanceof NotZendeskApi ||
    error instanceof ZendeskUnreachable
  ) {
    return 2;
  }
  return 1;
}

/** A failure under which no work in flight can finish: the command ends at once (ctx.failWhen). */
export function endsAtOnce(error: unknown): boolean {
  return error instanceof EmbeddedServerGone;
}

// SQLSTATE classes and codes that mean "fix the configuration", not "wait": authentication
// (28), a missing database (3D000), insufficient privilege (42501), invalid parameters (22023).
const PERMANENT = /^(28|3D000|42501|22023)/;

// A server going away under a connection: shut down or restarting (57P01, 57P03), a broken
// connection (class 08), the network's refusal or reset.
const GONE_CODE = /^(57P0[123]|08|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)/;

/**
 * Whether `error` is Postgres going away (a restart, a shutdown, the connection cut), not a
 * statement or a setting at fault: what a service waits out.
 */
export function serverWentAway(error: unknown): boolean {
  if (causeWithCode(error, (code) => GONE_CODE.test(code))) return true;
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (/^Connection terminated/.test(e.message)) return true;
  }
  return false;
}

/** Whether waiting for Postgres can help: the server is down, starting, shutting down or full. */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.errors?.[0]?.code === 'string' ? e.errors[0].code : undefined;
  if (code !== undefined && PERMANENT.test(code)) return false;
  // TLS settings that the server refuses are configuration too, and so is a URL without the
  // password a SCRAM login asks for (pg's own error, without a code).
  if (/\bSSL\b|certificate/i.test(errorMessage(error)) || noPasswordToSend(error)) return false;
  return true;
}

/**
 * A connection refused for want of a free slot (max_connections, or a role's or a database's
 * connection limit: SQLSTATE 53300): the server answered, and is up.
 */
export function refusedForLackOfSlots(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '53300';
}
