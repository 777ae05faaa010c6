// convlog serve's webhook endpoint over a real HTTP server, Postgres and pg-boss: what is
// accepted queues the ticket; every rejection queues nothing and logs one line without secrets.
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { queuedState, SECRETS, sendWebhook, serveFixtureForFile, ticketEvent, within } from './serve-fixture.ts';

const f = serveFixtureForFile();

/** The one line a rejection logs, checked for the secrets and the signature it must not carry. */
function expectOneRejectionLine(reason: string, signature?: string) {
  const lines = f.logLines();
  expect(lines, f.rawLog()).toHaveLength(1);
  expect(lines[0]).toMatchObject({ reason, msg: `webhook rejected: ${reason}` });
  for (const secret of SECRETS) expect(f.rawLog()).not.toContain(secret);
  if (signature) expect(f.rawLog()).not.toContain(signature);
}

describe('accepted webhooks', () => {
  it('queues the ticket an event names, and a trigger body\'s ticket_id', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(101));
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ticketId: 101, action: 'sync' });
    const trigger = await sendWebhook(f.server, { ticket_id: '202' });
    expect(trigger.status, trigger.body).toBe(200);
    expect(await queuedState(f.database)).toEqual({
      jobs: [{ ticketId: 101, full: false }, { ticketId: 202, full: false }],
      tickets: [101, 202],
    });
  });

  it('times each answer in /metrics, accepted or refused', async () => {
    const count = async () => Number(/^convlog_webhook_answer_seconds_count (\d+)$/m.exec(await (await fetch(`${f.server.url}/metrics`)).text())?.[1]);
    const before = await count();
    expect((await sendWebhook(f.server, ticketEvent(104))).status).toBe(200);
    expect((await sendWebhook(f.server, ticketEvent(105), { secret: 'not-the-secret-at-all' })).status).toBe(401);
    expect(await count()).toBe(before + 2);
  });

  it('accepts a request signed with the second secret (rotation)', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(303), { secret: SECRETS[1] });
    expect(answer.status, answer.body).toBe(200);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 303, full: false }]);
  });

  it('queues a redaction for a full re-read', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(404, 'comment_redacted'));
    expect(answer.status, answer.body).toBe(200);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 404, full: true }]);
  });

  it('without Zendesk credentials (no row is read), queues a ticket whose fields alone changed', async () => {
    // This fixture reads no rows, as serve without credentials: a row-only change would be dropped.
    await f.database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (505, 'synced')`);
    const answer = await sendWebhook(f.server, ticketEvent(505, 'priority_changed'));
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ticketId: 505, action: 'sync' });
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 505, full: false }]);
  });

  it('answers 200 to an event type about no ticket, queues nothing and counts it', async () => {
    const answer = await sendWebhook(f.server, { type: 'zen:event-type:user.created', id: 'u1', detail: { id: '9' } });
    expect(answer.status, answer.body).toBe(200);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expect(await f.metrics.registry.getSingleMetricAsString('convlog_webhooks_ignored_total')).toContain(
      'convlog_webhooks_ignored_total{type="zen:event-type:user.created"} 1',
    );
  });
});

describe('rejections queue nothing and log one line without the secret', () => {
  it('no signature: 401', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(1), { omit: [SIGNATURE_HEADER] });
    expect(answer.status).toBe(401);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expectOneRejectionLine('no_signature');
  });

  it('no timestamp: 401', async () => {
    const answer = await sendWebhook(f.server, ticketEvent(1), { omit: [TIMESTAMP_HEADER] });
    expect(answer.status).toBe(401);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expectOneRejectionLine('no_signature');
  });

  it('a signature made with another secret, or over another body: 401', async () => {
    const timestamp = new Date().toISOString();
    const wrong = signWebhook('not-our-secret-at-all', timestamp, JSON.stringify(ticketEvent(2)));
    const answer = await sendWebhook(f.server, ticketEvent(2), { timestamp, signature: wrong });
    expect(answer.status).toBe(401);
    expectOneRejectionLine('bad_signature', wrong);

    f.clearLog();
    const other = signWebhook(SECRETS[0], timestamp, JSON.stringify(ticketEvent(3)));
    expect((await sendWebhook(f.server, ticketEvent(4), { timestamp, signature: other })).status).toBe(401);
    expect((await sendWebhook(f.server, ticketEvent(4), { signature: 'not base64 at all!' })).status).toBe(401);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
  });

  it('a correctly signed request whose timestamp is more than 5 minutes old or ahead: 401', async () => {
    const old = new Date(Date.now() - 301_000).toISOString();
    const answer = await sendWebhook(f.server, ticketEvent(5), { timestamp: old });
    expect(answer.status).toBe(401);
    expectOneRejectionLine('stale_timestamp');
    const ahead = new Date(Date.now() + 301_000).toISOString();
    expect((await sendWebhook(f.server, ticketEvent(5), { timestamp: ahead })).status).toBe(401);
    f.clearLog();
    expect((await sendWebhook(f.server, ticketEvent(5), { timestamp: 'yesterday' })).status).toBe(401);
    expectOneRejectionLine('bad_timestamp');
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
  });

  it('a replay of an accepted event: 200, queued once', async () => {
    const event = ticketEvent(6);
    expect((await sendWebhook(f.server, event)).status).toBe(200);
    // The worker took the job and finished it; the replay must not queue the ticket again.
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    f.clearLog();
    const replay = await sendWebhook(f.server, event);
    expect(replay.status).toBe(200);
    expect(JSON.parse(replay.body)).toEqual({ replay: true });
    expect((await queuedState(f.database)).jobs).toEqual([]);
    expect(f.logLines()).toHaveLength(1);

    // A trigger body carries no event id: the very same signed request is the replay.
    const timestamp = new Date().toISOString();
    const raw = JSON.stringify({ ticket_id: 7 });
    const signature = signWebhook(SECRETS[0], timestamp, raw);
    expect((await sendWebhook(f.server, raw, { timestamp, signature })).status).toBe(200);
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    expect(JSON.parse((await sendWebhook(f.server, raw, { timestamp, signature })).body)).toEqual({ replay: true });
    expect((await queuedState(f.database)).jobs).toEqual([]);

    // Two changes to the ticket within a second: the same body, timestamp and signature, told
    // apart by Zendesk's invocation id, which an attempt again at one delivery keeps.
    const invocation = (id: string) => ({ timestamp, signature, headers: { 'x-zendesk-webhook-invocation-id': id } });
    expect(JSON.parse((await sendWebhook(f.server, raw, invocation('8001'))).body)).toEqual({ ticketId: 7, action: 'sync' });
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    expect(JSON.parse((await sendWebhook(f.server, raw, invocation('8002'))).body)).toEqual({ ticketId: 7, action: 'sync' });
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    expect(JSON.parse((await sendWebhook(f.server, raw, invocation('8002'))).body)).toEqual({ replay: true });
    expect((await queuedState(f.database)).jobs).toEqual([]);
  });

  it('a trigger body sent again with its signature spelled another way: 401, not queued again', async () => {
    // A signature with a + or / in it, so that the URL-safe spelling differs.
    let timestamp = '';
    let signature = '';
    const raw = JSON.stringify({ ticket_id: 8 });
    for (let ms = Date.now(); !/[+/]/.test(signature); ms -= 1_000) {
      timestamp = new Date(ms).toISOString();
      signature = signWebhook(SECRETS[0], timestamp, raw);
    }
    expect((await sendWebhook(f.server, raw, { timestamp, signature })).status).toBe(200);
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    f.clearLog();
    const variants = [
      signature.replace(/=+$/, ''),
      signature.replaceAll('+', '-').replaceAll('/', '_'),
      `${signature.slice(0, 10)}.${signature.slice(10)}`,
      `!${signature}`,
    ];
    for (const variant of variants) {
      const answer = await sendWebhook(f.server, raw, { timestamp, signature: variant });
      expect(answer.status, variant).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({ error: 'bad_signature' });
    }
    expect((await queuedState(f.database)).jobs).toEqual([]);
    expect(f.logLines().map((l) => l.reason)).toEqual(variants.map(() => 'bad_signature'));
  });

  it('a body over 1 MB: 413', async () => {
    const huge = JSON.stringify({ ...ticketEvent(8), padding: 'x'.repeat(1024 * 1024) });
    const answer = await sendWebhook(f.server, huge);
    expect(answer.status).toBe(413);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expectOneRejectionLine('too_large');
  });

  it('a chunked body that passes 1 MB as it streams (no content-length): 413', async () => {
    const timestamp = new Date().toISOString();
    const chunk = Buffer.alloc(256 * 1024, 'x');
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${f.server.url}/webhooks/zendesk`, {
      method: 'POST',
      headers: { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhook(SECRETS[0], timestamp, 'irrelevant') },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expectOneRejectionLine('too_large');
  });

  it('a body over 1 MB announced with Expect: 100-continue: 413 at once, without 100 Continue', async () => {
    const answer = await rawExchange(f.server.port, [
      `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`,
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toContain('100 Continue');
    expectOneRejectionLine('too_large');

    // A small one is asked for its body and handled as ever.
    const timestamp = new Date().toISOString();
    const raw = JSON.stringify(ticketEvent(9));
    const head = `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(raw)}\r\n${TIMESTAMP_HEADER}: ${timestamp}\r\n${SIGNATURE_HEADER}: ${signWebhook(SECRETS[0], timestamp, raw)}\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n`;
    const small = await rawExchange(f.server.port, [head, raw]);
    expect(small).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 9, full: false }]);
  });

  it('a body that is not JSON: 400', async () => {
    const answer = await sendWebhook(f.server, '{"type": "zen:event-type:ticket.created", ');
    expect(answer.status).toBe(400);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expectOneRejectionLine('malformed_json');
  });

  it('JSON naming no ticket: 400', async () => {
    const answer = await sendWebhook(f.server, { type: 'zen:event-type:ticket.created', id: 'x1', detail: {} });
    expect(answer.status).toBe(400);
    expect((await sendWebhook(f.server, { ticket_id: '{{ticket.id}}' })).status).toBe(400);
    expect((await sendWebhook(f.server, [1, 2])).status).toBe(400);
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    expect(f.logLines().map((l) => l.reason)).toEqual(['no_ticket', 'no_ticket', 'no_ticket']);
  });

  it('counts each rejection by reason in /metrics', async () => {
    const text = await (await fetch(`${f.server.url}/metrics`)).text();
    for (const reason of ['no_signature', 'bad_signature', 'stale_timestamp', 'bad_timestamp', 'too_large', 'malformed_json', 'no_ticket']) {
      expect(text).toMatch(new RegExp(`convlog_webhooks_rejected_total\\{reason="${reason}"\\} [1-9]`));
    }
    expect(text).toMatch(/convlog_webhooks_replayed_total [1-9]/);
  });

  it('any other method on the webhook path: 405, timed as every answer is', async () => {
    const timed = async () => Number(/^convlog_webhook_answer_seconds_count (\d+)$/m.exec(await (await fetch(`${f.server.url}/metrics`)).text())?.[1]);
    const before = await timed();
    const answer = await fetch(`${f.server.url}/webhooks/zendesk`);
    expect(answer.status).toBe(405);
    expect(await timed()).toBe(before + 1);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(await queuedState(f.database)).toEqual({ jobs: [], tickets: [] });
    for (const path of ['/healthz', '/metrics']) {
      const post = await fetch(`${f.server.url}${path}`, { method: 'POST' });
      expect(post.status, path).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
    }
  });
});

describe('bodies are read only when they may count', () => {
  /** Sends `head` and part of a body on a raw connection; the socket and its first answer (or '' after `waitMs`). */
  function partSent(head: string, bodyPart: Buffer, waitMs: number) {
    const socket = net.connect(f.server.port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(head), bodyPart])));
    socket.on('error', () => {});
    const answer = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(''), waitMs);
      socket.once('data', (chunk) => {
        clearTimeout(timer);
        resolve(chunk.toString());
      });
    });
    return { socket, answer };
  }
  const headOf = (length: number, headers: Record<string, string>) =>
    `POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;

  it('a request without signature headers, or with a stale timestamp, is answered before its body arrives', async () => {
    const unsigned = partSent(headOf(500_000, {}), Buffer.alloc(1_000, 'x'), 3_000);
    expect(await unsigned.answer).toMatch(/^HTTP\/1\.1 401 /);
    unsigned.socket.destroy();
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const stale = partSent(headOf(500_000, { [TIMESTAMP_HEADER]: old, [SIGNATURE_HEADER]: signWebhook(SECRETS[0], old, 'x') }), Buffer.alloc(1_000, 'x'), 3_000);
    expect(await stale.answer).toMatch(/^HTTP\/1\.1 401 /);
    stale.socket.destroy();
    expect(f.logLines().map((l) => l.reason)).toEqual(['no_signature', 'stale_timestamp']);
  });

  // What all the bodies being read may hold, and the share of large ones: slow-senders.test.ts.
});

describe('a database that does not answer', () => {
  it('gets a 503 within seconds; the delivery, queued once Postgres answers, is a replay after that', async () => {
    const locker = new pg.Client({ connectionString: f.database.url });
    await locker.connect();
    const event = ticketEvent(10);
    try {
      await locker.query('begin');
      await locker.query('lock table convlog.webhook_deliveries in access exclusive mode');
      const started = Date.now();
      const answer = await sendWebhook(f.server, event);
      expect(answer.status).toBe(503);
      // Unbounded, the request would wait for the lock, held until the rollback below: 15 s
      // leaves a busy machine room over SUBMIT_TIMEOUT_MS (5 s), where 7 s did not.
      expect(Date.now() - started).toBeLessThan(15_000);
      // Counted, as every refusal is.
      expect(await (await fetch(`${f.server.url}/metrics`)).text()).toContain('convlog_webhooks_rejected_total{reason="not_queued"} 1');
      // Zendesk retries a 503 only with a Retry-After of under a minute.
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(answer.headers.get('retry-after'))).toBeLessThan(60);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // The batch went on when the lock went: Zendesk's retry finds the ticket queued.
    await within(5_000, async () => (await queuedState(f.database)).jobs.length > 0);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 10, full: false }]);
    expect(JSON.parse((await sendWebhook(f.server, event)).body)).toEqual({ replay: true });
  });
});

/** Writes `parts` on a raw connection, each after the server's last answer or at once, and returns all it answered. */
function rawExchange(port: number, parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(parts.shift()!));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (parts.length > 0) socket.write(parts.shift()!);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}
