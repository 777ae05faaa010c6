// The one-line log a terminal shows (src/log.ts) escaped C0 and C1 controls only, while every other
// message convlog writes escapes, with printable (src/ids.ts), all a terminal may act on: line and
// paragraph separators, bidi marks, overrides and isolates, and lone surrogates. A Zendesk error
// body quoted in `err`, or a message, reached the terminal with them raw: an override reverses what
// follows it ("invoice\u202etxt.exe" shows as "invoiceexe.txt"), a separator may break the line.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { printable } from '../../src/text.ts';
import { createLogger } from '../../src/log.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

it('escapes in a message, a field and a key what printable escapes, and keeps the record on one line', async () => {
  let written = '';
  const terminal = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written += chunk.toString();
        done();
      },
    }),
    { isTTY: true },
  );
  const log = createLogger('info', { pretty: true, destination: terminal });
  const name = 'invoice\u202etxt.exe\u2028next\u2066\u200f';
  log.warn({ ticketId: 7, err: `Zendesk answered 500: ${name}`, file: name, ['k\u2029ey']: 1 }, `ticket will be retried ${name} \ud800.`);
  await settle();

  const escaped = printable(name);
  expect(escaped).toBe('invoice\\u202etxt.exe\\u2028next\\u2066\\u200f');
  expect(written.replace(/^\[[\d:]+\] WARN: /, '')).toBe(
    `ticket will be retried ${escaped} \\ud800. ticketId=7 err="Zendesk answered 500: ${escaped}" file="${escaped}" k\\u2029ey=1\n`,
  );
  expect(written).not.toMatch(/[\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/);
});
