// A signed delivery whose event id holds U+0000, which Postgres cannot hold as text: its replay
// look-up failed (22021) on every retry, so its ticket was never queued. Such an id now goes by
// its hash, as an over-long one does (eventKey, src/serve/webhook-server.ts).
import { expect, it } from 'vitest';
import { queuedState, sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

it('an event id holding U+0000 still queues its ticket', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await sendWebhook(f.server, ticketEvent(31, 'status_changed', 'evt-\u0000-31'))).status);
  console.log(f.logLines().filter((l) => (l.level as number) >= 40).map((l) => `${l.msg} ${l.err ?? ''}`));
  expect(statuses).toEqual([200, 200, 200]);
  expect((await queuedState(f.database)).tickets).toEqual([31]);
});

it('two event ids that differ only in a lone surrogate are two deliveries, not a replay', async () => {
  const first = await sendWebhook(f.server, ticketEvent(32, 'status_changed', 'evt-\uD800'));
  const second = await sendWebhook(f.server, ticketEvent(33, 'status_changed', 'evt-\uDC00'));
  expect([first.status, second.status]).toEqual([200, 200]);
  expect((await queuedState(f.database)).tickets).toEqual(expect.arrayContaining([32, 33]));
});
