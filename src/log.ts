// Structured JSON logs on stderr (stdout stays for command output), one readable line each when a person
// watches a terminal. Child loggers carry ticketId, jobId and page.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { printable } from './text.ts';

// pino-pretty (sixty modules) is loaded only when a person watches: a worker or a command whose
// output goes to a file or a pipe never needs it.
const requirePretty = () => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

export type { Logger };

/** Fields that could carry credentials are censored wherever they appear in a log object. */
const REDACT = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'databaseUrl',
];

export interface LoggerOptions {
  pretty?: boolean;
  /** Where lines go instead of the process's stderr (a command run inside another process). */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The last line of a terminal when something redraws it in place (the progress bar). Log lines
 * are written above it: it is cleared, the line written, and it is drawn again below.
 */
export interface BottomLine {
  clear(): void;
  redraw(): void;
}

const bottomLines = new WeakMap<object, BottomLine>();

/** Makes `line` the bottom line of `stream` until the returned function is called. */
export function holdBottomLine(stream: object, line: BottomLine): () => void {
  bottomLines.set(stream, line);
  return () => {
    if (bottomLines.get(stream) === line) bottomLines.delete(stream);
  };
}

/** Writes to `target`, above its bottom line when one is held. */
function aboveBottomLine(target: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const line = bottomLines.get(target);
      line?.clear();
      target.write(chunk);
      line?.redraw();
      done();
    },
  });
}

export function createLogger(level = 'info', options: LoggerOptions = {}): Logger {
  const usePretty = options.pretty ?? Boolean((options.destination ?? process.stderr).isTTY);
  const base = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (usePretty) {
    // Through the stream a progress bar draws on, so that log lines go above the bar rather
    // than onto its line (a terminal's stderr is written synchronously).
    const destination = aboveBottomLine(options.destination ?? process.stderr);
    return pino(base, requirePretty()({ destination, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss', hideObject: true, messageFormat: oneLine }));
  }
  return pino(base, options.destination ?? pino.destination({ dest: 2, sync: true }));
}

// What a terminal shows of a log line: its message and fields on one line. pino-pretty's own
// layout, a line per field, made each ticket `sync` logs six lines above its bar (fifty tickets
// scrolled three hundred). The JSON log, without a terminal, keeps every field as it is. What a
// terminal would act on rather than show is escaped (a message can quote what Zendesk sent) by
// printable, the escaping of every other message convlog writes.

/** Keys of pino's own, shown before the message or not at all. */
const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname']);

/** "ticket failed ticketId=7 attempt=3 err="Zendesk answered 500 …"": a record as one line of text. */
export function oneLine(record: Record<string, unknown>, messageKey: string): string {
  const message = typeof record[messageKey] === 'string' ? printable(record[messageKey] as string) : '';
  const fields = Object.entries(record)
    .filter(([key, value]) => key !== messageKey && !NOT_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${printable(key)}=${fieldText(value)}`);
  return [message, ...fields].filter((part) => part !== '').join(' ');
}

/** A field's value; an error (pino's serialised `err`) by its message, its stack left to the JSON log. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? printable(value) : printable(JSON.stringify(value));
  const error = value as { message?: unknown; stack?: unknown } | null;
  if (typeof error?.message === 'string' && typeof error.stack === 'string') return fieldText(error.message);
  return printable(typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
