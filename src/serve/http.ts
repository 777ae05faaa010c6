// Small node:http helpers shared by the webhook and health servers.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../errors/convlog-errors.ts';
import { printable, quoted } from '../text.ts';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface RunningServer {
  /** Where this machine reaches the server (127.0.0.1 when it listens on every interface). */
  url: string;
  port: number;
  /**
   * What it listens on, for the log: `all interfaces, port 8787` or `10.0.0.5, port 8787`.
   * The url alone would read as local-only when the server takes connections from anywhere.
   */
  bound: string;
  /**
   * Stops accepting connections, ends idle ones, waits for requests in flight up to a bound
   * (10 s), then cuts the connections left.
   */
  close(): Promise<void>;
}

export interface ListenOptions {
  port: number;
  host?: string;
  onError(error: unknown): void;
  /**
   * For a request sent with `Expect: 100-continue`: true when it has answered the request from
   * its headers alone, so the client never sends the body. Otherwise the body is asked for.
   */
  answerBeforeBody?(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** How long close() waits for requests in flight (default 10 s). */
  closeGraceMs?: number;
  /** A connection refused before a request of it reached the handler (told after the answer is written). */
  onClientError?(problem: ClientProblem): void;
}

/** What a connection refused before its request reached the handler is told, and why in words. */
export interface ClientProblem {
  kind: 'timeout' | 'cut_off' | 'bad_request';
  status: number;
  /** Fixed words, never the bytes received: those may hold a header's value. */
  reason: string;
  remote: string | undefined;
}

// Node's own answers to what its parser refuses, which a clientError listener replaces.
const CLIENT_ERRORS: Record<string, Omit<ClientProblem, 'remote'>> = {
  ERR_HTTP_REQUEST_TIMEOUT: { kind: 'timeout', status: 408, reason: 'headers not all sent within 10 s' },
  HPE_HEADER_OVERFLOW: { kind: 'bad_request', status: 431, reason: 'headers too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { kind: 'bad_request', status: 413, reason: 'chunk extensions too large' },
  HPE_INVALID_EOF_STATE: { kind: 'cut_off', status: 400, reason: 'the client closed the connection before its headers ended' },
};
const NOT_HTTP: Omit<ClientProblem, 'remote'> = { kind: 'bad_request', status: 400, reason: 'not a valid HTTP request' };

// Zendesk's requests are small and quick; anything slower is a stuck or hostile client.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
// Longer than the idle timeout of the proxies and load balancers put in front (60 s for AWS's and
// nginx's): one that reuses a connection serve has just closed gets a reset, which it answers 502.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
// Node enforces the two timeouts above only when it checks its connections, every 30 s by
// default: a slow client would be cut after 40 s instead of 15.
const CONNECTIONS_CHECK_MS = 1_000;
// Node stops enforcing the request timeout once the server is closing: a client that never ends
// its request would hold a shutdown for good. A supervisor's stop timeout is longer than this.
const CLOSE_GRACE_MS = 10_000;

export function send(res: http.ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, `${JSON.stringify(value)}\n`);
}

export async function listen(handler: Handler, options: ListenOptions): Promise<RunningServer> {
  // Each connection's latest request: a client error while it is read or answered is its handler's to report.
  const latest = new WeakMap<Socket, { req: http.IncomingMessage; res: http.ServerResponse }>();
  // Answers not yet sent: once the server is closing, each says `Connection: close`, so that the
  // client does not send its next request on a connection about to be closed under it.
  const unanswered = new Set<http.ServerResponse>();
  let closing = false;
  const lastOnItsConnection = (res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  const track = (req: http.IncomingMessage, res: http.ServerResponse) => {
    latest.set(req.socket, { req, res });
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
    if (closing) lastOnItsConnection(res);
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    track(req, res);
    handler(req, res).catch((error) => {
      options.onError(error);
      send(res, 500, '{"error":"internal error"}\n');
    });
  };
  const server = http.createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
    onRequest,
  );
  // Without this listener Node sends `100 Continue` at once, inviting a body it may refuse.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (options.answerBeforeBody?.(req, res)) return void track(req, res);
    res.writeContinue();
    onRequest(req, res);
  });
  // Without a listener Node answers these itself, unseen: no log line, nothing counted.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const last = latest.get(socket);
    const inHand = last !== undefined && !(last.req.complete && last.res.writableFinished);
    const problem = { ...(CLIENT_ERRORS[error.code ?? ''] ?? NOT_HTTP), remote: socket.remoteAddress };
    // As Node's default: no answer into a response already begun, or to a socket that cannot take one.
    if (socket.writable && !(inHand && last.res.headersSent)) {
      socket.write(`HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status]}\r\nConnection: close\r\n\r\n`);
    }
    // Errored, so the handler reading a body sees why it was cut.
    socket.destroy(error);
    // A reset between requests is how a client may drop a keep-alive connection: nothing was refused.
    if (!inHand && error.code !== 'ECONNRESET') options.onClientError?.(problem);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      // Which flag or variable set the port or host is the command's to say (error.cause.code tells it which is wrong).
      // CONVLOG_SERVE_HOST's value, shortened and escaped as CLI input is: Node's message holds it whole.
      const where = options.host === undefined ? `port ${options.port}` : `${printable(options.host, 40)} port ${options.port}`;
      const named = quoted(options.host ?? 'every address');
      const why =
        error.code === 'EADDRINUSE' ? 'the port is in use'
        : error.code === 'EACCES' ? 'permission denied'
        : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? `the host name ${named} does not resolve`
        : error.code === 'EADDRNOTAVAIL' || error.code === 'EINVAL' ? `${named} is not an address of this machine`
        : printable(error.message, 200);
      reject(new UsageError(`cannot listen on ${where}: ${why}`, { cause: error, showUsage: false }));
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const everywhere = address === '::' || address === '0.0.0.0';
  const shown = everywhere ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  // '::' also takes IPv4 (Node listens dual-stack); '0.0.0.0', asked for by name, takes IPv4 only.
  const where = address === '::' ? 'all interfaces' : address === '0.0.0.0' ? 'all IPv4 interfaces' : shown;
  return {
    url: `http://${shown}:${port}`,
    port,
    bound: `${where}, port ${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        unanswered.forEach(lastOnItsConnection);
        const cut = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? CLOSE_GRACE_MS);
        // A keep-alive connection whose request is answered after this would otherwise stay
        // open until its client or the keep-alive timeout ends it.
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        server.close(() => {
          clearTimeout(cut);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
