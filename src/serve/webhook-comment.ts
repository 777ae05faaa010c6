// The comment a ticket.comment_added webhook carries (`event.comment`: id, body, is_public,
// author {id, is_staff, name}), read into a pending comment so that conversation_timeline can
// show it before the conversation log is read. Pure, like webhookAction. A comment whose shape
// is wrong is simply not read: the webhook still queues its ticket, whose sync stores it.
import { positiveId } from '../ids.ts';
import { isRecord } from '../sync/fields.ts';
import { sanitizeForPostgres, sanitizeString } from '../sync/sanitize.ts';
import type { PendingComment } from '../db/pending-comments.ts';

/** What a webhook tells of a comment; the intake adds the ticket and the webhook's event id. */
export type WebhookComment = Omit<PendingComment, 'ticketId' | 'webhookEventId'>;

/** Zendesk's comment ids are numbers of about 13 digits; anything this long is not one. */
const MAX_COMMENT_ID_LENGTH = 100;

/**
 * Nesting past which a comment is no Zendesk comment: copying it, serialising it for Postgres and
 * parsing it there each recurse once a level, on stacks of different depths. One nested past what
 * a copy could recurse into (tens of thousands of levels) was answered 500 and queued nothing;
 * one a few thousand deep failed every delivery of its batch, on every retry.
 */
const MAX_NESTING = 500;

/**
 * The comment of a comment_added event body, or undefined when it has no usable id, body or
 * time, or is nested past MAX_NESTING. Author and visibility are optional: what is missing or
 * malformed is left empty.
 */
export function commentOfEvent(payload: Record<string, unknown>): WebhookComment | undefined {
  const comment = isRecord(payload.event) ? payload.event.comment : undefined;
  if (!isRecord(comment) || nestedDeeperThan(comment, MAX_NESTING)) return undefined;
  const commentId = idText(comment.id);
  const writtenAt = isoTime(payload.time);
  if (commentId === undefined || typeof comment.body !== 'string' || writtenAt === undefined) return undefined;
  const author = isRecord(comment.author) ? comment.author : undefined;
  return {
    commentId,
    body: sanitizeString(comment.body),
    isPublic: typeof comment.is_public === 'boolean' ? comment.is_public : null,
    // Bots carry -1 and system comments may carry none: only a real Support user id is kept.
    authorZendeskId: author ? positiveId(author.id) : null,
    authorName: author && typeof author.name === 'string' && author.name.trim() !== '' ? sanitizeString(author.name) : null,
    authorIsStaff: author && typeof author.is_staff === 'boolean' ? author.is_staff : null,
    writtenAt,
    // Postgres refuses U+0000 and lone surrogates in jsonb: one such comment must not fail the batch.
    raw: sanitizeForPostgres(comment),
  };
}

/** Zendesk sends ids as strings of digits; a number is taken too. Kept as text, as given. */
function idText(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : '';
  if (text === '' || text.length > MAX_COMMENT_ID_LENGTH || !text.isWellFormed() || text.includes('\u0000')) return undefined;
  return text;
}

/** The webhook's `time` as ISO 8601, or undefined when it is not a date a comment can have. */
export function isoTime(value: unknown): string | undefined {
  // Date.parse reads almost anything ("1" is 2001); Zendesk's times are ISO 8601.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  const time = new Date(ms);
  // Postgres has no year 0 and a view sorting by time would put year 1 first: no comment is that old.
  const year = time.getUTCFullYear();
  return year >= 1970 && year <= 9999 ? time.toISOString() : undefined;
}

/** Whether `value` holds objects or arrays more than `limit` levels deep (walked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}
