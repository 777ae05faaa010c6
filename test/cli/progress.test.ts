// The progress bar's ETA: never "NFs", and not rising near the end while the last big tickets
// hold the count still.
import { describe, expect, it } from 'vitest';
import { etaEstimator } from '../../src/commands/progress.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('etaEstimator', () => {
  it('says … until a ticket is done, then the average pace since the start', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    expect(eta(0, 100)).toBe('…');
    time.advance(10_000);
    expect(eta(0, 100)).toBe('…');
    expect(eta(10, 100)).toBe('1m30s'); // 1 s a ticket, 90 left
    time.advance(10_000);
    expect(eta(20, 100)).toBe('1m20s');
    expect(eta(100, 100)).toBe('0s');
  });

  it('does not rise while the count stands still near the end, as long as its promise has time left', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    time.advance(90_000);
    expect(eta(90, 100)).toBe('10s');
    const shown: number[] = [];
    for (let i = 0; i < 9; i++) {
      time.advance(1_000);
      shown.push(Number(eta(90, 100).replace('s', '')));
    }
    // cli-progress's estimate, and a plain average, would grow here (elapsed rises, count does not).
    expect(shown).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    for (const text of shown.map(String)) expect(text).not.toMatch(/NF|NaN|Infinity/);
  });

  it('moves up only once the run is slower than it promised, and formats hours', () => {
    const time = clock();
    const eta = etaEstimator(time.now);
    time.advance(1_000);
    expect(eta(1, 10_000)).toBe('2h46m'); // 9,999 s
    time.advance(20_000);
    expect(eta(1, 3)).toBe('42s'); // promised 9,979 s: the new, lower estimate wins
    time.advance(60_000);
    expect(eta(1, 3)).toBe('2m42s'); // the promise ran out: the honest estimate, higher
  });
});
