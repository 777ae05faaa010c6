// Clients that never finish their request: a webhook's body is cut off 5 s after its headers
// (slow-senders.test.ts has many such senders at once), a client gone mid-body is one warning
// line, and a shutdown does not wait for either beyond its bound.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { createServeFixture, eventually, queuedState, type ServeFixture } from './serve-fixture.ts';

const CLOSE_GRACE_MS = 1_000;
let f: ServeFixture;

beforeAll(async () => {
  f = await createServeFixture({ closeGraceMs: CLOSE_GRACE_MS });
});
afterAll(async () => {
  await f?.close();
});
beforeEach(() => f.clearLog());

/** Opens a connection and sends a webhook request's headers and 10 of its 500 body bytes, then nothing. */
function halfSentRequest(): Promise<{ socket: net.Socket; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(f.server.port, '127.0.0.1', () => {
      socket.write(
        `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n` +
          `${TIMESTAMP_HEADER}: ${new Date().toISOString()}\r\n${SIGNATURE_HEADER}: x\r\n\r\n{"ticket_i`,
      );
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      resolve({ socket, answer: new Promise((done) => socket.on('close', () => done(answer))) });
    });
    socket.on('error', reject);
  });
}

const cutLines = () => f.logLines().filter((l) => l.msg === 'webhook request cut off before its body was read');

it('a client that sends its headers and part of its body gets 408 5 s after them (not at Node\'s 15 s), logged once as a warning', async () => {
  const started = Date.now();
  const { answer } = await halfSentRequest();
  expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
  const seconds = (Date.now() - started) / 1000;
  expect(seconds).toBeGreaterThan(4.5);
  // Under Node's 15 s by far, with room for a busy machine over the 5 s.
  expect(seconds).toBeLessThan(12);
  expect(f.logLines()).toEqual([
    {
      level: 40,
      reason: 'slow_sender',
      status: 408,
      remote: '127.0.0.1',
      detail: 'body not all sent within 5 s of its headers (10 of 500 bytes)',
      time: expect.any(Number),
      msg: 'webhook rejected: slow_sender',
    },
  ]);
  expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
  expect(await (await fetch(`${f.server.url}/metrics`)).text()).toContain('convlog_webhooks_rejected_total{reason="slow_sender"} 1');
}, 25_000);

it('a client that closes the connection mid-body is one warning line, not a failure', async () => {
  const { socket } = await halfSentRequest();
  socket.destroy();
  await eventually('the cut-off line', () => cutLines().length > 0, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(f.logLines()).toEqual([
    { level: 40, remote: '127.0.0.1', reason: 'the client closed the connection', time: expect.any(Number), msg: 'webhook request cut off before its body was read' },
  ]);
});

// Last: it closes the server.
it('close() cuts a client still holding a half-sent body once its bound has passed', async () => {
  const { answer } = await halfSentRequest();
  // An idle keep-alive connection as well: it is ended at once.
  const idle = await fetch(`${f.server.url}/healthz`);
  expect(idle.status).toBe(200);
  const started = Date.now();
  await f.server.close();
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(CLOSE_GRACE_MS - 50);
  // Not cut, it would last until the body's 5 s bound (and the answer below be a 408).
  expect(took).toBeLessThan(CLOSE_GRACE_MS + 3_000);
  expect(await answer).toBe('');
  await eventually('the cut-off line', () => cutLines().length > 0, 10_000);
  expect(cutLines()).toMatchObject([{ level: 40, reason: 'cut at shutdown' }]);
});
