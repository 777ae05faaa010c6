// Replay detection for webhooks: the first delivery of a key claims a row; any later one finds
// it taken. Claims are released again when queueing fails, so Zendesk's retry is not a "replay".
import type pg from 'pg';

/** Accepted deliveries are remembered this long (Zendesk retries failed deliveries for hours, not days). */
export const REMEMBER_HOURS = 24;
const PRUNE_EVERY_MS = 10 * 60_000;

export interface ReplayStore {
  /** True for the first delivery with this key, false for a replay. */
  claim(key: string, ticketId: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

export function replayStore(pool: pg.Pool): ReplayStore {
  let prunedAt = 0;
  return {
    async claim(key, ticketId) {
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await pool.query(`delete from convlog.webhook_deliveries where received_at < now() - make_interval(hours => $1)`, [REMEMBER_HOURS]);
      }
      const { rowCount } = await pool.query(
        `insert into convlog.webhook_deliveries (delivery_key, ticket_id) values ($1, $2) on conflict (delivery_key) do nothing`,
        [key, ticketId],
      );
      return rowCount === 1;
    },
    async release(key) {
      await pool.query(`delete from convlog.webhook_deliveries where delivery_key = $1`, [key]);
    },
  };
}
