// A terminal of our own for tests of what a person watching sees: the progress bar, and the log
// lines written above it.
import { Writable } from 'node:stream';

/**
 * A terminal of our own: a stream with isTTY that keeps what a screen would show, for the
 * sequences the bar and the logs write (cursor to a column, clear line, save and restore).
 */
export function fakeTerminal(columns = 120) {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = () => (rows[row] ??= []);
  const apply = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\x1b') {
        const rest = text.slice(i + 1);
        const csi = /^\[(\??)([\d;]*)([A-Za-z])/.exec(rest);
        if (csi) {
          const n = Number(csi[2] || 0);
          if (!csi[1]) {
            if (csi[3] === 'G') col = Math.max(0, n - 1);
            else if (csi[3] === 'K' && n === 0) line().length = Math.min(line().length, col);
            else if (csi[3] === 'K' && n === 2) rows[row] = [];
            else if (csi[3] === 'A') row = Math.max(0, row - (n || 1));
            else if (csi[3] === 'B') row += n || 1;
          }
          i += csi[0].length;
        } else if (rest[0] === '7') {
          saved = { row, col };
          i += 1;
        } else if (rest[0] === '8') {
          ({ row, col } = saved);
          i += 1;
        }
      } else if (ch === '\r') {
        col = 0;
      } else if (ch === '\n') {
        // A terminal's output translates \n to \r\n.
        row += 1;
        col = 0;
      } else {
        const cells = line();
        while (cells.length < col) cells.push(' ');
        cells[col++] = ch;
      }
    }
  };
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        apply(chunk.toString());
        done();
      },
    }),
    { isTTY: true, columns },
  );
  return { stream, screen: () => Array.from(rows, (cells) => (cells ?? []).join('').trimEnd()) };
}
