// Zendesk's webhooks API (/api/v2/webhooks) and the deliveries it causes: every ticket change a
// webhook subscribes to is POSTed to its endpoint (one at a time per endpoint, in the order the
// changes happened, so tests can compare sequences), signed the way Zendesk signs:
// base64(HMAC-SHA256(secret, timestamp + body)). Tests can ask for deliveries that a receiver
// must refuse (bad signature, none, a stale timestamp) and for byte-identical replays.
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { jsonReply, listError, type Reply } from './http.ts';
import { ulidLike } from './ids.ts';
import type { TicketChange } from './store.ts';
import type { ExportTicket } from './types.ts';
import { ACCOUNT_ID, EVENT_TYPES, eventTypeOf, webhookEvent } from './webhook-events.ts';

export type WebhookFault = 'bad-signature' | 'unsigned' | 'stale';
const CONDITIONAL = 'conditional_ticket_events';
const MAX_BODY = 64 * 1024;
/** Zendesk gives up on an endpoint after about this long. */
const DELIVERY_TIMEOUT_MS = 12_000;
const STALE_MS = 10 * 60_000;

export interface Webhook {
  id: string;
  name: string;
  status: 'active' | 'inactive';
  endpoint: string;
  http_method: string;
  request_format: string;
  subscriptions: string[];
  created_at: string;
  secret: string;
}

export interface WebhookDelivery {
  webhookId: string;
  endpoint: string;
  /** The event's id (a replay repeats it), or null for a trigger-style body. */
  eventId: string | null;
  type: string;
  ticketId: number;
  fault: WebhookFault | 'replay' | null;
  headers: Record<string, string>;
  body: string;
  /** HTTP status of the answer, 0 until answered or when the request failed. */
  status: number;
  error?: string;
}

const PATH = /^\/api\/v2\/webhooks(?:\.json)?(?:\/([^/.]+)(?:\.json)?(\/signing_secret(?:\.json)?)?)?$/;

export class Webhooks {
  readonly deliveries: WebhookDelivery[] = [];
  fault: WebhookFault | null = null;
  #hooks = new Map<string, Webhook>();
  #inFlight = new Set<Promise<void>>();
  /** The last delivery queued per endpoint: each waits for the one before, so they arrive in order. */
  #tails = new Map<string, Promise<void>>();
  #abort = new AbortController();
  #created = 0;
  #now: () => number;

  /** `now`: the account's clock (epoch ms), for ids, creation times, events and signatures. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** Whether any webhook exists: without one, changes cost nothing to publish. */
  get any(): boolean {
    return this.#hooks.size > 0;
  }

  /** Answers the webhooks API. */
  async handle(req: IncomingMessage, url: URL, origin: string): Promise<Reply> {
    const match = PATH.exec(url.pathname);
    const method = req.method ?? 'GET';
    if (!match) return listError(404, 'RecordNotFound', 'Not found');
    const [, id, secretPath] = match;
    if (id === undefined) {
      if (method === 'GET') return jsonReply(200, { webhooks: [...this.#hooks.values()].map((hook) => this.#show(hook, origin)), meta: { has_more: false, after_cursor: null, before_cursor: null }, links: { next: null, prev: null } });
      if (method === 'POST') return this.#create(await readJson(req), origin);
      return listError(405, 'MethodNotAllowed', `${method} is not allowed here`);
    }
    const hook = this.#hooks.get(id);
    if (!hook) return listError(404, 'RecordNotFound', `No webhook with id ${id}`);
    if (secretPath) {
      if (method === 'POST') hook.secret = newSecret();
      else if (method !== 'GET') return listError(405, 'MethodNotAllowed', `${method} is not allowed here`);
      return jsonReply(method === 'POST' ? 201 : 200, { signing_secret: { algorithm: 'SHA256', secret: hook.secret } });
    }
    if (method === 'GET') return jsonReply(200, { webhook: this.#show(hook, origin) });
    if (method === 'DELETE') {
      this.#hooks.delete(id);
      return { status: 204, headers: {}, body: Buffer.alloc(0), contentType: 'application/json; charset=utf-8', json: false };
    }
    return listError(405, 'MethodNotAllowed', `${method} is not allowed here`);
  }

  #create(input: unknown, origin: string): Reply {
    const invalid = (title: string) => listError(400, 'InvalidValue', title);
    const spec = (input as { webhook?: Record<string, unknown> } | null)?.webhook;
    if (typeof spec !== 'object' || spec === null) return invalid('the body must be JSON: {"webhook": {...}}');
    const { name, endpoint, http_method = 'POST', request_format = 'json', status = 'active', subscriptions = [] } = spec;
    if (typeof name !== 'string' || name.trim() === '') return invalid('webhook.name is required');
    if (typeof endpoint !== 'string' || !/^https?:\/\/[^\s]+$/.test(endpoint) || !URL.canParse(endpoint)) return invalid('webhook.endpoint must be an http(s) URL');
    if (http_method !== 'POST') return invalid('webhook.http_method must be POST for ticket events');
    if (request_format !== 'json') return invalid('webhook.request_format must be json for ticket events');
    if (status !== 'active' && status !== 'inactive') return invalid('webhook.status must be active or inactive');
    if (!Array.isArray(subscriptions) || subscriptions.length === 0) return invalid('webhook.subscriptions must list at least one event type');
    const unknown = subscriptions.filter((s) => s !== CONDITIONAL && !EVENT_TYPES.includes(String(s)));
    if (unknown.length > 0) return invalid(`webhook.subscriptions has unknown event types: ${unknown.join(', ')}`);
    const hook = this.register({ name, endpoint, status, subscriptions: subscriptions.map(String) });
    return jsonReply(201, { webhook: this.#show(hook, origin) });
  }

  /** Adds a webhook without the API: the simulator's --webhook-url. Default: every ticket event, a new secret. */
  register(spec: { endpoint: string; name?: string; status?: 'active' | 'inactive'; subscriptions?: string[]; secret?: string }): Webhook {
    const hook: Webhook = {
      id: ulidLike(this.#now(), 0, ++this.#created, 0),
      name: spec.name ?? 'convlog',
      status: spec.status ?? 'active',
      endpoint: spec.endpoint,
      http_method: 'POST',
      request_format: 'json',
      subscriptions: spec.subscriptions ?? [...EVENT_TYPES],
      created_at: new Date(this.#now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      secret: spec.secret || newSecret(),
    };
    this.#hooks.set(hook.id, hook);
    return hook;
  }

  #show(hook: Webhook, origin: string): Record<string, unknown> {
    const { secret: _secret, ...shown } = hook;
    return { ...shown, url: `${origin}/api/v2/webhooks/${hook.id}`, created_by: '390000000001', signing_secret: { algorithm: 'SHA256', secret: null } };
  }

  /** Sends the change to every active webhook subscribed to it. */
  publish(change: TicketChange, ticket: ExportTicket): void {
    const type = eventTypeOf(change);
    for (const hook of this.#hooks.values()) {
      if (hook.status !== 'active') continue;
      let body: string;
      let eventId: string | null = null;
      if (hook.subscriptions.includes(type)) {
        const event = webhookEvent(change, ticket, new Date(this.#now()));
        eventId = event.id;
        body = JSON.stringify(event);
      } else if (hook.subscriptions.includes(CONDITIONAL)) {
        // A trigger's webhook body is whatever the trigger says; this is the usual one.
        body = JSON.stringify({ ticket_id: String(ticket.id), event: type });
      } else continue;
      const delivery: WebhookDelivery = { webhookId: hook.id, endpoint: hook.endpoint, eventId, type, ticketId: ticket.id, fault: this.fault, headers: {}, body, status: 0 };
      delivery.headers = signedHeaders(hook, body, this.fault, this.#now());
      this.#send(delivery);
    }
  }

  /** Sends an earlier delivery again, byte for byte (same event id, timestamp and signature). */
  replay(delivery: WebhookDelivery = this.deliveries[this.deliveries.length - 1]): void {
    if (!delivery) throw new Error('no webhook has been delivered yet, so there is nothing to replay');
    this.#send({ ...delivery, fault: 'replay', status: 0, error: undefined });
  }

  /** Resolves once every delivery sent so far has been answered or has failed. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  close(): void {
    this.#abort.abort();
  }

  #send(delivery: WebhookDelivery): void {
    this.deliveries.push(delivery);
    const previous = this.#tails.get(delivery.endpoint) ?? Promise.resolve();
    const sending = previous
      .then(() => {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]);
        return fetch(delivery.endpoint, { method: 'POST', headers: delivery.headers, body: delivery.body, signal });
      })
      .then(async (response) => {
        delivery.status = response.status;
        await response.arrayBuffer();
      })
      .catch((error: unknown) => {
        delivery.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        this.#inFlight.delete(sending);
        if (this.#tails.get(delivery.endpoint) === sending) this.#tails.delete(delivery.endpoint);
      });
    this.#inFlight.add(sending);
    this.#tails.set(delivery.endpoint, sending);
  }
}

/** The signature a receiver checks: base64(HMAC-SHA256(secret, timestamp + body)). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(timestamp + body).digest('base64');
}

function signedHeaders(hook: Webhook, body: string, fault: WebhookFault | null, nowMs: number): Record<string, string> {
  const timestamp = new Date(nowMs - (fault === 'stale' ? STALE_MS : 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Zendesk Webhook',
    'x-zendesk-account-id': String(ACCOUNT_ID),
    'x-zendesk-webhook-id': hook.id,
    'x-zendesk-webhook-invocation-id': String(randomBytes(8).readBigUInt64BE()),
  };
  if (fault === 'unsigned') return headers;
  const secret = fault === 'bad-signature' ? `${hook.secret}x` : hook.secret;
  headers['x-zendesk-webhook-signature-timestamp'] = timestamp;
  headers['x-zendesk-webhook-signature'] = signWebhook(secret, timestamp, body);
  return headers;
}

const newSecret = () => randomBytes(32).toString('base64url');

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
