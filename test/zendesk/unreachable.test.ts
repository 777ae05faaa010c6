// The credential check that `sync` makes first also tells a host that cannot be reached at all,
// at once and without retries, from one that answers badly (left to the sync's own retries).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/errors/outcome.ts';
import { ServerError, ZendeskUnreachable } from '../../src/errors/zendesk-errors.ts';
import { checkCredentials } from '../../src/zendesk/credentials.ts';
import { clientFor } from './helpers.ts';
import { freePort } from '../../src/db/embedded.ts';

async function verdict(url: string, requestTimeoutMs?: number): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await checkCredentials({ http: clientFor(url, requestTimeoutMs ? { requestTimeoutMs } : {}) }, 'nothing was queued');
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describe('checkCredentials against a host it cannot reach', () => {
  it('a host name that does not resolve: ZendeskUnreachable within 5 s, naming the host and what to check (exit 2)', async () => {
    const { error, ms } = await verdict('https://nosuch-convlog.invalid');
    expect(error).toBeInstanceOf(ZendeskUnreachable);
    expect((error as Error).message).toMatch(
      /^cannot reach Zendesk at https:\/\/nosuch-convlog\.invalid: the host name (does not resolve|could not be looked up \(no answer from DNS\)) \(check ZENDESK_BASE_URL\)$/,
    );
    expect((error as Error).cause).toBeInstanceOf(ServerError);
    expect(exitCodeFor(error)).toBe(2);
    expect(ms).toBeLessThan(5_000);
  });

  it('a closed port: ZendeskUnreachable within 5 s with "connection refused"', async () => {
    const port = await freePort();
    const { error, ms } = await verdict(`http://127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(ZendeskUnreachable);
    expect((error as Error).message).toBe(
      `cannot reach Zendesk at http://127.0.0.1:${port}: the connection was refused (nothing listens on that port) (check ZENDESK_BASE_URL)`,
    );
    expect(ms).toBeLessThan(5_000);
  });

  it('a server that never answers: ZendeskUnreachable once the request has timed out twice', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const { error, ms } = await verdict(`http://127.0.0.1:${port}`, 300);
      expect(error).toBeInstanceOf(ZendeskUnreachable);
      expect((error as Error).message).toBe(
        `cannot reach Zendesk at http://127.0.0.1:${port}: no answer within the request timeout, twice (CONVLOG_REQUEST_TIMEOUT) (check ZENDESK_BASE_URL)`,
      );
      expect(sockets.length, "asked again after the first timeout").toBeGreaterThanOrEqual(2);
      expect(ms).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
