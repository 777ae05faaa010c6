// Readers for fields the client passes through unchecked. Each returns null instead of a
// value of the wrong type, so a surprise in Zendesk's payload becomes an empty column and
// never a thrown error or a failed INSERT (a fraction in an integer column, a date Postgres
// cannot parse).

import { storableInstant } from '../zendesk/ticket-schemas.ts';

export type Json = Record<string, unknown>;

const INT4_MAX = 2_147_483_647;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Json | null {
  return isRecord(value) ? value : null;
}

export function string(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A string with something other than whitespace in it. */
export function nonBlank(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

export function boolean(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** An integer that fits a Postgres bigint without losing precision in JavaScript. */
export function bigintNumber(value: unknown): number | null {
  return Number.isSafeInteger(value) ? (value as number) : null;
}

/** An integer that fits a Postgres integer column. */
export function int4(value: unknown): number | null {
  return Number.isInteger(value) && Math.abs(value as number) <= INT4_MAX ? (value as number) : null;
}

/**
 * An ISO 8601 date or time Postgres can store (storableInstant); anything else is null. A time
 * without a zone is read as UTC, as Zendesk writes every time, not in the worker's own zone (which
 * would store it hours apart on two machines); loose forms JavaScript reads ("1", "May 1") are not
 * dates.
 */
export function date(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return null;
  return storableInstant(/T[\d:.]+$/i.test(value) ? `${value}Z` : value) ?? null;
}
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
