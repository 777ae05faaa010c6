// `convlog status` says whether anything is syncing: which processes work the queue (pg-boss's
// registry of its instances), how many tickets live workers hold, and when a conversation-log
// request last went; and how many comments webhooks left pending. It said neither: a queue of
// "0 queued, 2 running" read the same with a worker up and with none.
import os from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addPendingComments, type PendingComment } from '../../src/db/pending-comments.ts';
import { runCli, startConvlog } from '../helpers/cli.ts';
import { LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

// 25 pages a ticket, 300 ms a request: each ticket takes its worker several seconds, so both are
// still being synced when status looks.
beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: LONG_TICKET_EVENTS, 2: LONG_TICKET_EVENTS }, latency: 300 }, { queue: [1, 2] });
});
afterAll(async () => {
  await fixture?.close();
});

const line = (stdout: string, head: string) => stdout.split('\n').find((l) => l.startsWith(`${head} `));
const status = async () => {
  const [text, json] = await Promise.all([runCli(['status'], { env: fixture.env, timeoutMs: 30_000 }), runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 })]);
  expect(text.code, text.stderr).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) };
};

it('names the worker that runs, the tickets it syncs and its last request; once it has stopped, that none runs', { timeout: 120_000 }, async () => {
  const before = await status();
  expect(line(before.text, 'workers')).toBe(
    'workers    no process is working the queue (no "convlog work" or "convlog sync" running); no conversation-log request yet',
  );
  expect(before.json.workers).toEqual({ processes: [], endedWithoutStopping: [], ticketsBeingSynced: 0, lastConversationLogRequestAt: null });

  const worker = startConvlog(['work'], { env: fixture.env });
  try {
    await waitForPages(fixture, 1, 2);
    await waitForPages(fixture, 2, 2);
    const during = await status();
    expect(line(during.text, 'workers')).toMatch(
      new RegExp(`^workers {4}1 process working the queue \\(pid ${worker.pid} on ${os.hostname()}\\), 2 tickets being synced; last conversation-log request \\d+ s ago$`),
    );
    expect(during.json.workers).toMatchObject({ processes: [{ pid: worker.pid, host: os.hostname() }], ticketsBeingSynced: 2, lastConversationLogRequestAt: expect.any(String) });
  } finally {
    worker.kill('SIGTERM');
  }
  expect(await worker.exited, worker.stderr()).toMatchObject({ code: 0 });

  const after = await status();
  expect(line(after.text, 'workers')).toMatch(
    /^workers {4}no process is working the queue \(no "convlog work" or "convlog sync" running\); last conversation-log request \d+ s ago$/,
  );
  expect(after.json.workers).toMatchObject({ processes: [], ticketsBeingSynced: 0 });
});

it('counts the comments webhooks left pending until their ticket syncs', { timeout: 60_000 }, async () => {
  const comment = (ticketId: number, commentId: string): PendingComment => ({
    ticketId,
    commentId,
    body: 'Thanks!',
    isPublic: true,
    authorZendeskId: 7,
    authorName: 'Ann',
    authorIsStaff: false,
    writtenAt: new Date().toISOString(),
    webhookEventId: null,
    raw: {},
  });
  await addPendingComments(fixture.database.db, [comment(1, '901'), comment(1, '902'), comment(2, '903')]);
  const { text, json } = await status();
  expect(line(text, 'pending')).toBe(
    "pending    3 comments from webhooks waiting for their ticket's next sync (serve stored them as they came; the sync stores them as events and clears them)",
  );
  expect(json.pendingComments).toEqual({ count: 3, estimated: false });
});
