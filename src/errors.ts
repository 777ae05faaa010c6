// Every error convlog raises on purpose is one of these classes. What a failure does to a ticket
// and its job (outcomeOf), and which exit code a command ends with, is decided here and nowhere else.
// drizzle-orm/errors is the small module that declares its query error, not the whole library.
import { DrizzleQueryError } from 'drizzle-orm/errors';

export class ConvlogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A person can fix it: bad flags, ids, dates, environment. Exit 2. `showUsage: false` when the
 * message is about a value given (a query) and the command's usage line would be noise.
 */
export class UsageError extends ConvlogError {
  readonly showUsage: boolean;
  constructor(message: string, options?: { cause?: unknown; showUsage?: boolean }) {
    super(message, options);
    this.showUsage = options?.showUsage ?? true;
  }
}

/** The environment or `.env` is missing or has bad values. Exit 2. */
export class ConfigError extends ConvlogError {}

/** Postgres cannot be reached or refuses us. Exit 2 at start-up, retried by workers. */
export class DatabaseUnavailable extends ConvlogError {}

/**
 * Run as root, the embedded Postgres runs as user "postgres", which cannot enter `folder`: one
 * line naming the chmod that lets it in, then `remedies`, the other ways out. A command for which
 * one is none (DATABASE_URL, to the demo, which never uses it) leaves it out with `without`.
 */
export class FolderClosedToPostgres extends DatabaseUnavailable {
  readonly folder: string;
  readonly where: string;
  readonly remedies: readonly string[];

  constructor(folder: string, where: string, remedies: readonly string[]) {
    const ways = [`run "chmod o+x ${folder}"`, ...remedies];
    const last = ways.pop()!;
    const said = ways.length > 0 ? `${ways.join(', ')}, or ${last}` : last;
    super(`the embedded Postgres runs as user "postgres", which cannot enter ${folder} (${where}): ${said}`);
    this.folder = folder;
    this.where = where;
    this.remedies = remedies;
  }

  /** The same refusal without `remedy`. */
  without(remedy: string): FolderClosedToPostgres {
    return new FolderClosedToPostgres(this.folder, this.where, this.remedies.filter((r) => r !== remedy));
  }
}

/** The way out of a folder closed to the embedded Postgres that every command but the demo has. */
export const SET_DATABASE_URL = 'set DATABASE_URL';

/**
 * The embedded Postgres this command uses has ended under it (its postmaster gone: killed, or
 * stopped by a convlog older than the hand-off of src/db/cluster-handoff.ts). Never retried:
 * nothing in this command would start it again, so the command ends at once, exit 2.
 */
export class EmbeddedServerGone extends DatabaseUnavailable {}

/** A failure under which no work in flight can finish: the command ends at once (ctx.failWhen). */
export function endsAtOnce(error: unknown): boolean {
  return error instanceof EmbeddedServerGone;
}

/**
 * A migration's statement failed (an object created by hand under the same name, say). The
 * pending migrations run in one transaction, so none of them was applied. Exit 2.
 */
export class MigrationFailed extends ConvlogError {}

export interface ZendeskErrorContext {
  status?: number;
  ticketId?: number;
  cursor?: string | null;
}

/** Base of every failure talking to Zendesk; carries what a person needs to find the request. */
export class ZendeskError extends ConvlogError {
  readonly status?: number;
  readonly ticketId?: number;
  readonly cursor?: string | null;
  constructor(message: string, context: ZendeskErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.status = context.status;
    this.ticketId = context.ticketId;
    this.cursor = context.cursor;
  }
}

/** 401: credentials are wrong. Nothing else will work, so the whole command stops. */
export class Unauthorized extends ZendeskError {}
/** 403: the agent may not read this ticket. A recorded outcome, not a failure. */
export class Forbidden extends ZendeskError {}
/**
 * 404 whose body is Zendesk's JSON (RecordNotFound): the ticket was deleted or never existed. A recorded
 * outcome, not a failure (its rows are removed).
 */
export class TicketNotFound extends ZendeskError {}
/**
 * The configured URL answers, but not as Zendesk's API does: a 404 naming InvalidEndpoint (an
 * unknown route) or whose body is not JSON (an HTML page, text, nothing), or, at start-up, any answer of
 * /users/me that is not Zendesk's (ZENDESK_BASE_URL with /api/v2 in it, a plain web server).
 * Says nothing about any ticket: no row is touched, and the whole run stops, as for Unauthorized.
 */
export class NotZendeskApi extends ZendeskError {}
/** 400 InvalidPaginationParameter: the saved cursor is no longer accepted; re-read from the start. */
export class InvalidCursor extends ZendeskError {}
/** Any other 4xx: a request Zendesk will never accept as sent. */
export class BadRequest extends ZendeskError {}

/** 429: the account's budget is spent; wait `retryAfterMs` and try again. Never fails a job. */
export class RateLimited extends ZendeskError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, context: ZendeskErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx, a timeout or a dropped connection: transient. */
export class ServerError extends ZendeskError {}

/** A 2xx whose body is not JSON or not the shape the sync relies on. */
export class InvalidResponse extends ZendeskError {
  readonly problem: string;
  constructor(problem: string, context: ZendeskErrorContext = {}, options?: { cause?: unknown }) {
    const where = [
      context.ticketId !== undefined ? `ticket ${context.ticketId}` : undefined,
      `page cursor ${context.cursor ?? '(first page)'}`,
    ].filter(Boolean).join(', ');
    super(`invalid response from Zendesk (${where}): ${problem}`, context, options);
    this.problem = problem;
  }
}

/** The run stopped between two pages because the process is shutting down; nothing is lost. */
export class Interrupted extends ConvlogError {}

/**
 * Another run of the ticket started since this one did: its job was taken over by another worker
 * while this one was cut off or frozen past its heartbeat. This run stores no more pages, does
 * not end, and records no 404 or 403 it meets (src/db/store-page.ts, src/sync/sync-ticket.ts).
 */
export class RunTakenOver extends ConvlogError {}

/** Another backfill (a command or a scheduled job in some worker) holds the lock. */
export class BackfillBusy extends ConvlogError {}

/**
 * A backfill failed after some pages were done: their tickets are queued and their position saved.
 * Its message adds that to its cause's; its cause's class decides the outcome and the exit code.
 */
export class BackfillFailed extends ConvlogError {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

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

/** A Zendesk answer that is a fact about the ticket, recorded as its status; not retried. */
export function settledBy(error: unknown): { status: 'not_found' | 'forbidden'; reason: string } | undefined {
  if (error instanceof TicketNotFound) return { status: 'not_found', reason: 'Zendesk answered 404: the ticket was deleted or never existed' };
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
   * complete: the job ends, nothing more to do; retry: pg-boss runs it again; give-up: it ends
   * failed; hold: it goes back to the queue without using up an attempt, and the worker stops
   * taking jobs until Zendesk answers again.
   */
  job: 'complete' | 'retry' | 'give-up' | 'hold';
  /** Queue the ticket afresh once the worker has stopped (its job could not be retried again). */
  requeue: boolean;
  /** No ticket can succeed (credentials, configuration): the worker stops taking jobs. */
  stopWorker: boolean;
  /** What this outcome makes the command that ran it exit with. */
  exitCode: number;
}

/**
 * What happens when a job fails, in one table (test/queue/outcome.test.ts has a case per row);
 * a backfill that failed after some pages (BackfillFailed) is the row of its cause:
 * | failure                                       | ticket      | job      |
 * | claim lost (any error), or the run taken over | untouched   | complete |
 * | another backfill holds the lock               | (no ticket) | complete |
 * | 404 RecordNotFound / 403                      | not_found / forbidden | complete |
 * | credentials, configuration, a URL that is not Zendesk's API (any other 404) | queued | hold: no attempt used, even the last; the worker stops (exit 2) |
 * | Zendesk's host unreachable (DNS, refused)     | queued, "waiting for Zendesk" | hold: no attempt used, even the last |
 * | shutdown (Interrupted)                        | queued, interrupted | retry; on the last attempt complete and requeue |
 * | malformed page, refused request, bad cursor   | failed      | give up (exit 1) |
 * | anything else (outage, database, unforeseen)  | queued      | retry; on the last attempt failed, give up (exit 1) |
 */
export function outcomeOf({ error: failure, attempt, retryLimit, claimLost }: Failure): Outcome {
  const none = { requeue: false, stopWorker: false, exitCode: 0 };
  const error = decisive(failure);
  // Its next owner writes its status: a `queued`, `failed` or requeue from here would race with it.
  if (claimLost || error instanceof RunTakenOver || error instanceof BackfillBusy) return { ...none, job: 'complete' };
  const settled = settledBy(error);
  if (settled) return { ...none, ticket: settled, job: 'complete' };
  const reason = errorMessage(failure);
  const lastAttempt = attempt > retryLimit;
  // Not the ticket's failure either: a retry would spend its attempts (on the last, pg-boss would
  // give the job up) for as long as the credentials stay wrong.
  if (error instanceof Unauthorized || error instanceof ConfigError || error instanceof NotZendeskApi) {
    return { ...none, ticket: { status: 'queued', reason }, job: 'hold', stopWorker: true, exitCode: exitCodeFor(error) };
  }
  // Nothing was asked of this ticket: a host that never answered must not spend its retries.
  if (error instanceof ZendeskUnreachable) {
    return { ...none, ticket: { status: 'queued', reason: `waiting for Zendesk: ${reason}` }, job: 'hold' };
  }
  // A shutdown is never the ticket's failure; past its retries it is queued again as a new job.
  if (error instanceof Interrupted) {
    return { ...none, ticket: { status: 'queued', reason, interrupted: true }, job: lastAttempt ? 'complete' : 'retry', requeue: lastAttempt };
  }
  const hopeless = error instanceof InvalidResponse || error instanceof BadRequest || error instanceof InvalidCursor || error instanceof UsageError;
  if (hopeless || lastAttempt) return { ...none, ticket: { status: 'failed', reason }, job: 'give-up', exitCode: 1 };
  return { ...none, ticket: { status: 'queued', reason }, job: 'retry' };
}

/** 2 for what a person must fix (usage, configuration, credentials, Zendesk's URL, database, a migration), else 1. */
export function exitCodeFor(failure: unknown): number {
  const error = decisive(failure);
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof DatabaseUnavailable ||
    error instanceof MigrationFailed ||
    error instanceof Unauthorized ||
    error instanceof NotZendeskApi ||
    error instanceof ZendeskUnreachable
  ) {
    return 2;
  }
  return 1;
}

/**
 * The first error in `error`'s chain of causes (itself first, three deep) whose `code` passes
 * `test`: drizzle keeps Postgres's error, with its SQLSTATE, as the cause of its own.
 */
export function causeWithCode(error: unknown, test: (code: string) => boolean): (Error & { code: string }) | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && test(code)) return e as Error & { code: string };
  }
  return undefined;
}

/** Why a file a person named (--file) cannot be read, in words where the code is a common one. */
export function unreadableFileReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return errorMessage(error);
}

export function errorMessage(error: unknown): string {
  // drizzle's message is the whole statement and its parameters (a comment's body, say): the
  // reason is Postgres's error, its cause.
  if (error instanceof DrizzleQueryError) return error.cause ? errorMessage(error.cause) : 'a database statement failed';
  // Connecting to "localhost" tries ::1 and 127.0.0.1 and fails with both, in an empty-message AggregateError.
  if (error instanceof AggregateError && !error.message) return [...new Set(error.errors.map(errorMessage))].join('; ');
  if (error instanceof Error) return error.message;
  // pg-boss emits plain copies of its errors ({ ...err, message, queue }), not Error instances.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * `text` without credentials, for every message and log line that may quote one: the password of
 * any URL (postgres://user:secret@host), an echoed Authorization header value, and each given
 * secret (of 4 characters or more) wherever it appears.
 */
export function hideSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, '$1[redacted]@')
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi, '$1 [redacted]');
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

// Node's and undici's codes for a failed connection, as a person reads them; `unreachable` says
// what the code means when it shows the host was never reached at all (not one failed request).
const NETWORK_REASONS: Record<string, { reason: string; unreachable?: string }> = {
  ECONNREFUSED: { reason: 'connection refused', unreachable: 'the connection was refused (nothing listens on that port)' },
  ECONNRESET: { reason: 'connection reset' },
  ENOTFOUND: { reason: 'host not found', unreachable: 'the host name does not resolve' },
  EAI_AGAIN: { reason: 'DNS lookup failed', unreachable: 'the host name could not be looked up (no answer from DNS)' },
  ETIMEDOUT: { reason: 'connection timed out', unreachable: 'the connection timed out' },
  EHOSTUNREACH: { reason: 'host unreachable', unreachable: 'the host is unreachable' },
  ENETUNREACH: { reason: 'network unreachable', unreachable: 'the network is unreachable' },
  EPIPE: { reason: 'connection closed' },
  UND_ERR_SOCKET: { reason: 'connection closed by the server' },
  UND_ERR_CONNECT_TIMEOUT: { reason: 'connection timed out', unreachable: 'the connection timed out' },
  UND_ERR_HEADERS_TIMEOUT: { reason: 'timeout waiting for response headers' },
  UND_ERR_BODY_TIMEOUT: { reason: 'timeout reading the response body' },
  // TLS: an https:// URL whose port speaks plain HTTP, or a certificate Node does not trust. A
  // setting to fix, not a server having a bad moment: no request to that address will succeed.
  ERR_SSL_WRONG_VERSION_NUMBER: { reason: 'TLS handshake failed', unreachable: 'the server does not speak TLS (is it an http:// address?)' },
  ERR_SSL_PACKET_LENGTH_TOO_LONG: { reason: 'TLS handshake failed', unreachable: 'the server does not speak TLS (is it an http:// address?)' },
  EPROTO: { reason: 'protocol error', unreachable: 'the TLS handshake failed (protocol error: is it an http:// address?)' },
  ERR_TLS_CERT_ALTNAME_INVALID: { reason: 'TLS certificate does not match the host', unreachable: "the server's TLS certificate does not match the host name" },
  CERT_HAS_EXPIRED: { reason: 'TLS certificate expired', unreachable: "the server's TLS certificate has expired" },
  DEPTH_ZERO_SELF_SIGNED_CERT: { reason: 'self-signed TLS certificate', unreachable: "the server's TLS certificate is self-signed (not trusted)" },
  SELF_SIGNED_CERT_IN_CHAIN: { reason: 'self-signed TLS certificate in chain', unreachable: "the server's TLS certificate chain is self-signed (not trusted; NODE_EXTRA_CA_CERTS adds a CA)" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { reason: 'TLS certificate not verified', unreachable: "the server's TLS certificate cannot be verified (NODE_EXTRA_CA_CERTS adds a CA)" },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { reason: 'TLS certificate not verified', unreachable: "the server's TLS certificate cannot be verified (NODE_EXTRA_CA_CERTS adds a CA)" },
};

/** What a network error code means ("connection refused"), or undefined for any other code. */
export function networkErrorReason(code: string): string | undefined {
  return Object.hasOwn(NETWORK_REASONS, code) ? NETWORK_REASONS[code].reason : undefined;
}

/** Why the host was never reached, for a code that says so ("the host name does not resolve"), else undefined. */
export function unreachableReason(code: string): string | undefined {
  return Object.hasOwn(NETWORK_REASONS, code) ? NETWORK_REASONS[code].unreachable : undefined;
}

/**
 * Zendesk's host cannot be resolved or reached at all (DNS, a refused connection, no answer).
 * Says nothing about any ticket: a sync stops at once, and a worker should hold tickets rather
 * than spend their retries on it.
 */
export class ZendeskUnreachable extends ZendeskError {}
