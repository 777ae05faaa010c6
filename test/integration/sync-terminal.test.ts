// `convlog sync` as a person sees it in a terminal, against the simulator and a real database:
// main of src/cli.ts with a terminal for stderr, so the bar and the pretty log are the real ones.
// Each ticket used to be six lines above the bar (a line per field): fifty tickets scrolled three
// hundred. Now each record is one line, and a refused or deleted ticket still says so.
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { cleanEnv } from '../helpers/cli.ts';
import { fakeTerminal } from '../helpers/fake-terminal.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 5, seed: 1, forbidden: [2], deleted: [4] }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
});

it('shows the bar and one line per log record above it, the refused and the deleted ticket among them', { timeout: 120_000 }, async () => {
  const { stream, screen } = fakeTerminal();
  let stdout = '';
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      stdout += chunk.toString();
      done();
    },
  });
  const io = { stdout: out, stderr: stream, stdin: Readable.from(['']), env: cleanEnv({ ...fixture.env, LOG_LEVEL: 'info' }), signal: new AbortController().signal };
  const code = await main(['sync', '--range', '1..5'], io);
  expect(code, screen().join('\n')).toBe(0);
  expect(stdout).toMatch(/^synced 3, not_found 1, forbidden 1, failed 0 \|/);

  const lines = screen().filter((line) => line !== '');
  const bars = lines.filter((line) => /^sync [\u2588\u2591]+ /.test(line));
  expect(bars, lines.join('\n')).toEqual([expect.stringMatching(/ 5\/5 tickets \| /)]);
  const logged = lines.filter((line) => !bars.includes(line));
  // Five tickets are each named (src/queue/sync-log.ts), besides what else sync logs.
  expect(logged.length, lines.join('\n')).toBeGreaterThanOrEqual(5);
  for (const line of logged) expect(line, lines.join('\n')).toMatch(/^\[\d\d:\d\d:\d\d\] (INFO|WARN|ERROR): \S/);
  expect(logged).toContainEqual(expect.stringMatching(/^\S+ INFO: ticket forbidden ticketId=2 status=forbidden events=0 requests=1 ms=\d+$/));
  expect(logged).toContainEqual(expect.stringMatching(/^\S+ INFO: ticket not_found ticketId=4 status=not_found /));
  expect(logged).toContainEqual(expect.stringMatching(/^\S+ INFO: ticket synced ticketId=3 status=synced events=100 requests=\d+ ms=\d+$/));
});
