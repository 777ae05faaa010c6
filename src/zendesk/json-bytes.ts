// Parses a response body straight from its bytes, giving what JSON.parse of its UTF-8 text gives.
//
// Why not decode and parse: a page of 100 events is about 84 KB, and real comments hold
// characters beyond Latin-1 (an en dash, an emoji), so its text becomes a two-byte string of
// about 170 KB. V8 puts each such string in a memory mapping of its own, which the process then
// faults in page by page and unmaps at the next collection; decoding and parsing took about three
// times as long as what this module does (460 against 155 ms for the 500 pages of a
// 50,000-event ticket). Here the bytes are read as Latin-1 (one byte, one character: a one-byte
// string of 84 KB on V8's ordinary heap), parsed, and only the strings that hold bytes of a
// multi-byte character are decoded again as UTF-8. In a JSON text those bytes occur only inside
// strings, and each string's bytes are whole characters, so that gives the same strings.
//
// One case would not: an escape `\uXXXX` of a character at or beyond U+0080, which parsing the
// Latin-1 text turns into a character a re-decoded string could not tell from a byte. A body with
// such an escape (or with a byte-order mark) is decoded and parsed the ordinary way.
import { isAscii } from 'node:buffer';

const UTF8 = new TextDecoder();
/** An escape of a character at or beyond U+0080 (or a `\\u` in the text: a false alarm, only slower). */
const WIDE_ESCAPE = /\\u(?!00[0-7])/i;
const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf];
/** A character that stands for a byte of a multi-byte UTF-8 character. */
const HIGH_BYTE = /[\u0080-\u00ff]/;

/** JSON.parse of the body's UTF-8 text (a byte-order mark skipped), as values. */
export function parseJsonBytes(bytes: Buffer): unknown {
  const latin1 = bytes.toString('latin1');
  if (isAscii(bytes)) return JSON.parse(latin1);
  if (BYTE_ORDER_MARK.every((byte, i) => bytes[i] === byte) || WIDE_ESCAPE.test(latin1)) return JSON.parse(UTF8.decode(bytes));
  let parsed: unknown;
  try {
    parsed = JSON.parse(latin1);
  } catch {
    // The error of the text as a person would read it (its positions count characters, not bytes).
    return JSON.parse(UTF8.decode(bytes));
  }
  return redecoded(parsed);
}

/** The body as text, for messages: decoded the way fetch's `text()` does. */
export function decodeBody(bytes: Uint8Array): string {
  return UTF8.decode(bytes);
}

function redecoded(value: unknown): unknown {
  if (typeof value === 'string') return HIGH_BYTE.test(value) ? utf8(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = redecoded(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  let renamed = false;
  for (const key of Object.keys(record)) {
    record[key] = redecoded(record[key]);
    if (HIGH_BYTE.test(key)) renamed = true;
  }
  // Non-ASCII keys (custom fields, say) are rare: the object is rebuilt with its keys decoded, in
  // order (fromEntries, like JSON.parse, makes "__proto__" an own property, not the prototype).
  return renamed ? Object.fromEntries(Object.entries(record).map(([key, v]) => [HIGH_BYTE.test(key) ? utf8(key) : key, v])) : record;
}

const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');
