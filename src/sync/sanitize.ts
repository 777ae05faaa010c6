// Postgres `text` and `jsonb` reject U+0000, and jsonb rejects unpaired UTF-16 surrogates
// (Node's JSON.stringify writes them as `\udXXX` escapes, which Postgres refuses). Zendesk
// passes through whatever a customer's mail client or messaging SDK produced, so one bad
// character would otherwise fail a whole page, and that ticket, forever.
//
// The copy made here is also the one deep copy mapPage takes of each event: every column is
// read from it, so every column is clean without a second pass.

/** Removes U+0000 and replaces unpaired surrogates with U+FFFD. */
export function sanitizeString(value: string): string {
  // Both checks are native and allocation-free: almost every string takes this exit.
  if (value.isWellFormed() && !value.includes('\u0000')) return value;
  // NUL goes first: dropping it can join a high and a low surrogate into a valid pair.
  return value.replaceAll('\u0000', '').toWellFormed();
}

/**
 * A deep copy of `value` with every string (object keys included) passed through
 * sanitizeString. Arrays and plain objects are copied; numbers, booleans and null are kept;
 * other objects (Date, Map, class instances) are returned as they are, since JSON from
 * Zendesk never holds them. Never mutates its input.
 */
export function sanitizeForPostgres<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i]);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    setOwn(out, sanitizeString(key), copy((value as Record<string, unknown>)[key]));
  }
  return out;
}

// JSON.parse makes "__proto__" an ordinary own key; a plain assignment would instead
// replace the copy's prototype and lose the field.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
