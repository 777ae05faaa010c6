// Opaque pagination cursors. Every cursor starts with bytes that base64-encode to "++++////" and
// ends in "==", so a client that forgets to URL-encode it breaks at once (a raw "+" arrives as a
// space) instead of only on the unlucky cursor. A checksum rejects hand-edited or foreign ones.
import { hash32 } from './random.ts';

const PREFIX = Buffer.from([0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff]);
const VERSION = 1;
const LOG = 1;
const EXPORT = 2;
const LIST = 3;
const CHECK_KEY = 0x5eed;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type SortOrder = 'asc' | 'desc';

/** A position in one ticket's log: the index of the event a page ended (after) or began (before) at. */
export interface LogCursor {
  ticketId: number;
  index: number;
  direction: 'after' | 'before';
  sort: SortOrder;
  /** With snapshot cursors: how many events the log had when the cursor was given, all it returns. */
  seen?: number;
}

/** A position in the export's (generated_timestamp, id) order plus the changes already seen. */
export interface ExportCursor {
  generatedSec: number;
  ticketId: number;
  seq: number;
}

function seal(type: number, fields: number[]): string {
  // 6 + 2 + 4n + 1 + 4 bytes; the spare byte makes the length 1 mod 3 for n = 3, hence "==".
  const body = Buffer.alloc(2 + fields.length * 4 + 1);
  body[0] = VERSION;
  body[1] = type;
  fields.forEach((value, i) => body.writeInt32BE(value | 0, 2 + i * 4));
  body[body.length - 1] = hash32(...fields) & 0xff;
  const check = Buffer.alloc(4);
  check.writeUInt32BE(hash32(CHECK_KEY, ...body));
  return Buffer.concat([PREFIX, body, check]).toString('base64');
}

function open(cursor: string, type: number, count: number): number[] | null {
  if (!BASE64.test(cursor)) return null;
  const bytes = Buffer.from(cursor, 'base64');
  if (bytes.length !== PREFIX.length + 2 + count * 4 + 1 + 4) return null;
  if (!bytes.subarray(0, PREFIX.length).equals(PREFIX)) return null;
  const body = bytes.subarray(PREFIX.length, bytes.length - 4);
  if (body[0] !== VERSION || body[1] !== type) return null;
  if (bytes.readUInt32BE(bytes.length - 4) !== hash32(CHECK_KEY, ...body)) return null;
  return Array.from({ length: count }, (_, i) => body.readInt32BE(2 + i * 4));
}

export function encodeLogCursor(cursor: LogCursor): string {
  const flags = (cursor.direction === 'before' ? 1 : 0) | (cursor.sort === 'desc' ? 2 : 0) | ((cursor.seen ?? -1) + 1) * 4;
  return seal(LOG, [cursor.ticketId, cursor.index, flags]);
}

export function decodeLogCursor(text: string): LogCursor | null {
  const fields = open(text, LOG, 3);
  if (!fields) return null;
  const [ticketId, index, flags] = fields;
  if (flags < 0) return null;
  const seen = Math.floor(flags / 4) - 1;
  return { ticketId, index, direction: flags & 1 ? 'before' : 'after', sort: flags & 2 ? 'desc' : 'asc', ...(seen >= 0 ? { seen } : {}) };
}

export function encodeExportCursor(cursor: ExportCursor): string {
  return seal(EXPORT, [cursor.generatedSec, cursor.ticketId, cursor.seq]);
}

export function decodeExportCursor(text: string): ExportCursor | null {
  const fields = open(text, EXPORT, 3);
  if (!fields) return null;
  const [generatedSec, ticketId, seq] = fields;
  return { generatedSec, ticketId, seq };
}

/** A position in one of the account lists (groups, brands, organizations): the next index. */
export interface ListCursor {
  list: number;
  index: number;
  direction: 'after' | 'before';
}

export function encodeListCursor(cursor: ListCursor): string {
  return seal(LIST, [cursor.list, cursor.index, cursor.direction === 'before' ? 1 : 0]);
}

export function decodeListCursor(text: string): ListCursor | null {
  const fields = open(text, LIST, 3);
  if (!fields) return null;
  const [list, index, flag] = fields;
  if (flag !== 0 && flag !== 1) return null;
  return { list, index, direction: flag === 1 ? 'before' : 'after' };
}
