// Postgres `text` and `jsonb` reject U+0000, and jsonb rejects unpaired UTF-16 surrogates
// (Node's JSON.stringify writes them as `\udXXX` escapes, which Postgres refuses). Zendesk
// passes through whatever a customer's mail client or messaging SDK produced, so one bad
// character would otherwise fail a whole page, and that ticket, forever.
//
// Almost every event is clean, so the check walks it without allocating and only an event
// that needs repair is copied: copying every page doubled what the garbage collector had to
// move while pages wait to be stored.

/** Removes U+0000 and replaces unpaired surrogates with U+FFFD. */
export function sanitizeString(value: string): string {
  // Both checks are native and allocation-free: almost every string takes this exit.
  if (isCleanString(value)) return value;
  // NUL goes first: dropping it can join a high and a low surrogate into a valid pair.
  return value.replaceAll('\u0000', '').toWellFormed();
}

/**
 * `value` with every string (object keys included) passed through sanitizeString: the same
 * value when nothing needed repair, else a deep copy. Arrays and plain objects are copied;
 * numbers, booleans and null are kept; other objects (Date, Map, class instances) are returned
 * as they are, since JSON from Zendesk never holds them. Never mutates its input.
 */
export function sanitizeForPostgres<T>(value: T): T {
  return isClean(value) ? value : (copy(value) as T);
}

function isCleanString(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000');
}

function isClean(value: unknown): boolean {
  if (typeof value === 'string') return isCleanString(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isClean(value[i])) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return true;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!isCleanString(key) || !isClean((value as Record<string, unknown>)[key])) return false;
  }
  return true;
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
