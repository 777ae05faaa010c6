// Small node:http helpers shared by the webhook and health servers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.ts';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, ends idle ones and waits for requests in flight. */
  close(): Promise<void>;
}

// Zendesk's requests are small and quick; anything slower is a stuck or hostile client.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export function send(res: http.ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, `${JSON.stringify(value)}\n`);
}

export async function listen(handler: Handler, options: { port: number; host?: string; onError(error: unknown): void }): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    handler(req, res).catch((error) => {
      options.onError(error);
      send(res, 500, '{"error":"internal error"}\n');
    });
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'it is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new UsageError(`cannot listen on port ${options.port}: ${why} (choose another with --port)`, { cause: error }));
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const shown = address === '::' || address === '0.0.0.0' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
