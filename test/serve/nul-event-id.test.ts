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
