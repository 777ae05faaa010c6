// Zendesk ids (tickets, users, attachments) as JavaScript numbers: positive integers that a
// Postgres bigint holds and a double keeps exactly. One reading for every place that takes an id.
/** Larger ids would be rounded in JavaScript, so they are refused rather than stored wrong. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

export type IdReading = { id: number } | { problem: 'not a positive integer' | `too large (ids are at most ${number})` };

/** A number, or a string of digits (leading zeros read as the same id). */
export function readId(value: unknown): IdReading {
  const digits = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : '') : typeof value === 'string' ? value : '';
  if (!/^\d+$/.test(digits) || /^0+$/.test(digits)) return { problem: 'not a positive integer' };
  const id = Number(digits);
  return Number.isSafeInteger(id) ? { id } : { problem: `too large (ids are at most ${MAX_ID})` };
}

/** The id, or null for anything readId refuses. */
export function positiveId(value: unknown): number | null {
  const reading = readId(value);
  return 'id' in reading ? reading.id : null;
}

/**
 * The ids ascending, each once. A list of millions (`--range 1..10000000`) is sorted as doubles
 * in a typed array: a Set of ten million numbers took 9 s and half a gigabyte, then as long again
 * to spread back into an array; a range, already ascending, is only copied.
 */
export function uniqueAscending(ids: readonly number[]): number[] {
  let ascending = true;
  for (let i = 1; i < ids.length && ascending; i += 1) ascending = ids[i - 1] < ids[i];
  if (ascending) return ids.slice();
  const sorted = Float64Array.from(ids).sort();
  const unique: number[] = [];
  for (let i = 0; i < sorted.length; i += 1) if (i === 0 || sorted[i] !== sorted[i - 1]) unique.push(sorted[i]);
  return unique;
}

/** Whether `id` is among `ascending` (as uniqueAscending gives them), by halving. */
export function hasId(ascending: readonly number[], id: number): boolean {
  let low = 0;
  let high = ascending.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (ascending[middle] === id) return true;
    if (ascending[middle] < id) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
