// Zendesk signs each webhook: base64(HMAC-SHA256(signing secret, timestamp header + raw body)).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';

export function signWebhook(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
}

/**
 * True when `signature` was made with one of `secrets`. Every secret is tried (no early return)
 * and each comparison is constant-time, so the answer's timing tells nothing about the secrets.
 * Only the length is compared first, and an HMAC-SHA256's length (32 bytes) is no secret.
 *
 * Only the canonical base64 of the HMAC is accepted: Node's decoder ignores a missing `=`, reads
 * `-_` as `+/` and skips stray characters, so one valid signature has countless spellings, and a
 * replay spelled anew must not pass for another signed request (see webhook-server.ts).
 */
export function verifyWebhookSignature(secrets: readonly string[], timestamp: string, body: Buffer, signature: string): boolean {
  const given = Buffer.from(signature, 'base64');
  if (given.toString('base64') !== signature) return false;
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(timestamp).update(body).digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/**
 * How far (in seconds) Zendesk's timestamp is from `now`; undefined when it is not a date.
 * Zendesk sends ISO 8601 (`2026-11-30T12:00:00Z`); epoch seconds are accepted too.
 */
export function timestampSkewSeconds(timestamp: string, now = Date.now()): number | undefined {
  const ms = /^\d{9,11}$/.test(timestamp) ? Number(timestamp) * 1000 : Date.parse(timestamp);
  if (!Number.isFinite(ms)) return undefined;
  return Math.abs(now - ms) / 1000;
}
