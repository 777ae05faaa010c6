// Requests Node refuses before serve's handler runs (headers too slow, too large, not HTTP), a body
// cut off, and a handler that fails: each is answered as Node would, logged in one warning line
// (never a header's value) and counted in convlog_webhooks_rejected_total.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { createServeFixture, queuedState, sendWebhook, ticketEvent, within, type ServeFixture } from './serve-fixture.ts';

/** Writes `data` on a new connection (and ends it with `end`), and returns all the server sent before closing it. */
function exchange(f: ServeFixture, data: string, { end = false, destroyAfterMs }: { end?: boolean; destroyAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(f.server.port, '127.0.0.1', () => {
      socket.write(data);
      if (end) socket.end();
      if (destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), destroyAfterMs);
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

async function rejected(f: ServeFixture, reason: string): Promise<number> {
  const text = await (await fetch(`${f.server.url}/metrics`)).text();
  const count = new RegExp(`^convlog_webhooks_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1];
  if (count === undefined) throw new Error(`no convlog_webhooks_rejected_total series for ${reason}`);
  return Number(count);
}

const warnings = (f: ServeFixture) => f.logLines().filter((l) => l.level === 40);

describe('before the handler runs', () => {
  let f: ServeFixture;
  beforeAll(async () => {
    f = await createServeFixture();
  });
  afterAll(async () => {
    await f?.close();
  });
  beforeEach(() => f.clearLog());

  it('a client that never finishes its headers gets 408 after 10 s, one warning line, counted as timeout', async () => {
    const started = Date.now();
    const answer = await exchange(f, `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\n${SIGNATURE_HEADER}: sig-value-never-logged\r\n`);
    const seconds = (Date.now() - started) / 1000;
    expect(answer).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    expect(seconds).toBeGreaterThan(9);
    // Node's own bound would be 60 s: 20 s tells them apart with room for a busy machine.
    expect(seconds).toBeLessThan(20);
    await within(10_000, () => warnings(f).length > 0);
    expect(f.logLines()).toEqual([
      { level: 40, reason: 'timeout', status: 408, remote: '127.0.0.1', detail: 'headers not all sent within 10 s', time: expect.any(Number), msg: 'request rejected: headers not all sent within 10 s' },
    ]);
    expect(f.rawLog()).not.toContain('sig-value-never-logged');
    expect(await rejected(f, 'timeout')).toBe(1);
  }, 30_000);

  it('headers too large: 431; not HTTP: 400; headers cut off: 400 to the half-closed socket; each one line, never a value', async () => {
    const before = await rejected(f, 'bad_request');
    const large = await exchange(f, `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nx-big: ${'secret-ish'.repeat(3_000)}\r\n\r\n`);
    expect(large).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    const garbage = await exchange(f, 'HELLO there\r\n\r\n');
    expect(garbage).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const cut = await exchange(f, `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\n${TIMESTAMP_HEADER}: 2026`, { end: true });
    expect(cut).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    await within(10_000, () => warnings(f).length >= 3);
    expect(warnings(f).map((l) => [l.reason, l.status, l.remote, l.msg])).toEqual([
      ['bad_request', 431, '127.0.0.1', 'request rejected: headers too large'],
      ['bad_request', 400, '127.0.0.1', 'request rejected: not a valid HTTP request'],
      ['cut_off', 400, '127.0.0.1', 'request rejected: the client closed the connection before its headers ended'],
    ]);
    expect(f.rawLog()).not.toContain('secret-ish');
    expect(await rejected(f, 'bad_request')).toBe(before + 2);
  });

  it('a client that closes the connection mid-body: the handler\'s one line, counted as cut_off', async () => {
    const before = await rejected(f, 'cut_off');
    const head = `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n${TIMESTAMP_HEADER}: ${new Date().toISOString()}\r\n${SIGNATURE_HEADER}: x\r\n\r\n{"ticket_i`;
    expect(await exchange(f, head, { destroyAfterMs: 100 })).toBe('');
    await within(10_000, () => warnings(f).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(warnings(f).map((l) => [l.reason, l.msg])).toEqual([['the client closed the connection', 'webhook request cut off before its body was read']]);
    expect(await rejected(f, 'cut_off')).toBe(before + 1);
  });

  it('an idle keep-alive connection reset by its client is no refusal', async () => {
    const socket = net.connect(f.server.port, '127.0.0.1');
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(warnings(f)).toEqual([]);
  });
});

describe('a handler that fails', () => {
  let f: ServeFixture;
  beforeAll(async () => {
    f = await createServeFixture({
      ticketRows: {
        add: () => {
          throw new Error('the ticket-row reader failed');
        },
      },
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('is answered 500 and counted as internal_error', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(7));
    expect(answer).toMatchObject({ status: 500, body: '{"error":"internal error"}\n' });
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 7, full: false }]);
    expect(await rejected(f, 'internal_error')).toBe(1);
    expect(f.logLines()).toMatchObject([{ level: 50, msg: 'webhook request failed' }]);
  });
});
