// Request routing: authentication, rate budgets, injected faults, then the endpoint itself.
// Every request is answered (or deliberately left hanging) from here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listPage, showMany, showTicket, type ListName } from './account-api.ts';
import { conversationLogPage, type PageResult } from './conversation-log.ts';
import { decodeLogCursor } from './cursor.ts';
import { exportPage } from './export.ts';
import { failureReply, malformedReply, truncateReply, type FaultDice } from './faults.ts';
import { forbidden, invalidEndpoint, jsonReply, queryObject, recordNotFound, send, serializedJsonReply, textReply, unauthenticated, type Reply } from './http.ts';
import { accountNow, type ResolvedOptions } from './options.ts';
import { PageLookahead, type RenderState } from './lookahead.ts';
import type { BudgetState, FixedWindowBudget } from './rate-limit.ts';
import type { TicketStore } from './store.ts';
import type { PageBody, RequestKind, SimRequest } from './types.ts';

const LOG_PATH = /^\/api\/v2\/tickets\/([^/]+)\/conversation_log(?:\.json)?$/;
const TICKET_PATH = /^\/api\/v2\/tickets\/([^/.]+)(?:\.json)?$/;
const EXPORT_PATH = /^\/api\/v2\/incremental\/tickets\/cursor(?:\.json)?$/;
const ACCOUNT_PATHS: [RegExp, RequestKind][] = [
  [/^\/api\/v2\/users\/me(?:\.json)?$/, 'users_me'],
  [/^\/api\/v2\/tickets\/show_many(?:\.json)?$/, 'show_many'],
  [TICKET_PATH, 'ticket'],
  [/^\/api\/v2\/groups(?:\.json)?$/, 'groups'],
  [/^\/api\/v2\/brands(?:\.json)?$/, 'brands'],
  [/^\/api\/v2\/organizations(?:\.json)?$/, 'organizations'],
  [/^\/api\/v2\/webhooks(?:\/.*)?$/, 'webhooks'],
];
const SIMULATED_AGENT = { id: 390000000001, name: 'Simulated Agent', email: 'agent@example.com', role: 'admin', active: true };

function kindOf(path: string): RequestKind {
  if (LOG_PATH.test(path)) return 'conversation_log';
  if (EXPORT_PATH.test(path)) return 'export';
  return ACCOUNT_PATHS.find(([pattern]) => pattern.test(path))?.[1] ?? 'other';
}

export interface ServerContext {
  options(): ResolvedOptions;
  store: TicketStore;
  dice(): FaultDice;
  logBudget: FixedWindowBudget;
  exportBudget: FixedWindowBudget;
  accountBudget: FixedWindowBudget;
  /** Answered requests, each pushed as its answer is sent. */
  requests: SimRequest[];
  /** Every request, pushed as it arrives (before anything about its answer is decided). */
  received: SimRequest[];
  /** Latency timers, so close() can cancel them at once. */
  pending: Set<NodeJS.Timeout>;
  isClosed(): boolean;
  /** The webhooks API (create, list, signing secret); answers once the request body is read. */
  webhooks(req: IncomingMessage, url: URL, origin: string): Promise<Reply>;
}

export function createRequestHandler(ctx: ServerContext) {
  let tooManyCount = 0;
  const ahead = new PageLookahead<RenderedPage>();

  return (req: IncomingMessage, res: ServerResponse): void => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const params = url.searchParams;
    const logMatch = LOG_PATH.exec(url.pathname);
    const kind = kindOf(url.pathname);
    const ticketId = logMatch && /^\d+$/.test(logMatch[1]) ? Number(logMatch[1]) : undefined;
    const record: SimRequest = { at, method: req.method ?? 'GET', path: url.pathname, query: queryObject(params), status: 0, kind, authorization: req.headers.authorization !== undefined };
    if (ticketId !== undefined) record.ticketId = ticketId;
    ctx.received.push(record);

    const finish = (reply: Reply) => {
      const respond = () => {
        if (ctx.isClosed() || res.destroyed) return;
        record.status = reply.status;
        ctx.requests.push(record);
        send(res, reply, new Date(accountNow(ctx.options())));
      };
      const latency = ctx.options().latency;
      if (latency <= 0) return respond();
      const timer = setTimeout(() => {
        ctx.pending.delete(timer);
        respond();
      }, latency);
      ctx.pending.add(timer);
    };

    try {
      const method = req.method ?? 'GET';
      if (kind === 'other' || (method !== 'GET' && kind !== 'webhooks')) return finish(invalidEndpoint());
      if (!isAuthorized(req.headers.authorization, ctx.options().apiToken)) return finish(unauthenticated());
      const options = ctx.options();
      const origin = `http://${req.headers.host ?? 'localhost'}`;
      if (ACCOUNT_KINDS.has(kind)) {
        const budget = ctx.accountBudget.take(at);
        const headers = options.accountRateLimit === 0 ? {} : accountHeaders(budget);
        if (!budget.allowed) return finish(tooMany(budget, headers, tooManyCount++ % 2 === 0));
        // Who the credentials belong to: clients check them with it, so no injected faults.
        if (kind === 'users_me') return finish(jsonReply(200, { user: SIMULATED_AGENT }, headers));
        if (kind === 'webhooks') {
          return void ctx.webhooks(req, url, origin).then(
            (reply) => finish(withHeaders(reply, headers)),
            (error: unknown) => finish(jsonReply(500, { error: 'SimulatorBug', description: error instanceof Error ? error.message : String(error) })),
          );
        }
        const dice = ctx.dice().roll(options);
        if (dice.hang) return;
        if (dice.fail) return finish(failureReply(dice.fail, headers));
        const reply =
          kind === 'show_many' ? showMany(ctx.store, params, origin)
          : kind === 'ticket' ? showTicket(ctx.store, TICKET_PATH.exec(url.pathname)![1], origin)
          : listPage(ctx.store, kind as ListName, params, origin);
        return finish(withHeaders(dice.truncate && reply.status === 200 ? truncateReply(reply, dice.cutAt) : reply, headers));
      }

      const budget = (kind === 'conversation_log' ? ctx.logBudget : ctx.exportBudget).take(at);
      const headers = rateHeaders(kind, budget, ctx.accountBudget.peek(at), options.rateLimit === 0);
      if (!budget.allowed) return finish(tooMany(budget, headers, tooManyCount++ % 2 === 0));

      const dice = ctx.dice().roll(options);
      if (dice.hang) return; // the socket stays open until the client gives up or close() runs
      if (dice.fail) return finish(failureReply(dice.fail, headers));

      let reply = kind === 'conversation_log' ? conversationLog(ctx, ahead, ticketId, params, origin, headers) : exportReply(ctx, params, origin, headers);
      if (reply.status === 200 && reply.json && dice.truncate) reply = truncateReply(reply, dice.cutAt);
      finish(reply);
    } catch (error) {
      finish(jsonReply(500, { error: 'SimulatorBug', description: error instanceof Error ? error.message : String(error) }));
    }
  };
}

/** Any Basic or Bearer credential is good enough for a simulator, unless `apiToken` names the one. */
function isAuthorized(header: string | undefined, apiToken: string): boolean {
  const match = header === undefined ? null : /^(Basic|Bearer)\s+(\S+)$/i.exec(header.trim());
  if (!match) return false;
  if (apiToken === '') return true;
  if (match[1].toLowerCase() === 'bearer') return match[2] === apiToken;
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  return decoded.endsWith(`/token:${apiToken}`);
}

/** A page as computed from the store, and its body as sent when nothing is wrong with it. */
interface RenderedPage {
  result: PageResult;
  body: Buffer | undefined;
}

function conversationLog(
  ctx: ServerContext,
  ahead: PageLookahead<RenderedPage>,
  ticketId: number | undefined,
  params: URLSearchParams,
  origin: string,
  headers: Record<string, string>,
): Reply {
  const { store } = ctx;
  const options = ctx.options();
  const withHeaders = (reply: Reply): Reply => ({ ...reply, headers: { ...headers, ...reply.headers } });
  if (ticketId === undefined || !store.exists(ticketId) || options.deleted.includes(ticketId) || options.scrubbed.includes(ticketId)) return withHeaders(recordNotFound());
  if (options.forbidden.includes(ticketId)) return withHeaders(forbidden());

  const state = (): RenderState => ({ options: ctx.options(), storeVersion: store.version });
  const render = (query: URLSearchParams): RenderedPage => {
    const result = conversationLogPage(store, ticketId, query, origin, ctx.options().snapshotCursors);
    return { result, body: result.ok ? store.preloaded.pageBytes(result.page) : undefined };
  };
  const key = (query: URLSearchParams) => `${origin} ${ticketId} ${query.toString()}`;
  const { result, body } = ahead.take(key(params), state()) ?? render(params);
  if (!result.ok) return withHeaders(result.reply);
  const malformed = store.malformed(ticketId, lastIndexOf(result.page));
  if (malformed) return malformedReply(malformed, result.page, headers);
  const after = result.page.meta.after_cursor;
  if (result.page.meta.has_more && after !== null && params.get('page[before]') === null) {
    // The request a client paging forward sends next.
    const next = new URLSearchParams(params);
    next.set('page[after]', after);
    ahead.prepare(key(next), state, () => render(next));
  }
  return serializedJsonReply(200, body!, headers);
}

/** Index of the newest event a page holds, read back from its cursors (-1 for none). */
function lastIndexOf(page: PageBody): number {
  return Math.max(-1, ...[page.meta.after_cursor, page.meta.before_cursor].map((c) => (c ? (decodeLogCursor(c)?.index ?? -1) : -1)));
}

function exportReply(ctx: ServerContext, params: URLSearchParams, origin: string, headers: Record<string, string>): Reply {
  const result = exportPage(ctx.store, params, origin, ctx.options().exportPageSize, Math.floor(accountNow(ctx.options()) / 1000));
  if (!result.ok) return { ...result.reply, headers: { ...headers, ...result.reply.headers } };
  return jsonReply(200, result.body, headers);
}

const ACCOUNT_KINDS = new Set<RequestKind>(['users_me', 'show_many', 'ticket', 'groups', 'brands', 'organizations', 'webhooks']);

const withHeaders = (reply: Reply, headers: Record<string, string>): Reply => ({ ...reply, headers: { ...headers, ...reply.headers } });

/** The account-wide window as Zendesk reports it on every response. */
function accountHeaders(account: BudgetState): Record<string, string> {
  if (account.total === 0) return {};
  return {
    'X-Rate-Limit': String(account.total),
    'X-Rate-Limit-Remaining': String(account.remaining),
    'ratelimit-limit': String(account.total),
    'ratelimit-remaining': String(account.remaining),
    'ratelimit-reset': String(account.resetsSec),
  };
}

function rateHeaders(kind: RequestKind, budget: BudgetState, account: BudgetState, unlimited: boolean): Record<string, string> {
  // An unlimited simulator has no honest numbers to report (a client planning from them would
  // throttle itself for nothing), so the headers are left out. The conversation log and the
  // export have budgets of their own: they report the account-wide window without spending it.
  if (unlimited) return {};
  const headers = accountHeaders(account);
  if (kind === 'conversation_log' && budget.total > 0) {
    headers['Zendesk-RateLimit-omnilog-index'] = `total=${budget.total}; remaining=${budget.remaining}; resets=${budget.resetsSec}`;
  }
  return headers;
}

/** Zendesk answers 429 sometimes with JSON, sometimes with plain text: alternate. */
function tooMany(budget: BudgetState, headers: Record<string, string>, asJson: boolean): Reply {
  const retry = { ...headers, 'Retry-After': String(budget.resetsSec) };
  if (asJson) return jsonReply(429, { error: 'APIRateLimitExceeded', description: `Rate limit exceeded. Retry after ${budget.resetsSec} seconds.` }, retry);
  return textReply(429, `Too Many Requests. Retry after ${budget.resetsSec} seconds.\n`, 'text/plain; charset=utf-8', retry);
}
