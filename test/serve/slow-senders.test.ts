// Slow senders (clients that send a webhook's headers, then trickle its body or stop short of its
// end) over real sockets: they cannot keep Zendesk's small deliveries out of the body allowance,
// and each is cut off 5 s after its headers with one warning line.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { MAX_BODY_BYTES, SMALL_BODY_BYTES } from '../../src/serve/webhook-server.ts';
import { bodyBytesHeld, eventually, queuedState, SECRETS, sendWebhook, serveFixtureForFile, ticketEvent, type ServeFixture } from './serve-fixture.ts';

interface OpenRequest {
  socket: net.Socket;
  /** All the server has sent on the connection so far. */
  answer(): string;
  closed(): boolean;
  /** Not answered, not closed: holding what the server read of its body. */
  holding(): boolean;
}

/**
 * A webhook request declaring `length` bytes of body, with fresh signature headers, and `first` of
 * them sent. The signature is made for `signed` when given (the whole body), or is a wrong one.
 */
function openRequest(f: ServeFixture, length: number, first: Buffer | string, signed?: string): OpenRequest {
  let answer = '';
  let closed = false;
  const timestamp = new Date().toISOString();
  const head =
    `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
    `${TIMESTAMP_HEADER}: ${timestamp}\r\n${SIGNATURE_HEADER}: ${signed === undefined ? 'x' : signWebhook(SECRETS[0], timestamp, signed)}\r\n\r\n`;
  const socket = net.connect(f.server.port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(head), Buffer.from(first)])));
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.on('close', () => (closed = true));
  // A holder the server cuts may see a reset: that is what is tested, not a failure.
  socket.on('error', () => {});
  return { socket, answer: () => answer, closed: () => closed, holding: () => answer === '' && !closed };
}

/** Waits until every request still holding has had its `sent` bytes read: the server has taken all it will. */
async function allRead(f: ServeFixture, requests: OpenRequest[], sent: number, timeoutMs = 20_000): Promise<void> {
  // A request refused gives its bytes back before its client hears so: the sum is equal only when
  // each request counted as holding holds all it sent.
  await eventually('the bodies read', async () => (await bodyBytesHeld(f.server)) === requests.filter((r) => r.holding()).length * sent, timeoutMs);
}

const rejectedCount = async (f: ServeFixture, reason: string) =>
  Number(new RegExp(`^convlog_webhooks_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(await (await fetch(`${f.server.url}/metrics`)).text())?.[1]);

describe('the body allowance', () => {
  // Held bodies are not cut here: what the allowance does is tested apart from the deadline.
  const f = serveFixtureForFile({ bodyDeadlineMs: 60_000 });

  it('sixteen senders holding 1 MB bodies short of their last byte leave room for a Zendesk delivery: 200 and queued while they hold', async () => {
    const holders = Array.from({ length: 16 }, () => openRequest(f, MAX_BODY_BYTES, Buffer.alloc(MAX_BODY_BYTES - 1, 'x')));
    try {
      await allRead(f, holders, MAX_BODY_BYTES - 1);
      const holding = holders.filter((h) => h.holding()).length;
      expect(holding).toBeGreaterThan(0);
      const answer = await sendWebhook(f.server, { ticket_id: '303' });
      expect(answer.status, answer.body).toBe(200);
      expect(holders.filter((h) => h.holding()).length).toBe(holding);
      expect(await queuedState(f.database)).toEqual({ jobs: [{ ticketId: 303, full: false }], tickets: [303] });
      // Those not holding were refused for the allowance, with a time to come back.
      for (const h of holders.filter((r) => !r.holding())) expect(h.answer()).toMatch(/^HTTP\/1\.1 503 [^]*\r\nretry-after: 10\r\n/i);
    } finally {
      for (const h of holders) h.socket.destroy();
    }
  });

  it('bodies over 64 KB may hold 12 MB together, smaller ones the rest up to 16 MB; past that 503 with Retry-After; it all comes back as they end', async () => {
    const large = Array.from({ length: 13 }, () => openRequest(f, MAX_BODY_BYTES, Buffer.alloc(MAX_BODY_BYTES - 1, 'x')));
    const small: OpenRequest[] = [];
    try {
      await allRead(f, large, MAX_BODY_BYTES - 1);
      expect(large.filter((h) => h.holding())).toHaveLength(12);
      // Bodies of 64 KB at most take the last 4 MB: 64 of them, short of their last byte.
      small.push(...Array.from({ length: 64 }, () => openRequest(f, SMALL_BODY_BYTES, Buffer.alloc(SMALL_BODY_BYTES - 1, 'x'))));
      await eventually('the small bodies read', async () => (await bodyBytesHeld(f.server)) === 12 * (MAX_BODY_BYTES - 1) + 64 * (SMALL_BODY_BYTES - 1), 20_000);
      expect(small.filter((h) => h.holding())).toHaveLength(64);
      const late = openRequest(f, 1_000, Buffer.alloc(1_000, 'x'));
      small.push(late);
      await eventually('the late body answered', () => late.answer().includes('\r\n\r\n'), 5_000);
      expect(late.answer()).toMatch(/^HTTP\/1\.1 503 [^]*\r\nretry-after: 10\r\n/i);
      expect(f.logLines().map((l) => l.reason)).toEqual(['server_busy', 'server_busy']);
    } finally {
      for (const h of [...large, ...small]) h.socket.destroy();
    }
    await eventually('the allowance given back', async () => (await bodyBytesHeld(f.server)) === 0, 5_000);
    const after = await sendWebhook(f.server, JSON.stringify({ ...ticketEvent(11), padding: 'x'.repeat(900_000) }));
    expect(after.status, after.body).toBe(200);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 11, full: false }]);
  });
});

describe('the body deadline', () => {
  const f = serveFixtureForFile();

  it('senders that trickle or stall are cut off 5 s after their headers: 408, one warning line each with the address and no body, counted as slow_sender', async () => {
    const marker = 'body-text-never-logged-';
    // Eight trickle a byte every 100 ms; eight send half their body and stop.
    const tricklers = Array.from({ length: 8 }, () => openRequest(f, 500, ''));
    const timers = tricklers.map((t, i) => setInterval(() => !t.closed() && t.socket.write(marker[i % marker.length]), 100));
    const stalled = Array.from({ length: 8 }, () => openRequest(f, 500, marker.repeat(20).slice(0, 250)));
    const senders = [...tricklers, ...stalled];
    try {
      await eventually('the stalled bodies read', async () => (await bodyBytesHeld(f.server)) >= 8 * 250, 5_000);
      const genuine = await sendWebhook(f.server, ticketEvent(404));
      expect(genuine.status, genuine.body).toBe(200);
      expect(senders.filter((s) => s.holding()).length).toBeGreaterThan(0);
      // Node's request timeout would cut them at 15 s.
      await eventually('every slow sender cut off', () => senders.every((s) => s.closed()), 12_000);
    } finally {
      timers.forEach(clearInterval);
      for (const s of senders) s.socket.destroy();
    }
    for (const s of senders) expect(s.answer()).toMatch(/^HTTP\/1\.1 408 [^]*\r\nconnection: close\r\n[^]*\{"error":"slow_sender"\}\n$/i);
    const warnings = f.logLines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(16);
    for (const line of warnings) {
      expect(line).toEqual({
        level: 40,
        reason: 'slow_sender',
        status: 408,
        remote: '127.0.0.1',
        detail: expect.stringMatching(/^body not all sent within 5 s of its headers \(\d+ of 500 bytes\)$/),
        time: expect.any(Number),
        msg: 'webhook rejected: slow_sender',
      });
    }
    expect(warnings.filter((l) => l.detail === 'body not all sent within 5 s of its headers (250 of 500 bytes)')).toHaveLength(8);
    expect(f.rawLog()).not.toContain('never-logged');
    expect(await rejectedCount(f, 'slow_sender')).toBe(16);
    expect(await bodyBytesHeld(f.server)).toBe(0);
    expect(await queuedState(f.database)).toEqual({ jobs: [{ ticketId: 404, full: false }], tickets: [404] });
  }, 20_000);
});

describe('the body deadline after the event loop was blocked', () => {
  const f = serveFixtureForFile({ bodyDeadlineMs: 2_000 });

  it('a body that came whole while the loop was blocked past its deadline is read, not cut: 200 and queued', async () => {
    const body = JSON.stringify(ticketEvent(505));
    const sender = openRequest(f, Buffer.byteLength(body), body.slice(0, 1), body);
    try {
      // Its headers are in and its deadline running: the server holds the first byte.
      await eventually('the first byte read', async () => (await bodyBytesHeld(f.server)) === 1, 5_000);
      // From a setImmediate (the check phase), as after a callback that blocks: the next turn of
      // the loop runs its due timers before it reads the sockets.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          // A write to an idle socket goes to the kernel at once: the rest of the body waits there.
          sender.socket.write(body.slice(1));
          const until = Date.now() + 2_000 + 200;
          while (Date.now() < until);
          resolve();
        }),
      );
      await eventually('the request answered', () => /\r\n\r\n/.test(sender.answer()), 5_000);
    } finally {
      sender.socket.destroy();
    }
    expect(sender.answer()).toMatch(/^HTTP\/1\.1 200 /);
    expect(f.logLines().filter((l) => l.reason === 'slow_sender')).toEqual([]);
    expect(await queuedState(f.database)).toEqual({ jobs: [{ ticketId: 505, full: false }], tickets: [505] });
  });
});
