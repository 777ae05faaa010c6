// What a worker says at info per ticket: a line each while few go by, a summary per window when many do.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import pino from 'pino';
import { createSyncLog, type SyncedTicket } from '../../src/queue/sync-log.ts';

let lines: Record<string, unknown>[];
const log = () => pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) });
const ticket = (ticketId: number, status: SyncedTicket['status'] = 'synced'): SyncedTicket => ({ ticketId, status, events: 10, requests: 2, ms: 30 });

beforeEach(() => {
  lines = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it('names each ticket while few are synced in a window', () => {
  const syncLog = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 3 });
  syncLog.synced(ticket(1));
  syncLog.synced({ ...ticket(2, 'not_found'), events: 0 });
  vi.advanceTimersByTime(10_000);
  syncLog.synced(ticket(3));
  syncLog.close();
  expect(lines).toEqual([
    { level: 30, ticketId: 1, status: 'synced', events: 10, requests: 2, ms: 30, msg: 'ticket synced' },
    { level: 30, ticketId: 2, status: 'not_found', events: 0, requests: 2, ms: 30, msg: 'ticket not_found' },
    { level: 30, ticketId: 3, status: 'synced', events: 10, requests: 2, ms: 30, msg: 'ticket synced' },
  ]);
});

it('sums up the tickets past the per-ticket lines at the end of each window, and a new window names tickets again', () => {
  const syncLog = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 2 });
  for (let id = 1; id <= 50; id++) syncLog.synced(ticket(id));
  expect(lines).toHaveLength(2);
  vi.advanceTimersByTime(10_000);
  expect(lines[2]).toEqual({
    level: 30,
    tickets: 48,
    synced: 48,
    not_found: 0,
    forbidden: 0,
    events: 480,
    requests: 96,
    seconds: 10,
    msg: '48 more tickets finished in the last 10 s: synced 48; 480 events, 96 requests',
  });
  syncLog.synced(ticket(51));
  expect(lines[3]).toMatchObject({ ticketId: 51, msg: 'ticket synced' });
  // Nothing left unsaid: close adds no summary.
  syncLog.close();
  expect(lines).toHaveLength(4);
});

it('says what a window held when the worker stops before it ends', () => {
  const syncLog = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 1 });
  syncLog.synced(ticket(1));
  vi.advanceTimersByTime(4_000);
  syncLog.synced({ ...ticket(2), events: 1, requests: 1 });
  syncLog.close();
  // One of each is singular.
  expect(lines.map((l) => l.msg)).toEqual(['ticket synced', '1 more ticket finished in the last 4 s: synced 1; 1 event, 1 request']);
});

it('counts the summed-up tickets by how each ended: deleted ids are not_found, not synced', () => {
  const syncLog = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 1 });
  syncLog.synced(ticket(1));
  syncLog.synced(ticket(2));
  for (let id = 3; id <= 90; id++) syncLog.synced({ ...ticket(id, 'not_found'), events: 0, requests: 1 });
  syncLog.synced({ ...ticket(91, 'forbidden'), events: 0, requests: 1 });
  vi.advanceTimersByTime(10_000);
  expect(lines[1]).toMatchObject({
    tickets: 90,
    synced: 1,
    not_found: 88,
    forbidden: 1,
    msg: '90 more tickets finished in the last 10 s: synced 1, not_found 88, forbidden 1; 10 events, 91 requests',
  });
  syncLog.close();
});

it('says once that the API user is likely the cause when the first tickets are all refused (403), and not when one synced first', () => {
  const refused = (ticketId: number) => ({ ...ticket(ticketId, 'forbidden'), events: 0 });
  const syncLog = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 100 });
  for (let id = 1; id <= 12; id++) syncLog.synced(refused(id));
  syncLog.close();
  const hints = lines.filter((line) => line.level === 40);
  expect(hints).toEqual([{ level: 40, tickets: 5, msg: expect.stringMatching(/^the first 5 tickets were all refused \(403\) and none synced: the API user may not read/) }]);

  lines = [];
  const another = createSyncLog(log(), { windowMs: 10_000, perTicketLines: 100 });
  another.synced(ticket(1));
  for (let id = 2; id <= 12; id++) another.synced(refused(id));
  another.close();
  expect(lines.filter((line) => line.level === 40)).toEqual([]);
});
