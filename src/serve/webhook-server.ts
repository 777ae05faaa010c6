// `convlog serve`: POST /webhooks/zendesk checks the signature, queues the ticket, remembers the
// delivery and answers at once (Zendesk waits only seconds and stops calling an endpoint that
// keeps failing). Also /healthz and /metrics.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { PgBoss } from 'pg-boss';
import type { Database } from '../db/connection.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { healthRoutes } from './health.ts';
import { listen, sendJson, type Handler, type RunningServer } from './http.ts';
import type { RejectionReason, ServeMetrics } from './webhook-metrics.ts';
import { createIntake, type IntakeOutcome } from './intake.ts';
import { replayStore } from '../db/webhook-deliveries.ts';
import { bodyAllowance, cutReason, declaredLength, readBody, type RefusedBody } from './request-body.ts';
import type { ServeConfig } from '../config.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, timestampSkewSeconds, verifyWebhookSignature } from './signature.ts';
import { webhookAction } from './webhook-events.ts';
import type { TicketRowReader } from './ticket-rows.ts';

/** Zendesk's id of one webhook invocation, the same on each attempt at delivering it. */
const INVOCATION_HEADER = 'x-zendesk-webhook-invocation-id';
const RETRY_AFTER_SECONDS = 10;

export const WEBHOOK_PATH = '/webhooks/zendesk';
/** Zendesk's ticket events are a few KB; a body this large is not one of them. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * What all the requests being read may hold in memory together: the path needs no credentials
 * until the body is read, so a flood of large bodies would otherwise take memory without bound.
 */
const MAX_BODY_BYTES_IN_FLIGHT = 16 * MAX_BODY_BYTES;
/** Zendesk's deliveries are a few KB: a body of this size or less may be one of them. */
export const SMALL_BODY_BYTES = 64 * 1024;
/**
 * The part of the allowance only small bodies may take: large ones held back by slow senders
 * cannot keep Zendesk's out. 64 bodies of 64 KB, or about a thousand of Zendesk's.
 */
const SMALL_BODIES_RESERVE = 4 * MAX_BODY_BYTES;
/**
 * How long a body may take once its headers are in (Zendesk sends its few KB at once). Within
 * Node's request timeout (15 s, headers included), which alone let slow senders hold the
 * allowance three times as long.
 */
const BODY_DEADLINE_MS = 5_000;

export interface WebhookServerOptions {
  database: Database;
  boss: PgBoss;
  config: Pick<ServeConfig, 'secrets' | 'maxAgeSeconds'>;
  metrics: ServeMetrics;
  log: Logger;
  port: number;
  host?: string;
  /** How long a shutdown waits for requests in flight (default 10 s). */
  closeGraceMs?: number;
  /** How long a body may take once its headers are in (default BODY_DEADLINE_MS). */
  bodyDeadlineMs?: number;
  /** Reads the rows of the tickets accepted webhooks name (absent without Zendesk credentials). */
  ticketRows?: Pick<TicketRowReader, 'add'>;
}

const STATUS: Record<RejectionReason, number> = {
  no_signature: 401,
  bad_signature: 401,
  stale_timestamp: 401,
  bad_timestamp: 401,
  too_large: 413,
  server_busy: 503,
  slow_sender: 408,
  not_queued: 503,
  malformed_json: 400,
  no_ticket: 400,
  invalid_field: 400,
  method_not_allowed: 405,
};

export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningServer> {
  const { database, boss, config, metrics, log } = options;
  const intake = createIntake(boss, database.db, replayStore(database.pool), { log });
  const health = healthRoutes(database.pool, metrics);

  const reject = (req: http.IncomingMessage, res: http.ServerResponse, reason: RejectionReason, detail?: string) => {
    metrics.webhooksRejected.inc({ reason });
    // One line per rejection; never the secret, the signature or the body.
    log.warn({ reason, status: STATUS[reason], remote: req.socket.remoteAddress, ...(detail ? { detail } : {}) }, `webhook rejected: ${reason}`);
    // The rest of the body is not wanted; a slow sender's connection is not kept either.
    if (reason === 'too_large' || reason === 'slow_sender') res.setHeader('connection', 'close');
    if (reason === 'method_not_allowed') res.setHeader('allow', 'POST');
    if (reason === 'server_busy') res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    // The admin who wrote the trigger's body reads why in Zendesk's webhook activity.
    sendJson(res, STATUS[reason], { error: reason, ...(reason === 'invalid_field' ? { detail } : {}) });
  };

  const bodies = bodyAllowance(MAX_BODY_BYTES_IN_FLIGHT, SMALL_BODIES_RESERVE, (held) => metrics.webhookBodyBytes.set(held));
  const limits = { maxBytes: MAX_BODY_BYTES, smallBytes: SMALL_BODY_BYTES, deadlineMs: options.bodyDeadlineMs ?? BODY_DEADLINE_MS };

  /** Why a request is refused from its headers alone, before its body is read; or undefined. */
  const refusedByHeaders = (req: http.IncomingMessage): [RejectionReason, string?] | undefined => {
    if (declaredLength(req) > MAX_BODY_BYTES) return ['too_large'];
    const timestamp = headerOf(req, TIMESTAMP_HEADER);
    if (!headerOf(req, SIGNATURE_HEADER) || !timestamp) return ['no_signature'];
    const skew = timestampSkewSeconds(timestamp);
    // Not a clock out of step, which stale_timestamp's count would send an operator looking for.
    if (skew === undefined) return ['bad_timestamp'];
    if (skew > config.maxAgeSeconds) return ['stale_timestamp', `${Math.round(skew)} s from now`];
    return undefined;
  };

  const handleWebhook = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const refused = refusedByHeaders(req);
    if (refused) {
      // Drained, not kept: the client still hears its answer.
      req.resume();
      return reject(req, res, ...refused);
    }
    // Read now: a socket destroyed mid-body no longer tells its address.
    const remote = req.socket.remoteAddress;
    let body: Buffer | RefusedBody;
    try {
      body = await readBody(req, limits, bodies);
    } catch {
      // The connection is gone (Node has sent the 408 of a timeout itself): nobody to answer.
      const reason = cutReason(req);
      metrics.webhooksRejected.inc({ reason: reason === 'request timeout' ? 'timeout' : 'cut_off' });
      log.warn({ remote, reason }, 'webhook request cut off before its body was read');
      return;
    }
    if (!Buffer.isBuffer(body)) {
      const { refused, received } = body;
      if (refused !== 'slow_sender') return reject(req, res, refused);
      const come = req.headers['content-length'] === undefined ? `${received} bytes, chunked` : `${received} of ${declaredLength(req)} bytes`;
      return reject(req, res, refused, `body not all sent within ${limits.deadlineMs / 1000} s of its headers (${come})`);
    }
    // Both are there: refusedByHeaders checked.
    const signature = headerOf(req, SIGNATURE_HEADER) as string;
    const timestamp = headerOf(req, TIMESTAMP_HEADER) as string;
    if (!verifyWebhookSignature(config.secrets, timestamp, body, signature)) return reject(req, res, 'bad_signature');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return reject(req, res, 'malformed_json');
    }
    const reading = webhookAction(parsed);
    if (reading.kind === 'invalid') return reject(req, res, reading.reason, reading.problem);
    // Without Zendesk credentials no row is read: a field change then queues its ticket, as any
    // other change does, rather than being answered and dropped.
    const action = reading.kind === 'row' && !options.ticketRows ? { ...reading, kind: 'sync' as const } : reading;
    if (action.kind === 'ignore') {
      metrics.webhooksIgnored.inc({ type: typeLabel(action.type) });
      log.info({ type: typeLabel(action.type) }, 'webhook ignored: not a ticket event');
      sendJson(res, 200, { ignored: true });
      return;
    }
    // Trigger bodies carry no event id; the same signed request sent again is still a replay. The
    // key is made of the HMAC's bytes, which only one spelling of the signature verifies as, and
    // of Zendesk's invocation id, which its retries keep: two changes to one ticket within a
    // second send the same body with the same timestamp, so the same signature.
    const invocation = headerOf(req, INVOCATION_HEADER);
    const signed = `${timestamp}\n${Buffer.from(signature, 'base64').toString('hex')}${invocation ? `\n${invocation}` : ''}`;
    const key = action.eventId ? eventKey(action.eventId) : `signed:${createHash('sha256').update(signed).digest('hex')}`;
    let outcome: IntakeOutcome;
    try {
      // Deleted tickets are synced: the sync records Zendesk's 404 as not_found, and removes (or
      // marks) their rows; a permanent deletion is reported first, so that 404 erases them.
      const comment = action.kind === 'sync' ? action.comment : undefined;
      const permanentlyDeleted = action.kind === 'deleted' && action.permanently === true;
      outcome = await intake.submit({
        key,
        ticketId: action.ticketId,
        full: action.kind === 'full',
        ...(action.kind === 'row' ? { rowOnly: true } : {}),
        ...(action.kind === 'full' ? { redactedAt: action.at ?? null } : {}),
        ...(permanentlyDeleted ? { permanentlyDeleted } : {}),
        ...(comment ? { comment, eventId: action.eventId } : {}),
      });
    } catch (error) {
      metrics.webhooksRejected.inc({ reason: 'not_queued' });
      log.error({ ticketId: action.ticketId, err: errorMessage(error) }, 'webhook not queued: the database failed; Zendesk will retry');
      // Zendesk retries a 503 only when it says when, within a minute.
      res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      sendJson(res, 503, { error: 'not queued, try again' });
      return;
    }
    // A deleted ticket's row is the sync's to settle: show_many would not return it. A replay has
    // its row read as well: its first delivery may have been answered 503 (Postgres slow) and
    // recorded after, or its read, held in memory only, lost with a stop; one more read costs a
    // place in a batch of 100.
    if (action.kind !== 'deleted') options.ticketRows?.add(action.ticketId);
    if (outcome === 'replay') {
      metrics.webhooksReplayed.inc();
      log.info({ ticketId: action.ticketId, type: action.type }, 'webhook replay: already accepted, nothing queued');
      sendJson(res, 200, { replay: true });
      return;
    }
    metrics.webhooksAccepted.inc({ action: action.kind });
    log.debug({ ticketId: action.ticketId, type: action.type, action: action.kind }, 'webhook accepted');
    sendJson(res, 200, { ticketId: action.ticketId, action: action.kind });
  };

  const handler: Handler = async (req, res) => {
    if (isWebhookPath(pathOf(req))) {
      const answered = metrics.webhookAnswerSeconds.startTimer();
      try {
        if (req.method !== 'POST') return reject(req, res, 'method_not_allowed');
        return await handleWebhook(req, res);
      } catch (error) {
        // listen() answers it 500 and logs it.
        metrics.webhooksRejected.inc({ reason: 'internal_error' });
        throw error;
      } finally {
        answered();
      }
    }
    if (await health(req, res)) return;
    sendJson(res, 404, { error: 'not found' });
  };

  // A client that asks before sending a body we would refuse hears why instead of `100 Continue`.
  const answerBeforeBody = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!isWebhookPath(pathOf(req)) || req.method !== 'POST') return false;
    const refused = refusedByHeaders(req);
    if (!refused) return false;
    const answered = metrics.webhookAnswerSeconds.startTimer();
    reject(req, res, ...refused);
    answered();
    return true;
  };

  return listen(handler, {
    port: options.port,
    host: options.host,
    closeGraceMs: options.closeGraceMs,
    answerBeforeBody,
    onError: (error) => log.error({ err: errorMessage(error) }, 'webhook request failed'),
    // Before its headers are read a request's path is unknown: counted with the webhooks' refusals all the same.
    onClientError: ({ kind, status, reason, remote }) => {
      metrics.webhooksRejected.inc({ reason: kind });
      log.warn({ reason: kind, status, remote, detail: reason }, `request rejected: ${reason}`);
    },
  });
}

/** The webhook's path, with a trailing slash too: a webhook made by hand in Admin Center may have one. */
function isWebhookPath(path: string): boolean {
  return path === WEBHOOK_PATH || path === `${WEBHOOK_PATH}/`;
}

function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0];
}

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim() || undefined;
}

/** Event types become metric labels: anything odd is "other", so a sender cannot create series at will. */
function typeLabel(type: string): string {
  return /^[a-z0-9_:.-]{1,80}$/i.test(type) ? type : 'other';
}

/** Event ids kept as they are in the replay key; Zendesk's are UUIDs (36 characters). */
const MAX_PLAIN_EVENT_ID = 200;

/**
 * An event's replay key. A long id goes by its hash: the key is an index entry, which Postgres
 * caps at about 2.7 kB, and an 8 kB one failed the insert of every delivery in its batch (503).
 * So does one Postgres cannot hold as text (a U+0000, a lone surrogate): its delivery was answered
 * 503 on every retry, its ticket never queued.
 */
function eventKey(id: string): string {
  const wellFormed = id.isWellFormed();
  if (id.length <= MAX_PLAIN_EVENT_ID && wellFormed && !id.includes('\u0000')) return `event:${id}`;
  // As UTF-16 when it has lone surrogates: UTF-8 would make each of them the same bytes, and two
  // ids the same key, the second delivery taken for a replay.
  return `event-sha256:${createHash('sha256').update(wellFormed ? id : Buffer.from(id, 'utf16le')).digest('hex')}`;
}
