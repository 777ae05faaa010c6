// The simulator's knobs: one schema that checks and coerces them (the CLI hands over strings),
// and the defaults. Messages name the option so a bad flag explains itself.
import { z } from 'zod';
import { quoted } from '../ids.ts';

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
});

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
    apiToken: z.string({ error: 'apiToken must be a string' }).optional(),
    webhookUrl: z
      .string({ error: 'webhookUrl must be an http(s) URL' })
      .refine((url) => url === '' || (/^https?:\/\//.test(url) && URL.canParse(url)), { error: 'webhookUrl must be an http(s) URL' })
      .optional(),
    webhookSecret: z.string({ error: 'webhookSecret must be a string' }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown simulator option(s): ${issue.keys.join(', ')}` : undefined) },
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
