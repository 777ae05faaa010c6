// How a line of output or an error message writes what it shows: what a person typed or a file
// held (escaped, cut short), counts, processes, folders, and the name meant by a mistyped one.
// Every layer may import it: it imports nothing of convlog's.
import path from 'node:path';

// What a terminal may act on rather than show: C0 and C1 control characters (ESC starts colour
// and cursor sequences), DEL, line and paragraph separators, the marks and overrides that reorder
// text, and halves of a surrogate pair on their own.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The first `max` characters of `text` (a surrogate pair is not split), and whether any were left out. */
function shorten(text: string, max: number): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  const head = text.slice(0, max);
  return { text: /[\ud800-\udbff]$/.test(head) ? head.slice(0, -1) : head, cut: true };
}

/**
 * `text` safe to write to a terminal: control characters escaped the way JSON writes them
 * (`\n`, `\u001b`), and cut after `max` characters with "…".
 */
export function printable(text: string, max = Infinity): string {
  const { text: head, cut } = shorten(text, max);
  return `${escapeUnprintable(head)}${cut ? '…' : ''}`;
}

/**
 * A value from the command line, a file or a query, quoted for an error message: in double
 * quotes, with quotes, backslashes and control characters escaped as JSON.stringify does, and
 * its first `max` characters only, then "…" (a 1 MB token is not echoed whole).
 */
export function quoted(value: unknown, max = 40): string {
  const { text: head, cut } = shorten(String(value), max);
  return `"${escapeUnprintable(head.replace(/["\\]/g, '\\$&'))}${cut ? '…' : ''}"`;
}

/** A count as every line of output writes it: 10,792, not 10792. */
export function grouped(count: number): string {
  return count.toLocaleString('en');
}

/**
 * A count and its noun for a line of output, "1 ticket", "2 tickets"; `format` writes the number
 * (`toLocaleString`, "about 1.2 million"). Every noun convlog counts takes an "s".
 */
export function counted(count: number, noun: string, format: (count: number) => string = String): string {
  return `${format(count)} ${count === 1 ? noun : `${noun}s`}`;
}

/**
 * A process as a line of output names it, "pid 11 on a", and, given `instance` (another process
 * named beside it has the same words: containers sharing a hostname each run theirs as pid 1),
 * "pid 1 on a as instance 3f2a9c1e": the start of `instance`, the key that process alone has.
 */
export function processNamed(words: string, instance?: string | null): string {
  return instance ? `${words} as instance ${instance.slice(0, 8)}` : words;
}

/**
 * How to name each of `all`: "pid 11 on a" (`words`), and, when another has the same words, with
 * its own id (processNamed: a worker's registry entry, a budget taker's key).
 */
export function namedApart<T extends { id: string }>(all: readonly T[], words: (p: T) => string): (p: T) => string {
  return (p) => processNamed(words(p), all.some((other) => other.id !== p.id && words(other) === words(p)) ? p.id : undefined);
}

/**
 * A folder as a message names it for a shell in `from`: relative when it is below `from` (a
 * command line to copy stays short), else whole.
 */
export function shownFolder(folder: string, from: string): string {
  const relative = path.relative(from, folder);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

/**
 * The name nearest `given` within `maxDistance` edits, for "did you mean": the first within reach
 * could be a worse guess (`--ful` is one edit from --full, two from --file). Of two as near, the
 * one listed first.
 */
export function nearest(names: readonly string[], given: string, maxDistance: number): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(name, given);
    if (distance <= maxDistance && distance < (best?.distance ?? Infinity)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance, for "did you mean" on a mistyped command, option or variable. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}
