// One author can appear on many events and in two identity systems (Support and Sunshine
// Conversations). The key picks the most stable identity the event carries, so the same
// person maps to one `authors` row across pages and tickets. The rules are in the README's
// description of the authors table; test/sync/author-key.test.ts pins each of them.
import type { AuthorRow } from '../db/schema.ts';
import { AS_OF_NEWS, type PageAuthor } from '../db/page-authors.ts';
import { bigintNumber, nonBlank, record, string } from './fields.ts';
import { positiveId } from '../ids.ts';
import { sanitizeString } from './sanitize.ts';

const SUPPORT_ID = 'zen:support:user_id';
const SUNCO_ID = 'zen:sunco:user_id';

/**
 * `support:<id>` for a positive Support user id, else `sunco:<id>`, else
 * `anonymous:<type>:<display_name>`; null when the event has no author object at all.
 * Bots carry Support id -1, so they fall through to their Sunshine Conversations id.
 */
export function authorKey(author: unknown): string | null {
  const fields = record(author);
  if (!fields) return null;
  const supportId = positiveId(fields[SUPPORT_ID]);
  if (supportId !== null) return `support:${supportId}`;
  const suncoId = suncoUserId(fields[SUNCO_ID]);
  if (suncoId !== null) return sanitizeString(`sunco:${suncoId}`);
  const type = string(fields.type) ?? 'unknown';
  const name = string(fields.display_name) ?? '';
  return sanitizeString(`anonymous:${type}:${name}`);
}

/** The row for `authors`, or null for an event without an author object. */
export function authorRow(author: unknown): AuthorRow | null {
  const fields = record(author);
  const key = authorKey(fields);
  if (!fields || key === null) return null;
  return {
    authorKey: key,
    supportUserId: supportUserId(fields[SUPPORT_ID]),
    suncoUserId: maybeClean(suncoUserId(fields[SUNCO_ID])),
    type: maybeClean(string(fields.type)),
    displayName: maybeClean(string(fields.display_name)),
    avatarUrl: maybeClean(string(fields.avatar_url)),
  };
}

/**
 * Combines two sightings of one author within a page: the one written later (`writtenAt`; on a
 * tie, the one further down the page) wins field by field, but a field it lacks keeps the other's
 * value (a messaging event may omit the avatar a comment had), as of the event it came from
 * (PageAuthor): a row stored from an event between the two keeps its newer value.
 */
export function mergeAuthor(before: PageAuthor, after: PageAuthor): PageAuthor {
  const [earlier, later] = writtenTime(before) > writtenTime(after) ? [after, before] : [before, after];
  const merged: PageAuthor = {
    authorKey: later.authorKey,
    supportUserId: later.supportUserId ?? earlier.supportUserId ?? null,
    suncoUserId: later.suncoUserId ?? earlier.suncoUserId ?? null,
    writtenAt: later.writtenAt ?? earlier.writtenAt ?? null,
  };
  for (const key of AS_OF_NEWS) {
    const asOf = `${key}AsOf` as const;
    // Each value as of the event it came from: a merged sighting's may be older than the other's.
    const time = (author: PageAuthor) => (author[asOf] ?? author.writtenAt)?.getTime() ?? -Infinity;
    const from = later[key] == null ? earlier : earlier[key] == null || time(later) >= time(earlier) ? later : earlier;
    const value = from[key] ?? null;
    merged[key] = value;
    const since = from[asOf] ?? from.writtenAt;
    if (value !== null && since && writtenTime(merged) > since.getTime()) merged[asOf] = since;
  }
  return merged;
}

const writtenTime = (author: PageAuthor) => author.writtenAt?.getTime() ?? -Infinity;

// Kept as received, -1 for bots included; a digit string is read as the number it spells.
function supportUserId(value: unknown): number | null {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return bigintNumber(Number(value));
  return bigintNumber(value);
}

function suncoUserId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonBlank(value);
}

function maybeClean(value: string | null): string | null {
  return value === null ? null : sanitizeString(value);
}
