// Parsing of command-line values shared by several commands; each throws one UsageError that
// names the flag and what it accepts.
import { MAX_CONCURRENCY } from '../config.ts';
import { UsageError } from '../errors/convlog-errors.ts';
import { quoted } from '../text.ts';
import { MIN_START_AGE_SECONDS } from '../zendesk/incremental-export.ts';

/** `--flag N`: an integer from `min` (1 unless given) to max, or `fallback` when the flag is absent. */
export function integerFlag(flag: string, value: unknown, fallback: number, max: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${quoted(value)}`);
  return n;
}

/** `--port N` (`flag` names it): from 1 to 65535, or 0 too (any free port) where `anyFree` says so. */
export function portFlag(flag: string, value: unknown, { anyFree = false } = {}): number {
  return integerFlag(flag, value, 0, 65_535, anyFree ? 0 : 1);
}

/** `--concurrency N`, for the commands that run workers; undefined when not given (CONVLOG_CONCURRENCY then). */
export function concurrencyFlag(value: unknown): number | undefined {
  return value === undefined ? undefined : integerFlag('--concurrency', value, 0, MAX_CONCURRENCY);
}


const UNITS: Record<string, { seconds: number; name: string }> = {
  s: { seconds: 1, name: 'second' },
  m: { seconds: 60, name: 'minute' },
  h: { seconds: 3600, name: 'hour' },
  d: { seconds: 86_400, name: 'day' },
  w: { seconds: 7 * 86_400, name: 'week' },
};
const DURATION = /^(\d{1,7})\s*(s|m|h|d|w)$/i;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export interface Since {
  /** Unix seconds, at least 90 s in the past. */
  startTime: number;
  /** The value was less than 90 s ago (LATEST_START_AGE_SECONDS) and was moved back to then. */
  clamped: boolean;
}

function badSince(text: string, why?: string): UsageError {
  return new UsageError(
    `invalid --since ${quoted(text)}${why ? `: ${why}` : ''}: give an ISO date or time (2024-05-01, 2024-05-01T08:00:00Z, 2024-05-01 08:00; UTC unless it names an offset) or a duration before now, a whole number of s, m, h, d or w (90m, 12h, 7d, 2w)`,
  );
}

/**
 * What a `--since` value with a minus meant, when the rest is a duration or a date: a time before
 * now taken for one below zero. Said both for `--since=-5d` (parseSince) and for `--since -5d`,
 * which parseArgs reads as a flag (src/cli.ts); "=" would not help either: no value takes a minus.
 */
export function sinceMinusHint(text: string): string | undefined {
  const value = text.trim();
  if (!value.startsWith('-')) return undefined;
  const rest = value.slice(1);
  const duration = DURATION.exec(rest);
  if (duration) {
    const [, count, unit] = duration;
    const units = `${UNITS[unit.toLowerCase()].name}${count === '1' ? '' : 's'}`;
    return `a duration is written without a minus, as a time before now: --since ${count}${unit} means ${count} ${units} ago`;
  }
  return ISO.test(rest) ? `a date is written without a minus: --since ${rest}` : undefined;
}

/**
 * How far before Zendesk's minute a "now-ish" `--since` is moved: the minute is by Zendesk's
 * clock, and a machine's may run a little ahead of it. Starting earlier only reads a little more.
 */
const CLOCK_SLACK_SECONDS = 30;
/** The latest start a `--since` may ask for, in seconds before now. */
export const LATEST_START_AGE_SECONDS = MIN_START_AGE_SECONDS + CLOCK_SLACK_SECONDS;

/**
 * `--since` as the export's start_time: an ISO date or time, or a duration before now. Zendesk
 * refuses a start_time less than a minute old, so "now-ish" values become 90 s ago.
 */
export function parseSince(text: string, now = Date.now()): Since {
  const value = text.trim();
  let ms: number;
  const duration = DURATION.exec(value);
  const iso = ISO.exec(value);
  if (duration) {
    ms = now - Number(duration[1]) * UNITS[duration[2].toLowerCase()].seconds * 1000;
  } else if (iso) {
    const [, y, mo, d, h = '00', mi = '00', s = '00'] = iso.map((part) => part ?? undefined) as (string | undefined)[];
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
      throw badSince(text, 'no such date or time');
    }
    const zone = iso[8] ? iso[8].toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : 'Z';
    ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${iso[7] ?? ''}${zone}`);
  } else {
    // The hint says what to write instead: the list of forms after it would only repeat it.
    const hint = sinceMinusHint(value);
    if (hint) throw new UsageError(`invalid --since ${quoted(text)}: ${hint}`);
    throw badSince(text);
  }
  if (!Number.isFinite(ms)) throw badSince(text);
  if (ms < 0) throw badSince(text, 'before 1970');
  if (ms > now) throw badSince(text, `${new Date(ms).toISOString()} is in the future`);
  const latest = Math.floor(now / 1000) - LATEST_START_AGE_SECONDS;
  const startTime = Math.floor(ms / 1000);
  return startTime > latest ? { startTime: latest, clamped: true } : { startTime, clamped: false };
}

const HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EINVAL']);

/**
 * A server that could not listen (src/serve/http.ts says why) with what to change: the flag or
 * variable that gave the port, or the host. Any other error is returned as it is.
 */
export function listenFailure(error: unknown, names: { port: string; host?: string }): unknown {
  if (!(error instanceof UsageError) || !/^cannot listen on /.test(error.message)) return error;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
  const change = HOST_CODES.has(code) && names.host ? `check ${names.host}` : `choose another port with ${names.port}`;
  return new UsageError(`${error.message} (${change})`, { cause: error.cause, showUsage: false });
}
