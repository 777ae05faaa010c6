// The people a page names, as the page statement (store-page.ts) writes them: its $1, one row a
// person, and the parts of the statement that read it.
//
// What a page says of a person that the row lacks or has otherwise (src/db/author-fields.ts).
// Their type, name and avatar are as the newest event naming them has them (each event keeps the
// type it was written with): an event older than the one they were taken from (`written_at`), or
// than the Zendesk user record stored (`user_updated_at`, src/db/tickets.ts), only fills a gap. So
// an old ticket synced after a newer one, or read again whole, does not turn an agent back into
// the customer they once were.
import { personAssignments, personChanges } from './author-fields.ts';
import { inputColumns, quoted, recordset } from './jsonb-rows.ts';
import { authors, type AuthorRow } from './schema.ts';

/** The fields a person has as of their newest news, by the key a row gives them. */
export const AS_OF_NEWS = ['type', 'displayName', 'avatarUrl'] as const;
type AsOfKey = `${(typeof AS_OF_NEWS)[number]}AsOf`;

/**
 * A person as a page names them, as of its newest event naming them (`writtenAt`). A type, name or
 * avatar that event lacked comes from an earlier event of the page, as of that event (`typeAsOf`,
 * `displayNameAsOf`, `avatarUrlAsOf`): news against a row older than it, and only a gap's filling
 * against a newer one, as it would be were that event on a page of its own.
 */
export type PageAuthor = AuthorRow & Partial<Record<AsOfKey, Date>>;

const AUTHOR_COLUMNS = inputColumns(authors);
const asOfKey = (key: string): AsOfKey | undefined => ((AS_OF_NEWS as readonly string[]).includes(key) ? (`${key}AsOf` as AsOfKey) : undefined);

/** The page's people, `r`. */
export const PAGE_AUTHORS = recordset('$1', [
  ...AUTHOR_COLUMNS,
  ...AUTHOR_COLUMNS.flatMap((c) => {
    const key = asOfKey(c.key);
    return key ? [{ key, name: key, type: 'timestamp with time zone' }] : [];
  }),
]);

/** Whether news as of `time` is newer than what row `a` holds (see the top of this file). */
const newerThan = (a: string, time: string) =>
  `((${a}.written_at is null or ${time} >= ${a}.written_at) and (${a}.user_updated_at is null or ${time} > ${a}.user_updated_at))`;

/**
 * What the page says of column `name` against the stored row `a`: a value an earlier event gave
 * that is older than what `a` holds says nothing (null: a gap's filling only where `a` has none).
 * Against the row as the statement found it: one another transaction writes meanwhile is met by
 * the upsert, which knows the page's newest time only (a person's row keeps one `written_at`), so
 * then the earlier event's value counts as of it, as every value of the page did before.
 */
const pageField = (a: string) => (name: string) => {
  const { key } = AUTHOR_COLUMNS.find((c) => c.name === name)!;
  const asOf = asOfKey(key);
  if (name === 'written_at' || !asOf) return `r.${quoted(key)}`;
  return `(case when r.${quoted(asOf)} is not null and ${a}.${name} is not null and not ${newerThan(a, `r.${quoted(asOf)}`)} then null else r.${quoted(key)} end)`;
};

const authorChanges = (a: string, page: (field: string) => string) => personChanges(a, page, newerThan(a, page('written_at'))).join('\n     or ');

/** Whether the page changes stored row `a` of one of its people (`r`, joined to it). */
export const pageChangesAuthor = (a: string) => authorChanges(a, pageField(a));

const KNOWN_UNCHANGED = `known.author_key is not null and not (${pageChangesAuthor('known')})`;
const insertAuthors = (where: string) => `
  insert into zendesk.authors as a (${AUTHOR_COLUMNS.map((c) => quoted(c.name)).join(', ')})
  select ${AUTHOR_COLUMNS.map((c) => pageField('known')(c.name)).join(', ')}
    from ${PAGE_AUTHORS} left join zendesk.authors known on known.author_key = r."authorKey"
   where ${where}
   order by known.author_key is null, r."authorKey"`;

/**
 * The page's people Postgres has and whose row says all the page says: inserted again only if a
 * purge or the end of a full read removed them since the statement began (it waited for that in
 * authors_held), and otherwise left alone without a lock (waiting only for a transaction
 * changing them to end): pages of tickets sharing an agent then do not wait for one another's
 * events and files.
 */
export const AUTHORS_KEPT = `${insertAuthors(KNOWN_UNCHANGED)}
  on conflict (author_key) do nothing
  returning 1`;

/**
 * The page's other people: those Postgres has whose row it changes, then those new to it, each in
 * key order, as a read by id takes them (src/db/lock-order.ts): in key order alone, a page
 * inserting a new person and then waiting for a known one that such a read held deadlocked with
 * the read inserting it. The upsert locks every person it meets until the commit: a page that
 * changes a person (an agent renamed) holds up another ticket's page naming them meanwhile.
 */
export const AUTHORS_WRITTEN = `${insertAuthors(`not (${KNOWN_UNCHANGED})`)}
  on conflict (author_key) do update set
    ${personAssignments(newerThan('a', 'excluded.written_at')).join(',\n    ')},
    written_at = case when ${newerThan('a', 'excluded.written_at')} then excluded.written_at else a.written_at end,
    updated_at = now()
  where ${authorChanges('a', (f) => `excluded.${f}`)}
  returning 1`;
