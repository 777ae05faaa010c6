import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator, WebhookEvent } from '../../src/simulator/index.ts';
import { AUTH, get, simulator } from './helpers.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

const receivers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((close) => close()));
});

/** A plain HTTP endpoint that records what it is sent and answers 200. */
async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/zendesk`, received };
}

function call(sim: Simulator, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.url}${path}`, { method, headers: { ...AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function createWebhook(sim: Simulator, endpoint: string, subscriptions: string[], status = 'active'): Promise<{ id: string; secret: string }> {
  const response = await call(sim, 'POST', '/api/v2/webhooks', { webhook: { name: 'convlog', endpoint, http_method: 'POST', request_format: 'json', status, subscriptions } });
  expect(response.status).toBe(201);
  const { webhook } = (await response.json()) as { webhook: { id: string } };
  const secret = (await (await get(sim, `/api/v2/webhooks/${webhook.id}/signing_secret`)).json()) as { signing_secret: { algorithm: string; secret: string } };
  expect(secret.signing_secret.algorithm).toBe('SHA256');
  return { id: webhook.id, secret: secret.signing_secret.secret };
}

const EVENTS = ['comment_added', 'status_changed', 'comment_redacted', 'soft_deleted', 'permanently_deleted', 'undeleted', 'group_assignment_changed'].map((e) => `zen:event-type:ticket.${e}`);

const expectedSignature = (secret: string, received: Received) =>
  createHmac('sha256', secret).update(`${String(received.headers['x-zendesk-webhook-signature-timestamp'])}${received.body}`).digest('base64');

describe('webhooks API', () => {
  it('creates, lists, shows and deletes webhooks; rejects bad ones and creates nothing', async () => {
    const sim = await simulator();
    for (const bad of [{}, { webhook: { name: 'x', endpoint: 'not a url', subscriptions: EVENTS } }, { webhook: { name: 'x', endpoint: 'https://a.example/', subscriptions: ['zen:event-type:ticket.exploded'] } }, { webhook: { name: 'x', endpoint: 'https://a.example/', subscriptions: [] } }]) {
      const response = await call(sim, 'POST', '/api/v2/webhooks', bad);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ code: 'InvalidValue', title: expect.any(String) }] });
    }
    expect(((await (await get(sim, '/api/v2/webhooks')).json()) as { webhooks: unknown[] }).webhooks).toEqual([]);
    const { id, secret } = await createWebhook(sim, 'https://receiver.example/hook', EVENTS);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const shown = (await (await get(sim, `/api/v2/webhooks/${id}`)).json()) as { webhook: Record<string, unknown> };
    expect(shown.webhook).toMatchObject({ id, endpoint: 'https://receiver.example/hook', status: 'active', subscriptions: EVENTS });
    expect(JSON.stringify(shown)).not.toContain(secret);
    const reset = (await (await call(sim, 'POST', `/api/v2/webhooks/${id}/signing_secret`)).json()) as { signing_secret: { secret: string } };
    expect(reset.signing_secret.secret).not.toBe(secret);
    expect((await call(sim, 'DELETE', `/api/v2/webhooks/${id}`)).status).toBe(204);
    expect((await get(sim, `/api/v2/webhooks/${id}`)).status).toBe(404);
    expect((await get(sim, '/api/v2/webhooks', {})).status).toBe(401);
  });
});

describe('webhook deliveries', () => {
  it('signs every ticket change it subscribes to, with Zendesk\'s payload', async () => {
    const sim = await simulator({ tickets: 5, ticketSizes: { 1: 3 } });
    const target = await receiver();
    const { secret } = await createWebhook(sim, target.url, EVENTS);
    // Signed when sent: between this reading of the clock and the one after they all arrived (a
    // whole second early at most, for a timestamp without milliseconds).
    const sendingFrom = Date.now();
    const [comment] = sim.appendEvents(1, 1);
    sim.updateTicket(2, { status: 'solved' });
    sim.updateTicket(2, { priority: sim.ticket(2).priority });
    sim.updateTicket(2, { group_id: 360_000_000_003 });
    sim.editEvent(1, sim.events(1)[0].reference, (event) => {
      event.content = { type: 'html', body: '<div class="zd-comment">▇▇▇▇</div>' };
    });
    sim.deleteTicket(3);
    sim.restoreTicket(3);
    sim.deleteTicket(4, { permanently: true });
    await sim.webhooks.settled();

    expect(target.received.map((r) => JSON.parse(r.body) as WebhookEvent).map((e) => [e.type.replace('zen:event-type:ticket.', ''), e.subject])).toEqual([
      ['comment_added', 'zen:ticket:1'],
      ['status_changed', 'zen:ticket:2'],
      ['group_assignment_changed', 'zen:ticket:2'],
      ['comment_redacted', 'zen:ticket:1'],
      ['soft_deleted', 'zen:ticket:3'],
      ['undeleted', 'zen:ticket:3'],
      ['permanently_deleted', 'zen:ticket:4'],
    ]);
    for (const r of target.received) {
      expect(r.headers['x-zendesk-webhook-signature']).toBe(expectedSignature(secret, r));
      const signedAt = Date.parse(String(r.headers['x-zendesk-webhook-signature-timestamp']));
      expect(signedAt).toBeGreaterThan(sendingFrom - 1_000);
      expect(signedAt).toBeLessThanOrEqual(Date.now());
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    }
    const [added, status] = target.received.map((r) => JSON.parse(r.body) as WebhookEvent);
    expect(added).toMatchObject({ account_id: expect.any(Number), id: expect.any(String), zendesk_event_version: '2022-11-06', time: expect.any(String) });
    expect(added.detail).toMatchObject({ id: '1', status: sim.ticket(1).status.toUpperCase(), via: { channel: sim.ticket(1).via.channel } });
    expect(added.event).toMatchObject({ comment: { id: comment.id } });
    expect(status.event).toEqual({ previous: expect.any(String), current: 'SOLVED' });
    expect(new Set(target.received.map((r) => (JSON.parse(r.body) as WebhookEvent).id)).size).toBe(7);
    expect(sim.webhooks.deliveries.every((d) => d.status === 200)).toBe(true);
  });

  it('sends only what a webhook subscribes to, nothing to inactive ones, and a trigger-style body to conditional ones', async () => {
    const sim = await simulator({ tickets: 3 });
    const [comments, inactive, conditional] = [await receiver(), await receiver(), await receiver()];
    await createWebhook(sim, comments.url, ['zen:event-type:ticket.comment_added']);
    await createWebhook(sim, inactive.url, EVENTS, 'inactive');
    await createWebhook(sim, conditional.url, ['conditional_ticket_events']);
    sim.updateTicket(1, { status: 'pending' });
    sim.appendEvents(2, 1);
    await sim.webhooks.settled();
    expect(comments.received.map((r) => (JSON.parse(r.body) as WebhookEvent).subject)).toEqual(['zen:ticket:2']);
    expect(inactive.received).toEqual([]);
    expect(conditional.received.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { ticket_id: '1', event: 'zen:event-type:ticket.status_changed' },
      { ticket_id: '2', event: 'zen:event-type:ticket.comment_added' },
    ]);
  });

  it('on request sends badly signed, unsigned, stale and replayed webhooks', async () => {
    const sim = await simulator({ tickets: 3 });
    const target = await receiver();
    const { secret } = await createWebhook(sim, target.url, EVENTS);
    for (const fault of ['bad-signature', 'unsigned', 'stale', null] as const) {
      sim.webhooks.setFault(fault);
      sim.appendEvents(1, 1);
    }
    await sim.webhooks.settled();
    sim.webhooks.replay();
    await sim.webhooks.settled();
    const [bad, unsigned, stale, good, replayed] = target.received;
    expect(bad.headers['x-zendesk-webhook-signature']).toEqual(expect.any(String));
    expect(bad.headers['x-zendesk-webhook-signature']).not.toBe(expectedSignature(secret, bad));
    expect(unsigned.headers['x-zendesk-webhook-signature']).toBeUndefined();
    expect(stale.headers['x-zendesk-webhook-signature']).toBe(expectedSignature(secret, stale));
    expect(Date.now() - Date.parse(String(stale.headers['x-zendesk-webhook-signature-timestamp']))).toBeGreaterThan(5 * 60_000);
    expect(good.headers['x-zendesk-webhook-signature']).toBe(expectedSignature(secret, good));
    expect(replayed.body).toBe(good.body);
    expect(replayed.headers['x-zendesk-webhook-signature']).toBe(good.headers['x-zendesk-webhook-signature']);
    expect(sim.webhooks.deliveries.map((d) => d.fault)).toEqual(['bad-signature', 'unsigned', 'stale', null, 'replay']);
  });

  it('--webhook-url registers a webhook for every ticket event from the start; a new ticket is announced', async () => {
    const target = await receiver();
    const sim = await simulator({ tickets: 2, webhookUrl: target.url, webhookSecret: 'rotate-me-please' });
    const hooks = (await (await get(sim, '/api/v2/webhooks')).json()) as { webhooks: { id: string; endpoint: string; subscriptions: string[] }[] };
    expect(hooks.webhooks).toEqual([expect.objectContaining({ endpoint: target.url, subscriptions: expect.arrayContaining(EVENTS) })]);
    const id = sim.createTicket();
    expect(id).toBe(3);
    await sim.webhooks.settled();
    const [created] = target.received;
    expect(JSON.parse(created.body)).toMatchObject({ type: 'zen:event-type:ticket.created', subject: 'zen:ticket:3', detail: { id: '3' } });
    expect(created.headers['x-zendesk-webhook-signature']).toBe(expectedSignature('rotate-me-please', created));
    expect((await get(sim, '/api/v2/tickets/3/conversation_log.json')).status).toBe(200);
    await expect(simulator({ webhookUrl: 'ftp://nope' })).rejects.toThrow(/webhookUrl must be an http\(s\) URL/);
  });

  it('records a delivery that could not be made', async () => {
    const sim = await simulator({ tickets: 1 });
    await createWebhook(sim, 'http://127.0.0.1:1/nowhere', EVENTS);
    sim.appendEvents(1, 1);
    await sim.webhooks.settled();
    expect(sim.webhooks.deliveries).toEqual([expect.objectContaining({ status: 0, error: expect.any(String), ticketId: 1 })]);
  });
});
