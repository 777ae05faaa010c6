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
