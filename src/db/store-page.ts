// Every write of a page happens here, in ONE transaction with the ticket's cursor, so that a
// crash at any instant leaves either the whole page and its cursor, or neither.
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { attachments, attachmentThumbnails, authors, conversationEvents, ticketSync } from './schema.ts';
import type { PageRows } from '../sync/map-page.ts';

export interface PageProgress {
  ticketId: number;
  /** The cursor to resume from once this page is stored. */
  afterCursor: string | null;
  /** Requests this page cost (retries included). */
  requests: number;
}

export interface StoredPage {
  /** Events inserted or changed by this page; unchanged re-reads count nothing. */
  eventsWritten: number;
}

type Table = typeof conversationEvents | typeof attachments | typeof attachmentThumbnails;

/** SET every column from the incoming row, except the keys and first-seen bookkeeping. */
function takeIncoming(table: Table, skip: string[]): Record<string, SQL> {
  const set: Record<string, SQL> = { updatedAt: sql`now()` };
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (!skip.includes(key) && key !== 'updatedAt') set[key] = sql.raw(`excluded."${column.name}"`);
  }
  return set;
}

/** True when a compared column differs from the incoming row: only then is the row touched. */
function differs(table: Table, keys: string[]): SQL {
  const columns = getTableColumns(table) as Record<string, { name: string }>;
  const names = keys.map((k) => `"${columns[k].name}"`);
  const stored = names.map((n) => `zendesk."${getTableName(table)}".${n}`).join(', ');
  const incoming = names.map((n) => `excluded.${n}`).join(', ');
  return sql.raw(`(${stored}) is distinct from (${incoming})`);
}

const FILE_FIELDS = ['fileName', 'contentType', 'contentUrl', 'mappedContentUrl', 'url', 'size', 'width', 'height', 'inline', 'deleted'];

export async function storePage(db: Db, rows: PageRows, progress: PageProgress): Promise<StoredPage> {
  // Sorted keys give every transaction the same lock order, so two tickets sharing an
  // author or attachment never deadlock.
  const authorRows = [...rows.authors].sort((a, b) => a.authorKey.localeCompare(b.authorKey));
  const attachmentRows = [...rows.attachments].sort((a, b) => a.id - b.id);
  const thumbnailRows = [...rows.thumbnails].sort((a, b) => a.id - b.id);

  return db.transaction(async (tx) => {
    if (authorRows.length > 0) {
      await tx
        .insert(authors)
        .values(authorRows)
        .onConflictDoUpdate({
          target: authors.authorKey,
          // A later event that omits a field must not erase what an earlier one told us.
          set: {
            supportUserId: sql`coalesce(excluded.support_user_id, ${authors.supportUserId})`,
            suncoUserId: sql`coalesce(excluded.sunco_user_id, ${authors.suncoUserId})`,
            type: sql`coalesce(excluded.type, ${authors.type})`,
            displayName: sql`coalesce(excluded.display_name, ${authors.displayName})`,
            avatarUrl: sql`coalesce(excluded.avatar_url, ${authors.avatarUrl})`,
            updatedAt: sql`now()`,
          },
          setWhere: sql`(excluded.support_user_id is not null and excluded.support_user_id is distinct from ${authors.supportUserId})
            or (excluded.sunco_user_id is not null and excluded.sunco_user_id is distinct from ${authors.suncoUserId})
            or (excluded.type is not null and excluded.type is distinct from ${authors.type})
            or (excluded.display_name is not null and excluded.display_name is distinct from ${authors.displayName})
            or (excluded.avatar_url is not null and excluded.avatar_url is distinct from ${authors.avatarUrl})`,
        });
    }

    let eventsWritten = 0;
    if (rows.events.length > 0) {
      const written = await tx
        .insert(conversationEvents)
        .values(rows.events)
        .onConflictDoUpdate({
          target: conversationEvents.reference,
          set: takeIncoming(conversationEvents, ['reference', 'firstSyncedAt']),
          // raw holds everything the other columns are derived from.
          setWhere: differs(conversationEvents, ['raw', 'ticketId']),
        })
        .returning({ reference: conversationEvents.reference });
      eventsWritten = written.length;
    }

    if (attachmentRows.length > 0) {
      await tx
        .insert(attachments)
        .values(attachmentRows)
        .onConflictDoUpdate({
          target: attachments.id,
          set: takeIncoming(attachments, ['id']),
          setWhere: differs(attachments, [...FILE_FIELDS, 'eventReference', 'ticketId']),
        });
    }
    if (thumbnailRows.length > 0) {
      await tx
        .insert(attachmentThumbnails)
        .values(thumbnailRows)
        .onConflictDoUpdate({
          target: attachmentThumbnails.id,
          set: takeIncoming(attachmentThumbnails, ['id']),
          setWhere: differs(attachmentThumbnails, [...FILE_FIELDS, 'attachmentId', 'ticketId']),
        });
    }

    await tx
      .insert(ticketSync)
      .values({
        ticketId: progress.ticketId,
        status: 'syncing',
        afterCursor: progress.afterCursor,
        pagesSynced: 1,
        eventsLastRun: rows.events.length,
        requestsLastRun: progress.requests,
      })
      .onConflictDoUpdate({
        target: ticketSync.ticketId,
        set: {
          afterCursor: progress.afterCursor,
          pagesSynced: sql`${ticketSync.pagesSynced} + 1`,
          eventsLastRun: sql`${ticketSync.eventsLastRun} + ${rows.events.length}`,
          requestsLastRun: sql`${ticketSync.requestsLastRun} + ${progress.requests}`,
          updatedAt: sql`now()`,
        },
      });
    return { eventsWritten };
  });
}
