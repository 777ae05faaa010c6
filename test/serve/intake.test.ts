// A burst of deliveries submitted at once: each key is accepted once, each ticket gets one job,
// and a redaction's full re-read is not displaced by a plain sync of the same ticket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntake } from '../../src/serve/intake.ts';
import { replayStore } from '../../src/serve/replay-store.ts';
import { createServeFixture, queuedState, type ServeFixture } from './serve-fixture.ts';

let f: ServeFixture;
beforeAll(async () => {
  f = await createServeFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('webhook intake', () => {
  it('accepts each key once and queues each ticket once, full re-reads first', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool));
    const deliveries = [
      ...Array.from({ length: 200 }, (_, i) => ({ key: `e${i}`, ticketId: 1 + (i % 20), full: false })),
      { key: 'redacted-7', ticketId: 7, full: true },
      // Replays of keys in the same burst.
      ...Array.from({ length: 50 }, (_, i) => ({ key: `e${i}`, ticketId: 1 + (i % 20), full: false })),
    ];
    const outcomes = await Promise.all(deliveries.map((d) => intake.submit(d)));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(201);
    expect(outcomes.filter((o) => o === 'replay')).toHaveLength(50);
    const { jobs, tickets } = await queuedState(f.database);
    expect(tickets).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jobs.map((j) => j.ticketId).sort((a, b) => a - b)).toEqual(tickets);
    expect(jobs.find((j) => j.ticketId === 7)).toEqual({ ticketId: 7, full: true });
    const { rows } = await f.database.pool.query<{ n: number }>('select count(*)::int as n from convlog.webhook_deliveries');
    expect(rows[0].n).toBe(201);
  });

  it('records nothing when Postgres fails, so Zendesk\'s retry is accepted later', async () => {
    const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool));
    await f.database.pool.query('alter table zendesk.ticket_sync rename to ticket_sync_away');
    try {
      await expect(intake.submit({ key: 'retry-me', ticketId: 99, full: false })).rejects.toThrow();
    } finally {
      await f.database.pool.query('alter table zendesk.ticket_sync_away rename to ticket_sync');
    }
    const { rows } = await f.database.pool.query(`select 1 from convlog.webhook_deliveries where delivery_key = 'retry-me'`);
    expect(rows).toEqual([]);
    expect(await intake.submit({ key: 'retry-me', ticketId: 99, full: false })).toBe('queued');
  });
});
