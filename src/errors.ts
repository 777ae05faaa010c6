// Every error convlog raises on purpose is one of these classes. Whether a failure is worth
// retrying, and which exit code a command ends with, is decided here and nowhere else.

export class ConvlogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A person can fix it: bad flags, ids, dates, environment. Exit 2. */
export class UsageError extends ConvlogError {}

/** The environment or `.env` is missing or has bad values. Exit 2. */
export class ConfigError extends ConvlogError {}

/** Postgres cannot be reached or refuses us. Exit 2 at start-up, retried by workers. */
export class DatabaseUnavailable extends ConvlogError {}

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
/** 404: the ticket was deleted or never existed. A recorded outcome, not a failure. */
export class TicketNotFound extends ZendeskError {}
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

/** A page request worth sending again at once (after a short backoff): transient by nature. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ServerError || error instanceof InvalidResponse;
}

/**
 * What a queued ticket sync does with a failure its pager could not absorb:
 * - `retry`: transient (an outage, the database, a shutdown); pg-boss runs the job again later.
 * - `fail`: retrying will not help (a malformed page, a request Zendesk refuses); recorded at once.
 * - `stop`: nothing will work for any ticket (credentials); the worker stops taking jobs.
 */
export function jobDisposition(error: unknown): 'retry' | 'fail' | 'stop' {
  if (error instanceof Unauthorized || error instanceof ConfigError) return 'stop';
  if (error instanceof InvalidResponse || error instanceof BadRequest || error instanceof InvalidCursor) return 'fail';
  if (error instanceof UsageError) return 'fail';
  // ServerError, RateLimited, DatabaseUnavailable, Interrupted, and anything unforeseen
  // (a dropped database connection, a deadlock) deserve another go.
  return 'retry';
}

/** Failures that no retry can fix and that concern the whole account, not one ticket. */
export function isFatalForRun(error: unknown): boolean {
  return error instanceof Unauthorized || error instanceof ConfigError;
}

/** 2 for what a person must fix (usage, configuration, credentials, database), else 1. */
export function exitCodeFor(error: unknown): number {
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof DatabaseUnavailable ||
    error instanceof Unauthorized ||
    error instanceof ZendeskUnreachable
  ) {
    return 2;
  }
  return 1;
}

export function errorMessage(error: unknown): string {
  // Connecting to "localhost" tries ::1 and 127.0.0.1 and fails with both, in an empty-message AggregateError.
  if (error instanceof AggregateError && !error.message) return [...new Set(error.errors.map(errorMessage))].join('; ');
  if (error instanceof Error) return error.message;
  // pg-boss emits plain copies of its errors ({ ...err, message, queue }), not Error instances.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** `text` with every given secret (of 4 characters or more) replaced by [redacted]. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Zendesk's host cannot be resolved or reached at all (DNS, a refused connection, no answer).
 * Says nothing about any ticket: a sync stops at once, and a worker should hold tickets rather
 * than spend their retries on it.
 */
export class ZendeskUnreachable extends ZendeskError {}
