// Replay detection for webhooks. A delivery is remembered only after its ticket was queued (or,
// for a change of a synced ticket's fields alone, with nothing to queue):
// remembering it first would turn Zendesk's retry of a delivery that failed (or whose process
// died) before the enqueue into a "replay", and its ticket would never be queued.
import type pg from 'pg';

/** Accepted deliveries are remembered this long (Zendesk retries failed deliveries for hours, not days). */
const REMEMBER_HOURS = 24;
const PRUNE_EVERY_MS = 10 * 60_000;

export interface ReplayStore {
  /** The keys among `keys` remembered before: those deliveries are replays. */
  seen(keys: readonly string[]): Promise<Set<string>>;
  /** Remembers deliveries whose tickets are queued; a key remembered already stays as it was. */
  remember(deliveries: readonly { key: string; ticketId: number }[]): Promise<void>;
}

export function replayStore(pool: pg.Pool): ReplayStore {
  let prunedAt = 0;
  return {
    async seen(keys) {
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await pool.query(`delete from convlog.webhook_deliveries where received_at < now() - make_interval(hours => $1)`, [REMEMBER_HOURS]);
      }
      if (keys.length === 0) return new Set();
      const { rows } = await pool.query<{ key: string }>(
        `select delivery_key as key from convlog.webhook_deliveries where delivery_key = any($1::text[])`,
        [keys],
      );
      return new Set(rows.map((r) => r.key));
    },
    async remember(deliveries) {
      if (deliveries.length === 0) return;
      // A retry that queued again after a failure here, or another serve process that took the
      // same delivery at the same moment, finds the key there: both queued the same ticket, once.
      // In key order: a key waits for another batch's uncommitted row of it (a batch given up on
      // and its retries), so two batches holding the same keys in other orders would deadlock.
      await pool.query(
        `insert into convlog.webhook_deliveries (delivery_key, ticket_id)
         select * from unnest($1::text[], $2::bigint[]) as d(key, ticket_id) order by key
         on conflict (delivery_key) do nothing`,
        [deliveries.map((d) => d.key), deliveries.map((d) => d.ticketId)],
      );
    },
  };
}
