// How a write that names a person changes their `authors` row, the same for a conversation log's
// author (src/db/store-page.ts) and a Zendesk user record (src/db/tickets.ts): a field the write
// lacks never erases a known one; the person's ids are theirs whenever written; their type, name
// and avatar are as of the newest news of them, so an older write only fills what the row lacks.
// What counts as newer is the caller's: an event's time against the row's `written_at`, a record's
// `updated_at` against it.

const IDS = ['support_user_id', 'sunco_user_id'];
const AS_OF_NEWS = ['type', 'display_name', 'avatar_url'];

/**
 * The conditions, one per field, under which what `given(field)` says of a person changes row
 * `a` (any one of them does): `newer`, whether the write is newer news than the row's.
 */
export function personChanges(a: string, given: (field: string) => string, newer: string): string[] {
  return [
    ...IDS.map((f) => `(${given(f)} is not null and ${given(f)} is distinct from ${a}.${f})`),
    ...AS_OF_NEWS.map((f) => `(${given(f)} is not null and ${given(f)} is distinct from ${a}.${f} and (${a}.${f} is null or ${newer}))`),
  ];
}

/** The SET list of an upsert of `authors as a` from `excluded`: `newer`, as for personChanges. */
export function personAssignments(newer: string): string[] {
  return [
    ...IDS.map((f) => `${f} = coalesce(excluded.${f}, a.${f})`),
    ...AS_OF_NEWS.map((f) => `${f} = case when ${newer} then coalesce(excluded.${f}, a.${f}) else coalesce(a.${f}, excluded.${f}) end`),
  ];
}
