// The shape of tickets and of the records Zendesk side-loads with them (users, groups,
// organizations) or lists (brands), checked where a column depends on it. Every field but the id
// may be missing or null: Zendesk scrubs permanently deleted tickets, and older records lack
// newer fields. Unknown fields pass through untouched, and the record handed on is the very
// object received, so `raw` keeps them. The pieces every response schema shares (how a value is
// described in a message, an id, a timestamp, a failed check in one line) are here too, for
// schemas.ts and the export's.
import { z } from 'zod';
import { InvalidResponse, type ZendeskErrorContext } from '../errors/zendesk-errors.ts';

/** A value as an error message shows it: its kind, or a short quote of a string. */
export function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (input === '') return 'an empty string';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') return `"${input.length > 40 ? `${input.slice(0, 40)}…` : input}"`;
  if (typeof input === 'object') return 'an object';
  return `${typeof input} ${String(input)}`;
}

/**
 * `["events", 3, "reference"]` → `events[3].reference`, the way a person reads JSON; `whole`
 * names the empty path (the body, the record).
 */
function formatPath(path: readonly PropertyKey[], whole = '(body)'): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? whole : out;
}

/** How many of a response's problems a message names. */
const SHOWN_PROBLEMS = 3;

/**
 * A failed check in one line: its first three problems, each after its path, then how many more
 * ("(and 2 more)"; `more` words that count otherwise). `whole` as in formatPath.
 */
export function firstProblems(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  { whole, more = (n: number) => `${n} more` }: { whole?: string; more?: (n: number) => string } = {},
): string {
  const problems = issues.map((issue) => `${formatPath(issue.path, whole)}: ${issue.message}`);
  const shown = problems.slice(0, SHOWN_PROBLEMS).join('; ');
  const left = problems.length - SHOWN_PROBLEMS;
  return left > 0 ? `${shown} (and ${more(left)})` : shown;
}

/** A zod error message: what was expected, and what came. */
export const expected = (what: string) => (issue: { input?: unknown }) => `expected ${what}, got ${describe(issue.input)}`;

/** An id: a positive safe integer; `what` names it in the message. */
export const positiveId = (what = 'a positive integer id') =>
  z.number({ error: expected(what) }).refine((n) => Number.isSafeInteger(n) && n > 0, { error: expected(what) });

/**
 * The instant `value` names, or undefined when JavaScript cannot read it or Postgres could not
 * store it: Postgres has no year 0 and reads no six-digit year, so an instant outside the years
 * 1 to 9999 in UTC would fail the statement storing it, on every run.
 */
export function storableInstant(value: string): Date | undefined {
  const instant = new Date(value);
  const year = instant.getUTCFullYear();
  return year >= 1 && year <= 9999 ? instant : undefined;
}

// Zendesk writes "2024-10-09T03:30:43Z"; offsets and fractions are accepted so a format change
// that still names an instant does not stop the sync.
export const isoTimestamp = z
  .string({ error: expected('an ISO 8601 timestamp') })
  .refine((value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value)), {
    error: expected('an ISO 8601 timestamp'),
    abort: true,
  })
  .refine((value) => storableInstant(value) !== undefined, { error: expected('a time in the years 1 to 9999 (UTC)') });

const id = positiveId();
const optionalId = id.nullable().optional();
const text = z.string({ error: expected('a string') }).nullable().optional();
const flag = z.boolean({ error: expected('true or false') }).nullable().optional();
const strings = z.array(z.string({ error: expected('a string') }), { error: expected('an array of strings') }).nullable().optional();
const timestamp = isoTimestamp.nullable().optional();
const object = z.looseObject({}, { error: expected('an object') }).nullable().optional();

const ticketSchema = z.looseObject(
  {
    id,
    status: z.string({ error: expected('a status string') }).min(1, { error: expected('a status string') }),
    subject: text,
    priority: text,
    type: text,
    via: z
      .looseObject({ channel: z.union([z.string(), z.number()], { error: expected('a string') }).nullable().optional() }, { error: expected('an object') })
      .nullable()
      .optional(),
    requester_id: optionalId,
    submitter_id: optionalId,
    assignee_id: optionalId,
    group_id: optionalId,
    organization_id: optionalId,
    brand_id: optionalId,
    tags: strings,
    custom_fields: z.array(z.unknown(), { error: expected('an array') }).nullable().optional(),
    satisfaction_rating: object,
    from_messaging_channel: flag,
    created_at: timestamp,
    updated_at: timestamp,
    generated_timestamp: z
      .number({ error: expected('unix seconds') })
      .refine((n) => Number.isSafeInteger(n) && n >= 0, { error: expected('unix seconds') })
      .nullable()
      .optional(),
  },
  { error: expected('a ticket object') },
);

const userSchema = z.looseObject(
  { id, name: text, role: text, photo: object, updated_at: timestamp },
  { error: expected('a user object') },
);

const groupSchema = z.looseObject(
  { id, name: text, description: text, is_public: flag, default: flag, deleted: flag, created_at: timestamp, updated_at: timestamp },
  { error: expected('a group object') },
);

const brandSchema = z.looseObject(
  {
    id,
    name: text,
    subdomain: text,
    brand_url: text,
    host_mapping: text,
    active: flag,
    default: flag,
    created_at: timestamp,
    updated_at: timestamp,
  },
  { error: expected('a brand object') },
);

const organizationSchema = z.looseObject(
  {
    id,
    name: text,
    domain_names: strings,
    tags: strings,
    group_id: optionalId,
    external_id: z.union([z.string(), z.number()], { error: expected('a string') }).nullable().optional(),
    created_at: timestamp,
    updated_at: timestamp,
  },
  { error: expected('an organization object') },
);

export type ZendeskTicket = z.infer<typeof ticketSchema>;
export type ZendeskUser = z.infer<typeof userSchema>;
export type ZendeskGroup = z.infer<typeof groupSchema>;
export type ZendeskBrand = z.infer<typeof brandSchema>;
export type ZendeskOrganization = z.infer<typeof organizationSchema>;

const RECORD_SCHEMAS = {
  ticket: ticketSchema,
  user: userSchema,
  group: groupSchema,
  brand: brandSchema,
  organization: organizationSchema,
} as const;
export type RecordKind = keyof typeof RECORD_SCHEMAS;
export type RecordOf<K extends RecordKind> = z.infer<(typeof RECORD_SCHEMAS)[K]>;

/**
 * The record, unchanged, when it has the shape its columns need; else an InvalidResponse naming
 * the record (ticket 12, brand 7) and each field that is wrong.
 */
export function checkRecord<K extends RecordKind>(kind: K, value: unknown, context: ZendeskErrorContext = {}): RecordOf<K> {
  const result = RECORD_SCHEMAS[kind].safeParse(value);
  if (result.success) return value as RecordOf<K>;
  const recordId = (value as { id?: unknown } | null)?.id;
  const named = typeof recordId === 'number' || typeof recordId === 'string' ? `${kind} ${recordId}` : `a ${kind} without a usable id`;
  const problem = `${named}: ${firstProblems(result.error.issues, { whole: '(record)' })}`;
  const ticketId = kind === 'ticket' && typeof recordId === 'number' ? { ticketId: recordId } : {};
  throw new InvalidResponse(problem, { ...context, ...ticketId });
}

/** Checks every record of a list, in order; the first bad one throws. */
export function checkRecords<K extends RecordKind>(kind: K, values: readonly unknown[] | undefined, context: ZendeskErrorContext = {}): RecordOf<K>[] {
  return (values ?? []).map((value) => checkRecord(kind, value, context));
}
