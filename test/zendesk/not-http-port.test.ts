// ZENDESK_BASE_URL at a port that is no HTTP server (a database's, an SSH daemon's): it accepts
// the connection, then closes it or answers something that is not HTTP. The credential check
// every command makes first names that, after its one retry, as an unreachable Zendesk (sync
// exits 2 at once; work holds its tickets and probes); before, it gave no verdict and every
// ticket failed its retries one by one with "connection closed by the server".
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ZendeskUnreachable } from '../../src/errors/zendesk-errors.ts';
import { checkCredentials } from '../../src/zendesk/credentials.ts';
import { clientFor, rejection } from './helpers.ts';

let server: net.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A TCP server that treats each connection so, counting them. */
async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = net.createServer((socket) => {
    connections++;
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe('a ZENDESK_BASE_URL whose port is no HTTP server', { timeout: 30_000 }, () => {
  it('that closes every connection unanswered is named as such, after one retry', async () => {
    const port = await tcpServer((socket) => socket.destroy());
    const error = await rejection(checkCredentials({ http: clientFor(port.url) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(ZendeskUnreachable);
    expect(error.message).toBe(`cannot reach Zendesk at ${port.url}: the server closed the connection without an HTTP answer, twice (is that port an HTTP server?) (check ZENDESK_BASE_URL)`);
    expect(port.connections()).toBe(2);
  });

  it('that answers something that is not HTTP is named the same way', async () => {
    const port = await tcpServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.2\r\nProtocol mismatch.\n')));
    const error = await rejection(checkCredentials({ http: clientFor(port.url) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(ZendeskUnreachable);
    expect(error.message).toMatch(/the server closed the connection without an HTTP answer, twice/);
  });
});
