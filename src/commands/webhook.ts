// `convlog webhook create`: registers an event-subscription webhook in Zendesk and prints its
// signing secret. `convlog webhook test`: sends a signed sample to a running `convlog serve`.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { carriesCredentials, DEFAULT_SERVE_PORT } from '../config.ts';
import { ConfigError, ConvlogError, UsageError } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import { printable, quoted } from '../text.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../serve/signature.ts';
import { sampleTicketEvent, SUBSCRIBED_EVENT_TYPES } from '../serve/webhook-events.ts';
import { WEBHOOK_PATH } from '../serve/webhook-server.ts';
import { zendeskHttpInfo } from '../zendesk/http.ts';
import { clientContext, createZendeskHttp, errorForFailure, readJsonResponse, type ResponseContext, type ZendeskHttp } from '../zendesk/index.ts';
import type { Command, CommandContext } from './types.ts';

const DEFAULT_NAME = 'convlog';

const createdWebhook = z.object({ webhook: z.object({ id: z.union([z.string(), z.number()]).transform(String) }) });
const signingSecret = z.object({ signing_secret: z.object({ secret: z.string().min(1) }) });
const webhookPage = z.object({
  webhooks: z.array(z.object({ id: z.union([z.string(), z.number()]).transform(String), name: z.string().nullish(), endpoint: z.string().nullish() })),
  meta: z.object({ has_more: z.boolean().nullish(), after_cursor: z.string().nullish() }).nullish(),
});
/** Accounts have a handful of webhooks; this many pages of 100 is more than any has. */
const MAX_LIST_PAGES = 20;

export const webhook: Command = {
  usage: `convlog webhook create --url URL [--name NAME] | convlog webhook test [--url URL] [--ticket ID] (default http://127.0.0.1:${DEFAULT_SERVE_PORT}${WEBHOOK_PATH}, or CONVLOG_SERVE_PORT's)`,
  options: { url: { type: 'string' }, name: { type: 'string' }, ticket: { type: 'string' } },
  allowPositionals: true,
  actions: ['create', 'test'],
  async run(values, positionals, ctx) {
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${quoted(extra[0])}`);
    if (action === 'create') {
      if (values.url === undefined) throw new UsageError('webhook create needs --url, the https address Zendesk will call (…/webhooks/zendesk)');
      return create(httpsEndpoint(endpointFrom(values.url), values.url), nameFrom(values.name), ctx);
    }
    if (action === 'test') {
      if (values.name !== undefined) throw new UsageError('--name is for webhook create');
      const ticketId = ticketFrom(values.ticket);
      const given = values.url === undefined ? undefined : endpointFrom(values.url);
      const config = ctx.config({ needWebhookSecret: true });
      const url = given ?? `http://${serveAddress(config.serve.host)}:${config.serve.port}${WEBHOOK_PATH}`;
      return sendTest(url, ticketId, config.serve.secrets[0], ctx);
    }
    throw new UsageError(action ? `unknown webhook action ${quoted(action)}: use create or test` : 'say what to do: webhook create or webhook test');
  },
};

/**
 * Where serve listens, as a URL's host: CONVLOG_SERVE_HOST's address, or 127.0.0.1 when it names
 * none or every interface (0.0.0.0, ::: serve's default), 127.0.0.1 among them.
 */
function serveAddress(host: string | undefined): string {
  if (host === undefined || host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `--url`, checked: every message and line of output may quote it, so it carries no credentials. */
function endpointFrom(value: unknown): string {
  const text = String(value);
  if (carriesCredentials(text)) {
    throw new UsageError('--url must not carry a user name or password: convlog serve checks the signature of what Zendesk sends, not a password', {
      showUsage: false,
    });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new UsageError(`--url must be an http(s) URL, got ${quoted(text, 100)}`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--url must be an http(s) URL, got ${quoted(text, 100)}`);
  return url.toString();
}

/**
 * Zendesk calls webhook endpoints over https only: a plain-http one would never be called. And
 * serve answers one path: deliveries anywhere else get 404s, which Zendesk does not retry.
 */
function httpsEndpoint(endpoint: string, given: unknown): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') {
    throw new UsageError(
      `--url must be an https URL, got ${quoted(String(given), 100)}: Zendesk calls webhooks over https only (put a TLS-terminating proxy in front of convlog serve)`,
    );
  }
  if (!url.pathname.endsWith(WEBHOOK_PATH)) {
    throw new UsageError(`--url must end in ${WEBHOOK_PATH}, the path convlog serve answers (behind a proxy, https://host/any/prefix${WEBHOOK_PATH}), got ${quoted(String(given), 100)}`);
  }
  return endpoint;
}

/** An endpoint as Zendesk would call it: its host in any case, with or without a trailing slash. */
function sameEndpoint(a: string, b: string): boolean {
  const plain = (text: string) => URL.canParse(text) ? new URL(text).toString().replace(/\/+$/, '') : text;
  return plain(a) === plain(b);
}

/** `--name`: Zendesk refuses a webhook without a name, in a message that does not say so. */
function nameFrom(value: unknown): string {
  if (value === undefined) return DEFAULT_NAME;
  const name = String(value);
  if (name.trim() === '') throw new UsageError(`--name must not be empty (leave it out for "${DEFAULT_NAME}")`);
  return name;
}

function ticketFrom(value: unknown): number {
  if (value === undefined) return 1;
  const text = String(value);
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new UsageError(`--ticket must be a ticket id (a positive integer), got ${quoted(text)}`);
  return Number(text);
}

async function create(endpoint: string, name: string, ctx: CommandContext): Promise<number> {
  const config = ctx.config({ needZendesk: true });
  const http = createZendeskHttp(config.zendesk!, { log: ctx.log });
  const info = zendeskHttpInfo(http)!;
  const context = clientContext(info);
  const host = info.host;
  const body = {
    webhook: {
      name,
      endpoint,
      http_method: 'POST',
      request_format: 'json',
      status: 'active',
      subscriptions: SUBSCRIBED_EVENT_TYPES,
    },
  };
  // A second webhook to the same endpoint delivers every change twice, each signed with its own
  // secret: serve refuses the copies signed with the secret it was not given, and the alert fires.
  const existing = await webhookCalling(http, context, endpoint);
  if (existing) {
    throw new ConfigError(
      `Zendesk at ${host} already has webhook ${existing.id}${existing.name ? ` ("${existing.name}")` : ''} calling ${existing.endpoint ?? endpoint}; a second one would deliver every change twice: ` +
        `use its secret (Admin Center > Webhooks > the webhook > Reveal secret), or delete it there and run "convlog webhook create" again`,
    );
  }
  const created = createdWebhook.safeParse(await call(http, context, 'api/v2/webhooks', { method: 'post', json: body }));
  if (!created.success) throw new ConvlogError(`Zendesk at ${host} answered the webhook creation without a webhook id`);
  const id = created.data.webhook.id;
  const secret = signingSecret.safeParse(await call(http, context, `api/v2/webhooks/${encodeURIComponent(id)}/signing_secret`, { method: 'get' }));
  if (!secret.success) {
    throw new ConvlogError(`webhook ${id} was created, but Zendesk at ${host} sent no signing secret; see it in Admin Center > Webhooks`);
  }
  ctx.out(`created Zendesk webhook ${id} ("${name}") calling ${endpoint} on ${SUBSCRIBED_EVENT_TYPES.length} ticket event types`);
  ctx.out('put this line in .env (while rotating, keep the old secret after a comma), then restart convlog serve:');
  ctx.out(`CONVLOG_WEBHOOK_SECRET=${secret.data.signing_secret.secret}`);
  return 0;
}

/** The account's webhook that calls `endpoint`, if any (Zendesk's list, page by page). */
async function webhookCalling(http: ZendeskHttp, context: ResponseContext, endpoint: string): Promise<{ id: string; name?: string | null; endpoint?: string | null } | undefined> {
  let after: string | null | undefined = null;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const query = new URLSearchParams({ 'page[size]': '100', ...(after ? { 'page[after]': after } : {}) });
    const listed = webhookPage.safeParse(await call(http, context, `api/v2/webhooks?${query}`, { method: 'get' }));
    if (!listed.success) throw new ConvlogError(`Zendesk at ${context.host} answered the list of webhooks without a list`);
    const found = listed.data.webhooks.find((hook) => typeof hook.endpoint === 'string' && sameEndpoint(hook.endpoint, endpoint));
    if (found) return found;
    after = listed.data.meta?.after_cursor;
    if (!listed.data.meta?.has_more || !after) return undefined;
  }
  return undefined;
}

async function call(http: ZendeskHttp, context: ResponseContext, path: string, options: { method: 'get' | 'post'; json?: unknown }): Promise<unknown> {
  let response: Response;
  try {
    response = await http(path, options);
  } catch (error) {
    throw errorForFailure(error, context);
  }
  return readJsonResponse({ status: response.status, headers: response.headers, body: await response.text() }, context);
}

async function sendTest(url: string, ticketId: number, secret: string, ctx: CommandContext): Promise<number> {
  const body = JSON.stringify(sampleTicketEvent(ticketId, `convlog-test-${randomUUID()}`));
  const timestamp = new Date().toISOString();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    // Something to start or a URL to correct, like any environment problem: exit 2, one line.
    throw new UsageError(`nothing answered at ${url} (${whyUnanswered(error)}): start convlog serve, or give --url where it listens`, {
      cause: error,
      showUsage: false,
    });
  }
  const answer = (await response.text()).trim();
  // What answers is no convlog serve, or not at the path it takes deliveries on: a URL to correct.
  if (response.status === 404 || response.status === 405) {
    throw new UsageError(
      `${url} answered ${response.status} ${response.statusText} (${printable(answer, 100)}): not convlog serve's webhook path, which is ${WEBHOOK_PATH}; check --url, or CONVLOG_SERVE_PORT`,
      { showUsage: false },
    );
  }
  ctx.out(`${response.status} ${response.statusText}: ${answer}`);
  // serve's own refusal of the signature: a secret to correct, like any configuration problem.
  if (response.status === 401 && /"bad_signature"/.test(answer)) {
    throw new UsageError(
      `the serve at ${url} refused the signature: CONVLOG_WEBHOOK_SECRET here is not one of the secrets it was started with (its first one signs)`,
      { showUsage: false },
    );
  }
  return response.ok ? 0 : 1;
}

/** Why fetch got no answer, in a few words: undici's own message is "fetch failed". */
function whyUnanswered(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return 'no answer within 10 s';
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  return errorMessage(cause);
}
