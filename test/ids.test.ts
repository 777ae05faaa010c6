// uniqueAscending and hasId stand in for a Set where the ids may be millions (dequeue, purge and
// enqueue of a --range): they must give what the Set would.
import { expect, it } from 'vitest';
import { hasId, uniqueAscending } from '../src/ids.ts';

it('gives the ids ascending, each once, whatever order and repeats they came in', () => {
  expect(uniqueAscending([])).toEqual([]);
  expect(uniqueAscending([3, 1, 2, 3, 1, 10, 9])).toEqual([1, 2, 3, 9, 10]);
  // Compared as numbers, not as text (10 after 9), and ids past 2^32 kept exactly.
  expect(uniqueAscending([2 ** 53 - 1, 10, 9, 2 ** 40])).toEqual([9, 10, 2 ** 40, 2 ** 53 - 1]);
  const ascending = [4, 5, 6];
  const copy = uniqueAscending(ascending);
  expect(copy).toEqual([4, 5, 6]);
  expect(copy).not.toBe(ascending);
  // An ascending run with one repeat at its end is not taken as already unique.
  expect(uniqueAscending([1, 2, 2])).toEqual([1, 2]);
});

it('finds exactly the ids a Set of them holds', () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => (i * 7919) % 5_003 + 1);
  const set = new Set(ids);
  const ascending = uniqueAscending(ids);
  for (let id = -1; id <= 5_010; id += 1) expect(hasId(ascending, id), String(id)).toBe(set.has(id));
  expect(hasId([], 1)).toBe(false);
});
