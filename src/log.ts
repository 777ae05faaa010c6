// Structured JSON logs on stderr (stdout stays for command output), pretty when a person
// watches a terminal. Child loggers carry ticketId, jobId and page.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

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

export function createLogger(level = 'info', options: LoggerOptions = {}): Logger {
  const usePretty = options.pretty ?? Boolean((options.destination ?? process.stderr).isTTY);
  const base = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (usePretty) {
    return pino(base, requirePretty()({ destination: options.destination ?? 2, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }));
  }
  return pino(base, options.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
