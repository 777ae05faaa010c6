// Accepted webhooks on their way into the queue. A burst brings hundreds a second, most of them
// about the same tickets; handling each alone would cost four round trips to Postgres. Here,
// while one batch is being recorded and queued, the next requests wait and go together: one
// claim statement, one statement for the comments they carry and one enqueue per batch,
// however large it grew.
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { addPendingComments, type PendingComment } from '../db/pending-comments.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../queue/enqueue.ts';
import type { ReplayStore } from '../db/webhook-deliveries.ts';
import type { WebhookComment } from './webhook-comment.ts';

export interface Delivery {
  /** Zendesk's event id, or what stands for it (see webhook-server.ts). */
  key: string;
  ticketId: number;
  full: boolean;
  /** The comment a comment_added event carried, recorded as pending; with the event's id. */
  comment?: WebhookComment;
  eventId?: string;
}

export type IntakeOutcome = 'queued' | 'replay';

interface Waiting {
  delivery: Delivery;
  resolve(outcome: IntakeOutcome): void;
  reject(error: unknown): void;
}

const MAX_BATCH = 1_000;

export interface Intake {
  /** Resolves once the delivery is recorded and its ticket queued; rejects when Postgres failed (nothing recorded). */
  submit(delivery: Delivery): Promise<IntakeOutcome>;
}

export function createIntake(boss: PgBoss, db: Db, deliveries: ReplayStore): Intake {
  let waiting: Waiting[] = [];
  let draining = false;

  const handle = async (batch: Waiting[]) => {
    // The same key twice in one batch: the first is the delivery, the rest replays.
    const first = new Map<string, Waiting>();
    for (const item of batch) if (!first.has(item.delivery.key)) first.set(item.delivery.key, item);
    const claimed = await deliveries.claim([...first.values()].map((w) => w.delivery));
    const fresh = [...first.values()].filter((w) => claimed.has(w.delivery.key));
    try {
      // Before the enqueue: the run that job starts then begins after the rows were received, so
      // it clears them (src/db/pending-comments.ts). Should the enqueue below fail, the rows stay:
      // they are true (Zendesk has the comments), Zendesk's retry finds them already there, and
      // the ticket's next sync clears them; releasing them would need a second statement that
      // can fail as well.
      await addPendingComments(db, fresh.flatMap((w) => pendingOf(w.delivery)));
      // Full re-reads first: with one job per ticket, a plain sync queued first would take the
      // ticket's place and the redaction would never be read.
      for (const full of [true, false]) {
        const ids = fresh.filter((w) => w.delivery.full === full).map((w) => w.delivery.ticketId);
        if (ids.length > 0) await enqueueTickets(boss, db, ids, { full, priority: WEBHOOK_PRIORITY });
      }
    } catch (error) {
      // Not accepted after all: Zendesk's retry of these deliveries must not be taken for replays.
      await deliveries.release(fresh.map((w) => w.delivery.key)).catch(() => {});
      throw error;
    }
    for (const item of batch) item.resolve(claimed.has(item.delivery.key) && first.get(item.delivery.key) === item ? 'queued' : 'replay');
  };

  const drain = async () => {
    draining = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, MAX_BATCH);
      waiting = waiting.slice(MAX_BATCH);
      await handle(batch).catch((error: unknown) => batch.forEach((item) => item.reject(error)));
    }
    draining = false;
  };

  return {
    submit(delivery) {
      return new Promise((resolve, reject) => {
        waiting.push({ delivery, resolve, reject });
        if (!draining) void drain();
      });
    },
  };
}

function pendingOf(delivery: Delivery): PendingComment[] {
  if (!delivery.comment) return [];
  return [{ ...delivery.comment, ticketId: delivery.ticketId, webhookEventId: delivery.eventId ?? null }];
}
