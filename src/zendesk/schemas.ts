// The shape of a conversation-log page, checked only where the sync depends on it. The API is
// in early access and grows new event types and content shapes, so everything else passes
// through: the events handed on are the very objects received, never a rebuilt copy.
import { z } from 'zod';
import { InvalidResponse, type ZendeskErrorContext } from '../errors/zendesk-errors.ts';
import { counted } from '../text.ts';
import { describe, expected, firstProblems, isoTimestamp } from './ticket-schemas.ts';

export type ConversationLogEvent = {
  reference: string;
  id: string;
  type: string;
  created_at: string;
  [key: string]: unknown;
};

export type ConversationLogPage = {
  events: ConversationLogEvent[];
  meta: {
    has_more: boolean;
    after_cursor?: string | null;
    before_cursor?: string | null;
    [key: string]: unknown;
  };
  [key: string]: unknown;
};

const nonEmptyString = z.string({ error: expected('a non-empty string') }).min(1, { error: expected('a non-empty string') });

const eventSchema = z.looseObject(
  {
    reference: nonEmptyString,
    id: nonEmptyString,
    type: nonEmptyString,
    created_at: isoTimestamp,
  },
  { error: expected('an event object') },
);

const cursor = z
  .string({ error: expected('a string or null') })
  .nullable()
  .optional();

const pageSchema = z.looseObject(
  {
    events: z.array(eventSchema, { error: expected('an array of events') }),
    meta: z.looseObject(
      {
        has_more: z.boolean({ error: expected('true or false') }),
        after_cursor: cursor,
        before_cursor: cursor,
      },
      { error: expected('an object') },
    ),
  },
  { error: expected('a JSON object with events and meta') },
).superRefine((page, ctx) => {
  // Without a cursor there is no way to the next page: following has_more would loop forever.
  if (page.meta.has_more && !page.meta.after_cursor) {
    ctx.addIssue({
      code: 'custom',
      path: ['meta', 'after_cursor'],
      message: `expected a cursor because meta.has_more is true, got ${describe(page.meta.after_cursor)}`,
    });
  }
});

/** Explains every way `value` is not a usable page, or returns undefined when it is one. */
function conversationLogPageProblem(value: unknown): string | undefined {
  const result = pageSchema.safeParse(value);
  if (result.success) return undefined;
  return firstProblems(result.error.issues, { more: (n) => counted(n, 'more problem') });
}

/**
 * Checks a parsed body and returns it unchanged (same object, same key order) as a page, or
 * throws InvalidResponse naming the first problems and where they are.
 */
export function validateConversationLogPage(value: unknown, context: ZendeskErrorContext = {}): ConversationLogPage {
  const problem = conversationLogPageProblem(value);
  if (problem !== undefined) throw new InvalidResponse(problem, context);
  return value as ConversationLogPage;
}
