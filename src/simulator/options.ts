// The simulator's knobs: one schema that checks and coerces them (the CLI hands over strings),
// and the defaults. Messages name the option so a bad flag explains itself.
import { z } from 'zod';
import { tokenProblem } from '../config.ts';
import { quoted } from '../text.ts';

export interface SimulatorOptions {
  /** Default 0 = a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Serves tickets 1..N. Default 20. */
  tickets?: number;
  /** Default 1. The same seed gives byte-identical data. */
  seed?: number;
  /** Event count per ticket id, overriding the built-in mix. */
  ticketSizes?: Record<number, number>;
  /** Conversation-log requests per window for the whole account. Default 100; 0 = unlimited. */
  rateLimit?: number;
  /** Window length in seconds (fixed windows). Default 60. */
  window?: number;
  /** Incremental export requests per window. Default 10; 0 = unlimited. */
  exportRateLimit?: number;
  /** Tickets per export page when the request has no per_page. Default 1000. */
  exportPageSize?: number;
  /** Milliseconds added before each response. Default 0. */
  latency?: number;
  /** Fraction (0..1) of requests answered 500/503/504. Default 0. */
  failRate?: number;
  /** Fraction (0..1) of 200 responses whose JSON body is cut off. Default 0. */
  truncateRate?: number;
  /** Fraction (0..1) of requests that never answer (until close()). Default 0. */
  hangRate?: number;
  /** Ticket ids answered 403. */
  forbidden?: number[];
  /** Ticket ids answered 404 and reported as "deleted" by the export (soft-deleted: restorable). */
  deleted?: number[];
  /** Ticket ids permanently deleted: answered 404, served scrubbed (status "deleted") by the export. */
  scrubbed?: number[];
  /** Account-wide requests per window (show_many, groups, brands, organizations, users/me, webhooks). Default 700; 0 = unlimited. */
  accountRateLimit?: number;
  /** When set, a webhook subscribed to every ticket event sends to this URL from the start. Default '' = none. */
  webhookUrl?: string;
  /** Signing secret of that webhook. Default '' = a random one (read it with GET /api/v2/webhooks/{id}/signing_secret). */
  webhookSecret?: string;
  /** When set, only this API token (Basic email/token:TOKEN, or Bearer TOKEN) is accepted; others get 401. Default '' = any. */
  apiToken?: string;
  /**
   * When set, every generated date (events, tickets, the account's records) moves by one amount,
   * whole seconds, so that the histories of tickets 1..tickets end just before this time, instead
   * of in late 2025: the same events in the same order with the same gaps. An ISO date or time
   * (UTC unless it names an offset), `now` or a Date; stored as ISO text. Default '' = the fixed
   * dates (histories from 2025-06-01 over 180 days).
   */
  historyEnd?: string | Date;
  /**
   * Generates and serialises every event of tickets 1..tickets at start, so serving them costs
   * only the copy. For benchmarks: Zendesk does that work on its own machines, not on the one
   * convlog runs on. Memory grows with the events (about 5 kB each). Default false.
   */
  preload?: boolean;
  /**
   * Cursors as snapshots: a saved after_cursor returns only the events the log had when it was
   * given, never ones appended later. Whether Zendesk's do is undocumented; convlog must sync
   * either way. Default false: a cursor picks up appended events.
   */
  snapshotCursors?: boolean;
  /**
   * Seconds the account's clock runs ahead of this machine's (negative: behind): every time it
   * gives (changes, events, the export's "now", webhooks, each answer's Date header) is on it, as
   * Zendesk's times are on Zendesk's clock, which a worker's may be off from. Default 0.
   */
  clockOffset?: number;
}

export type ResolvedOptions = Required<SimulatorOptions>;

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  tickets: 20,
  seed: 1,
  ticketSizes: {},
  rateLimit: 100,
  window: 60,
  exportRateLimit: 10,
  exportPageSize: 1000,
  latency: 0,
  failRate: 0,
  truncateRate: 0,
  hangRate: 0,
  forbidden: [],
  deleted: [],
  scrubbed: [],
  accountRateLimit: 700,
  apiToken: '',
  webhookUrl: '',
  webhookSecret: '',
  historyEnd: '',
  preload: false,
  snapshotCursors: false,
  clockOffset: 0,
});

/** The account's clock (epoch ms): this machine's, moved by clockOffset. */
export const accountNow = (options: Pick<ResolvedOptions, 'clockOffset'>): number => Date.now() + options.clockOffset * 1000;

const show = (value: unknown): string => (typeof value === 'string' ? quoted(value) : String(value));

/** Strings from the command line become numbers; an empty string stays invalid. */
const toNumber = (value: unknown): unknown => {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const number = Number(value.trim());
  return Number.isNaN(number) ? value : number;
};

/** Whole numbers are written in digits: "1e3" or "0x10" is refused, not read as 1000 or 16. */
const toInteger = (value: unknown): unknown => (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value.trim()) : value);

function integer(name: string, min: number, max: number) {
  return z.preprocess(
    toInteger,
    z
      .number({
        error: (issue) =>
          typeof issue.input === 'string' && issue.input.trim() !== '' && Number.isFinite(Number(issue.input))
            ? `${name} must be a whole number in digits (got ${show(issue.input)})`
            : `${name} must be a number (got ${show(issue.input)})`,
      })
      .int({ error: `${name} must be a whole number` })
      .min(min, { error: `${name} must be at least ${min}` })
      .max(max, { error: `${name} must be at most ${max}` }),
  );
}

function fraction(name: string) {
  return z.preprocess(
    toNumber,
    z
      .number({ error: (issue) => `${name} must be a number between 0 and 1 (got ${show(issue.input)})` })
      .min(0, { error: `${name} must be between 0 and 1` })
      .max(1, { error: `${name} must be between 0 and 1` }),
  );
}

/** Accepts [1, 2], ["1", "2"] or "1,2 3". */
function idList(name: string) {
  return z.preprocess(
    (value) => {
      if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean).map(toInteger);
      if (Array.isArray(value)) return value.map(toInteger);
      return value;
    },
    z.array(
      z
        .number({ error: `${name} must list ticket ids, e.g. "3,7,12"` })
        .int({ error: `${name} must list whole ticket ids` })
        .positive({ error: `${name} must list positive ticket ids` }),
      { error: `${name} must be a list of ticket ids, e.g. "3,7,12"` },
    ),
  );
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
/** The export's cursors hold times as 32-bit seconds, and event ids need times after 1970. */
const HISTORY_END_MIN = Date.UTC(2000, 0, 1);
const HISTORY_END_MAX = Date.UTC(2038, 0, 1);
const HISTORY_END_FORMS = 'an ISO date or time (2026-12-01, 2026-12-01T08:00:00Z; UTC unless it names an offset) or now';

/** `now`, an ISO date or time (UTC unless it names an offset) or a Date, as ISO text; anything else stays as it is, to be refused. */
function toHistoryEnd(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? value : value.toISOString();
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return '';
  if (text.toLowerCase() === 'now') return new Date().toISOString();
  const iso = ISO_TIME.exec(text);
  if (!iso) return value;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = iso.map((part) => part ?? undefined) as (string | undefined)[];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return value;
  const zone = iso[8] ? iso[8].toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : 'Z';
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${iso[7] ?? ''}${zone}`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : value;
}

const historyEndSchema = z.preprocess(
  toHistoryEnd,
  z
    .string({ error: (issue) => `historyEnd must be ${HISTORY_END_FORMS} (got ${show(issue.input instanceof Date ? 'an invalid Date' : issue.input)})` })
    .refine((text) => text === '' || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text), {
      error: (issue) => `historyEnd must be ${HISTORY_END_FORMS} (got ${show(issue.input)})`,
      // Not a date: its range is not worth a second complaint.
      abort: true,
    })
    .refine((text) => text === '' || (Date.parse(text) >= HISTORY_END_MIN && Date.parse(text) < HISTORY_END_MAX), {
      error: 'historyEnd must be from 2000 to 2037',
    }),
);

/** Accepts {"3": 100}, {3: 100}, a JSON string or "3:100,5=0". */
const ticketSizesSchema = z
  .preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const text = value.trim();
      if (text.startsWith('{')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return value;
        }
      }
      const entries = text.split(/[\s,]+/).filter(Boolean).map((pair) => pair.split(/[:=]/));
      if (entries.some((pair) => pair.length !== 2)) return value;
      return Object.fromEntries(entries);
    },
    z.record(
      z.string().regex(/^[1-9]\d*$/, { error: 'ticketSizes keys must be positive ticket ids' }),
      z.preprocess(
        toInteger,
        z
          .number({ error: 'ticketSizes values must be event counts' })
          .int({ error: 'ticketSizes values must be whole numbers' })
          .min(0, { error: 'ticketSizes values must be at least 0' })
          .max(5_000_000, { error: 'ticketSizes values must be at most 5000000' }),
      ),
      { error: 'ticketSizes must map ticket ids to event counts, e.g. "3:100,5:0"' },
    ),
  )
  .transform((record) => {
    const sizes: Record<number, number> = {};
    for (const [id, count] of Object.entries(record)) sizes[Number(id)] = count;
    return sizes;
  });

export const simulatorOptionsSchema: z.ZodType<SimulatorOptions, unknown> = z.strictObject(
  {
    port: integer('port', 0, 65535).optional(),
    host: z.string({ error: 'host must be a hostname or IP address' }).min(1).optional(),
    tickets: integer('tickets', 1, 1_000_000).optional(),
    seed: integer('seed', -2147483648, 4294967295).optional(),
    ticketSizes: ticketSizesSchema.optional(),
    rateLimit: integer('rateLimit', 0, 1_000_000).optional(),
    window: integer('window', 1, 86_400).optional(),
    exportRateLimit: integer('exportRateLimit', 0, 1_000_000).optional(),
    exportPageSize: integer('exportPageSize', 1, 1000).optional(),
    latency: integer('latency', 0, 600_000).optional(),
    failRate: fraction('failRate').optional(),
    truncateRate: fraction('truncateRate').optional(),
    hangRate: fraction('hangRate').optional(),
    forbidden: idList('forbidden').optional(),
    deleted: idList('deleted').optional(),
    scrubbed: idList('scrubbed').optional(),
    accountRateLimit: integer('accountRateLimit', 0, 1_000_000).optional(),
    // convlog refuses a token that is not one word of visible ASCII: the lines printed to paste must work.
    apiToken: z
      .string({ error: 'apiToken must be a string' })
      .superRefine((token, ctx) => {
        const problem = token === '' ? undefined : tokenProblem(token);
        if (problem) ctx.addIssue({ code: 'custom', message: `apiToken ${problem}` });
      })
      .optional(),
    webhookUrl: z
      .string({ error: 'webhookUrl must be an http(s) URL' })
      .refine((url) => url === '' || (/^https?:\/\//.test(url) && URL.canParse(url)), { error: 'webhookUrl must be an http(s) URL' })
      .optional(),
    webhookSecret: z.string({ error: 'webhookSecret must be a string' }).optional(),
    historyEnd: historyEndSchema.optional(),
    preload: z.boolean({ error: 'preload must be true or false' }).optional(),
    snapshotCursors: z.boolean({ error: 'snapshotCursors must be true or false' }).optional(),
    clockOffset: integer('clockOffset', -86_400, 86_400).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown simulator ${issue.keys.length === 1 ? 'option' : 'options'}: ${issue.keys.join(', ')}` : undefined) },
);

/** Validates options and throws one readable Error listing every problem. */
export function parseSimulatorOptions(input: unknown): SimulatorOptions {
  const result = simulatorOptionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => issue.message);
  throw new Error(`Invalid simulator options: ${problems.join('; ')}`);
}

export function resolveOptions(input: SimulatorOptions): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_OPTIONS, ...defined };
}
