// Zendesk records where a comment was written from: the author's IP address and a
// geolocation derived from it. That is personal data analysts rarely need, so a deployment
// can choose not to store it. The user agent (`client`) and everything else stays.
import { isRecord } from './fields.ts';
import type { Json } from './fields.ts';

const REDACTED_SYSTEM_FIELDS = ['ip_address', 'location', 'latitude', 'longitude'] as const;

/**
 * `metadata` without the personal fields of `metadata.system`. Returns a new object when
 * something was removed and the same value otherwise; never mutates its input.
 */
export function redactSystemMetadata(metadata: unknown): unknown {
  if (!isRecord(metadata) || !isRecord(metadata.system)) return metadata;
  const system = metadata.system;
  if (!REDACTED_SYSTEM_FIELDS.some((field) => Object.hasOwn(system, field))) return metadata;
  const kept: Json = Object.fromEntries(
    Object.entries(system).filter(([key]) => !(REDACTED_SYSTEM_FIELDS as readonly string[]).includes(key)),
  );
  return { ...metadata, system: kept };
}
