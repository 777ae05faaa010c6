// Stands between the sync and the simulator to play three things Zendesk does that the
// simulator cannot be told to: drop events from a log, reject a cursor it handed out a page
// ago, and answer 429 many times in a row. Every other request and answer passes unchanged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyPlan {
  /** References to leave out of every conversation log page. */
  dropReferences: Set<string>;
  /** Answer this many 429s (Retry-After `retryAfter` seconds) before the next log page goes through. */
  rateLimitNext: number;
  retryAfter: string;
  /** Reject the next request that carries page[after] with 400 InvalidPaginationParameter. */
  rejectNextCursor: boolean;
}

export interface ZendeskProxy {
  url: string;
  plan: ProxyPlan;
  /** Status of every conversation log request, in order. */
  statuses: number[];
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<ZendeskProxy> {
  const plan: ProxyPlan = { dropReferences: new Set(), rateLimitNext: 0, retryAfter: '0.01', rejectNextCursor: false };
  const statuses: number[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', target);
    const isLog = /\/conversation_log$/.test(url.pathname);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (isLog) statuses.push(status);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (isLog && plan.rateLimitNext > 0) {
      plan.rateLimitNext--;
      return reply(429, { error: 'TooManyRequests' }, { 'Retry-After': plan.retryAfter });
    }
    if (isLog && plan.rejectNextCursor && url.searchParams.has('page[after]')) {
      plan.rejectNextCursor = false;
      return reply(400, { errors: [{ code: 'InvalidPaginationParameter', title: 'cursor is invalid' }] });
    }
    const answer = await fetch(url, { headers: { authorization: req.headers.authorization ?? '' } });
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, key) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(key)) headers[key] = value;
    });
    const text = await answer.text();
    if (!isLog || answer.status !== 200) {
      if (isLog) statuses.push(answer.status);
      res.writeHead(answer.status, headers);
      return res.end(text);
    }
    const body = JSON.parse(text) as { events: { reference: string }[] };
    body.events = body.events.filter((event) => !plan.dropReferences.has(event.reference));
    reply(200, body, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    plan,
    statuses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
