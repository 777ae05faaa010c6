// The pauses of a service worker while Postgres stores nothing more, and what it says of them.
// Tried against a full disk: a ticket without events to write synced during the outage, and the
// gate said "Postgres stores again" while every other ticket was still refused.
import pino from 'pino';
import { expect, it } from 'vitest';
import { DatabaseCannotStore } from '../../src/errors/convlog-errors.ts';
import { createPostgresGate } from '../../src/queue/postgres-gate.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('pauses longer at each refusal, says the outage once, and its end only when a run wrote events while open', async () => {
  const lines: { level: number; msg: string }[] = [];
  const gate = createPostgresGate(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }), { first: 100, max: 200 });
  const full = new DatabaseCannotStore('Postgres has no disk space left (could not extend file)');
  expect(gate.closed).toBe(false);

  gate.close(full);
  expect(gate.closed).toBe(true);
  expect(gate.msUntilRetry()).toBeGreaterThan(50);
  expect(gate.reason()).toBe('waiting for Postgres to store again: Postgres has no disk space left (could not extend file)');
  // A refusal during the pause changes nothing; neither does a run that ended meanwhile.
  gate.close(full);
  gate.stored(40);
  await pause(120);
  expect(gate.closed).toBe(false);
  // An unchanged ticket wrote nothing: no proof.
  gate.stored(0);
  gate.close(full);
  expect(gate.msUntilRetry()).toBeGreaterThan(150); // the pause doubled
  await pause(220);
  gate.stored(40);
  expect(lines.map((l) => l.msg)).toEqual([
    expect.stringMatching(/^Postgres has no disk space left \(could not extend file\); the worker takes no ticket for 0 s, then tries again/),
    'Postgres stores again; taking tickets',
  ]);
  // The next outage starts from the first pause again, and is said again.
  gate.close(full);
  expect(gate.msUntilRetry()).toBeLessThanOrEqual(100);
  expect(lines).toHaveLength(3);
});
