// Connections behind a proxy: serve keeps an idle one longer than the usual proxies' 60 s (one
// that reuses a connection serve closed first gets a reset and answers Zendesk 502), and once
// it is stopping, every answer still sent says the connection closes after it.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { createServeFixture, type ServeFixture } from './serve-fixture.ts';

let f: ServeFixture;

beforeAll(async () => {
  f = await createServeFixture({ closeGraceMs: 5_000 });
});
afterAll(async () => {
  await f?.close();
});

/** A raw connection: what was written back, in full once the server closes it. */
function connect(): Promise<{ socket: net.Socket; received: () => string; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(f.server.port, '127.0.0.1', () => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      resolve({ socket, received: () => text, closed: new Promise((done) => socket.on('close', () => done(text))) });
    });
    socket.on('error', reject);
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

it('keeps an idle connection 65 s, longer than a load balancer in front keeps it', async () => {
  const { socket, received } = await connect();
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => received().includes('\r\n\r\n'));
  const head = received().split('\r\n\r\n')[0].toLowerCase();
  expect(head).toMatch(/^http\/1\.1 200/);
  expect(head).toContain('connection: keep-alive');
  expect(head).toContain('keep-alive: timeout=65');
  socket.destroy();
});

it('answers a request still being read when it stops with Connection: close', async () => {
  const { socket, closed } = await connect();
  const body = '{"ticket_id": "5"}';
  socket.write(
    `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      `${TIMESTAMP_HEADER}: ${new Date().toISOString()}\r\n${SIGNATURE_HEADER}: c2lnbmF0dXJl\r\n\r\n${body.slice(0, 5)}`,
  );
  await new Promise((r) => setTimeout(r, 100));
  const stopped = f.server.close();
  socket.write(body.slice(5));
  const answer = await closed;
  await stopped;
  const head = answer.split('\r\n\r\n')[0].toLowerCase();
  // Answered (the signature is refused), and told the connection ends with it.
  expect(head).toMatch(/^http\/1\.1 401/);
  expect(head).toContain('connection: close');
});
