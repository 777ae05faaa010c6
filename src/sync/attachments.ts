// Attachments and their thumbnails become rows of their own so analysts can find files by
// type, size or deletion without unpacking jsonb. Items without a usable id cannot be keyed
// for an upsert; they are skipped here and remain visible in the event's `raw`.
import type { AttachmentRow, ThumbnailRow } from '../db/schema.ts';
import { bigintNumber, boolean, int4, isRecord, string } from './fields.ts';
import { positiveId } from '../ids.ts';
import type { Json } from './fields.ts';

export interface FileRows {
  attachments: AttachmentRow[];
  thumbnails: ThumbnailRow[];
}

/** The columns attachments and thumbnails share, read from one item of the API. */
type FileColumns = Omit<AttachmentRow, 'eventReference' | 'authorType' | 'updatedAt'>;

/** Which event a file came with: its reference, and its author's type as written on it. */
export interface FileEvent {
  reference: string;
  authorType: string | null;
}

/**
 * Rows for `event.attachments` (anything, as received). Expects strings already sanitised:
 * mapPage passes its sanitised copy of the event.
 */
export function attachmentRows(attachments: unknown, event: FileEvent, ticketId: number): FileRows {
  const rows: FileRows = { attachments: [], thumbnails: [] };
  if (!Array.isArray(attachments)) return rows;
  for (const item of attachments) {
    const file = fileColumns(item, ticketId);
    if (file === null) continue;
    rows.attachments.push({ ...file, eventReference: event.reference, authorType: event.authorType });
    const thumbnails = (item as Json).thumbnails;
    if (!Array.isArray(thumbnails)) continue;
    for (const thumbnail of thumbnails) {
      const thumb = fileColumns(thumbnail, ticketId);
      if (thumb !== null) rows.thumbnails.push({ ...thumb, attachmentId: file.id });
    }
  }
  return rows;
}

function fileColumns(item: unknown, ticketId: number): FileColumns | null {
  if (!isRecord(item)) return null;
  const id = positiveId(item.id);
  if (id === null) return null;
  return {
    id,
    ticketId,
    fileName: string(item.file_name),
    contentType: string(item.content_type),
    contentUrl: string(item.content_url),
    mappedContentUrl: string(item.mapped_content_url),
    url: string(item.url),
    size: bigintNumber(item.size),
    width: int4(item.width),
    height: int4(item.height),
    inline: boolean(item.inline),
    deleted: boolean(item.deleted),
  };
}
