// The failures of talking to Zendesk, one class per kind of answer (src/zendesk/responses.ts maps
// each response to one); outcome.ts decides what each does to a ticket and its job.
import { ConvlogError } from './convlog-errors.ts';

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

/**
 * A 2xx whose JSON ends before its document does: the connection dropped mid-answer. Transient
 * like a 5xx, unlike a body that is whole but not what the sync relies on: a page whose every
 * attempt was cut off leaves its ticket to the job's next attempt, not failed for good.
 */
export class CutOffResponse extends InvalidResponse {}

/**
 * Zendesk's host cannot be resolved or reached at all (DNS, a refused connection, no answer).
 * Says nothing about any ticket: a sync stops at once, and a worker should hold tickets rather
 * than spend their retries on it.
 */
export class ZendeskUnreachable extends ZendeskError {}
