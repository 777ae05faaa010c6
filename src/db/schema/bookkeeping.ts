// convlog's own state, in the `convlog` schema: shared rate budgets, saved positions, webhook
// deliveries already accepted.
import { bigint, index, integer, jsonb, text } from 'drizzle-orm/pg-core';
import { id, internal, tstz } from './columns.ts';

/**
 * One row per rate budget shared by every convlog process ('conversation_log', 'export').
 * A permit is taken with one atomic UPDATE; Zendesk's headers correct the row.
 */
export const rateBudgets = internal.table('rate_budgets', {
  name: text('name').primaryKey(),
  limitPerWindow: integer('limit_per_window').notNull(),
  windowMs: integer('window_ms').notNull().default(60_000),
  windowStartedAt: tstz('window_started_at').notNull().defaultNow(),
  /** Permits taken in the current window, by every process. */
  spent: integer('spent').notNull().default(0),
  /** What Zendesk last said was left in its window, and when that window resets. */
  serverRemaining: integer('server_remaining'),
  serverResetsAt: tstz('server_resets_at'),
  /** After a 429, nobody sends before this. */
  pausedUntil: tstz('paused_until'),
  totalTaken: bigint('total_taken', { mode: 'number' }).notNull().default(0),
  totalRateLimited: bigint('total_rate_limited', { mode: 'number' }).notNull().default(0),
  totalWaitMs: bigint('total_wait_ms', { mode: 'number' }).notNull().default(0),
  /** Room for what a budget strategy needs to remember beyond the columns above. */
  state: jsonb('state').notNull().default({}),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** Small named values that must survive restarts, such as the incremental export's cursor. */
export const syncState = internal.table('sync_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * Webhooks `convlog serve` accepted, by delivery key (Zendesk's event id, or a hash of the
 * signature for trigger bodies, which carry none): a replay is answered 200 and queues nothing.
 * Rows older than a day are pruned; a replay that old fails the timestamp check anyway.
 */
export const webhookDeliveries = internal.table(
  'webhook_deliveries',
  {
    deliveryKey: text('delivery_key').primaryKey(),
    ticketId: id('ticket_id').notNull(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_deliveries_received_idx').on(t.receivedAt)],
);
