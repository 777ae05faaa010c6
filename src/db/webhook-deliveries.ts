// Replay detection for webhooks: the first delivery of a key claims a row; any later one finds
// it taken. Claims are released again when queueing fails, so Zendesk's retry is not a "replay".
import type pg from 'pg';

/** Accepted deliveries are remembered this long (Zendesk retries failed deliveries for hours, not days). */
export const REMEMBER_HOURS = 24;
const PRUNE_EVERY_MS = 10 * 60_000;

export interface ReplayStore {
  /** The keys claimed now (first deliveries); the others were claimed before (replays). */
  claim(deliveries: readonly { key: string; ticketId: number }[]): Promise<Set<string>>;
  release(keys: readonly string[]): Promise<void>;
}

export function replayStore(pool: pg.Pool): ReplayStore {
  let prunedAt = 0;
  return {
    async claim(deliveries) {
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await pool.query(`delete from convlog.webhook_deliveries where received_at < now() - make_interval(hours => $1)`, [REMEMBER_HOURS]);
      }
      const { rows } = await pool.query<{ key: string }>(
        `insert into convlog.webhook_deliveries (delivery_key, ticket_id)
         select * from unnest($1::text[], $2::bigint[])
         on conflict (delivery_key) do nothing
         returning delivery_key as key`,
        [deliveries.map((d) => d.key), deliveries.map((d) => d.ticketId)],
      );
      return new Set(rows.map((r) => r.key));
    },
    async release(keys) {
      await pool.query(`delete from convlog.webhook_deliveries where delivery_key = any($1::text[])`, [keys]);
    },
  };
}
