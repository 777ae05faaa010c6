// Identifiers that look like Zendesk's but are derived from (ticket, index), which makes them
// unique across the whole account without keeping any registry.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Keeps ticket ids and indexes in separate digit ranges of the numeric ids below. */
const PER_TICKET = 10_000_000;

/** Seconds-precision ISO timestamp, the API's created_at format ("2024-10-09T03:30:43Z"). */
export function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Millisecond ISO timestamp, the API's received_at format. */
export function isoMillis(unixMillis: number): string {
  return new Date(unixMillis).toISOString();
}

/** 26 Crockford base32 characters: 48-bit time then 80 bits that embed ticket and index. */
export function ulidLike(unixMillis: number, ticketId: number, index: number, noise: number): string {
  let value = (BigInt(unixMillis) << 80n) | (BigInt(ticketId >>> 0) << 48n) | (BigInt(index >>> 0) << 16n);
  value |= BigInt(noise & 0xffff);
  // XOR keeps the 80 bits unique per (ticket, index) while making them look random.
  value ^= 0x5a3c_96e1_f00d_7b24_c3a5n;
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** Number behind zen:ticket_event:<n>; kept in the 13-digit range real ids have. */
export function ticketEventNumber(ticketId: number, index: number): number {
  return 8_600_000_000_000 + ticketId * PER_TICKET + index;
}

/** 24 hex chars like a Mongo ObjectId (what Sunshine Conversations uses): time, ticket, index. */
export function suncoMessageId(unixSeconds: number, ticketId: number, index: number): string {
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return hex(unixSeconds) + hex(ticketId) + hex(index);
}

/** Attachment and thumbnail ids: up to 32 per event, disjoint from every other event's. */
export function attachmentId(ticketId: number, index: number, slot: number): number {
  return 9_000_000_000_000 + (ticketId * PER_TICKET + index) * 32 + slot;
}

/** Hex token of the given length derived from a hash, for URLs and user ids. */
export function hexToken(hash: number, length: number): string {
  let out = '';
  let h = hash >>> 0;
  while (out.length < length) {
    out += h.toString(16).padStart(8, '0');
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return out.slice(0, length);
}
