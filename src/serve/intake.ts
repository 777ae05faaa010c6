// Accepted webhooks on their way into the queue. A burst brings hundreds a second, most of them
// about the same tickets; handling each alone would cost four round trips to Postgres. Here,
// while one batch is being recorded and queued, the next requests wait and go together: one
// replay look-up, one statement for the comments they carry, one enqueue and one statement
// remembering the deliveries per batch, however large it grew.
//
// A delivery is remembered only once its ticket is queued. Should anything fail in between (or
// the process die), Zendesk's retry is not taken for a replay: it queues again, which costs
// nothing (a ticket never has two jobs) and finds its pending comment already written.
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { addPendingCommentsSkippingRefused, recordRedactions, removePendingComments, type PendingComment } from '../db/pending-comments.ts';
import { ticketIdsNeverQueued } from '../db/missing-context.ts';
import { reportPermanentDeletion } from '../db/purge.ts';
import type { ReplayStore } from '../db/webhook-deliveries.ts';
import type { Logger } from '../log.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../queue/enqueue.ts';
import { IntakeTimeout } from '../errors/convlog-errors.ts';
import { refusedValue } from '../errors/outcome.ts';
import { withinTime } from '../timing.ts';
import type { WebhookComment } from './webhook-comment.ts';

export interface Delivery {
  /** Zendesk's event id, or what stands for it (see webhook-server.ts). */
  key: string;
  ticketId: number;
  full: boolean;
  /**
   * A redaction (or a comment made private): when, as the webhook says (null: it did not say, so
   * now). Set with `full`.
   */
  redactedAt?: string | null;
  /**
   * A change to the ticket's fields only: remembered, and queued only when convlog has never
   * synced the ticket (its row is read apart).
   */
  rowOnly?: boolean;
  /** A permanently_deleted event: the 404 of the sync it queues erases the rows under keep too. */
  permanentlyDeleted?: boolean;
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
/**
 * Zendesk gives up on an answer after about 10 s, and a hung or locked Postgres would otherwise
 * hold the request (and a shutdown) for as long as it lasts: a 503 now makes Zendesk retry.
 */
export const SUBMIT_TIMEOUT_MS = 5_000;

/**
 * How long the batches behind one wait for it. A statement on a connection gone half-open (a
 * failover, a partition) never returns, and every delivery after it would wait behind it, each
 * answered 503, until serve restarted, while new connections (and /healthz) were fine.
 */
const BATCH_GIVE_UP_MS = 60_000;

export interface Intake {
  /**
   * Resolves once the ticket is queued (when it is: see `rowOnly`) and the delivery remembered;
   * rejects when Postgres failed, or did not answer within the timeout (then the delivery is not
   * remembered, or only later).
   */
  submit(delivery: Delivery): Promise<IntakeOutcome>;
}

export interface IntakeOptions {
  log: Logger;
  timeoutMs?: number;
  giveUpMs?: number;
}

export function createIntake(boss: PgBoss, db: Db, deliveries: ReplayStore, options: IntakeOptions): Intake {
  const { log, timeoutMs = SUBMIT_TIMEOUT_MS, giveUpMs = BATCH_GIVE_UP_MS } = options;
  let waiting: Waiting[] = [];
  let draining = false;

  const handle = async (batch: Waiting[]) => {
    // The same key twice in one batch: the first is the delivery, the rest replays.
    const first = new Map<string, Waiting>();
    for (const item of batch) if (!first.has(item.delivery.key)) first.set(item.delivery.key, item);
    const seen = await deliveries.seen([...first.keys()]);
    const fresh = [...first.values()].filter((w) => !seen.has(w.delivery.key));
    // Before the enqueue: the run that job starts then begins after the rows were received, so
    // it clears them (src/db/pending-comments.ts). Should the enqueue fail, the rows stay: they
    // are true (Zendesk has the comments), and the ticket's next sync clears them.
    const refused = await addPendingCommentsSkippingRefused(db, fresh.flatMap((w) => pendingOf(w.delivery)));
    for (const { comment, sqlstate } of refused) {
      log.warn({ ticketId: comment.ticketId, commentId: comment.commentId, sqlstate }, 'pending comment not recorded: Postgres refused a value; the ticket is queued all the same');
    }
    // A redaction (or a comment made private) may be of a pending comment, whose text would
    // otherwise stay shown until the ticket's next sync finishes, which a failing or forbidden
    // ticket never does. After the batch's own comments: one added and redacted in the same
    // moment goes too. The full re-read stores the ticket's events as they are now.
    const redacted = [...new Set(fresh.filter((w) => w.delivery.full).map((w) => w.delivery.ticketId))];
    const dropped = await removePendingComments(db, redacted);
    if (dropped > 0) log.info({ tickets: redacted, pendingComments: dropped }, 'pending comments dropped: their ticket had a comment or attachment redacted (or a comment made private); its full re-read stores what Zendesk keeps');
    // Before the enqueue, so the run it starts (or the one already waiting, or the one a running
    // sync queues as it ends) finds the report when Zendesk answers 404.
    const erased = fresh.filter((w) => w.delivery.permanentlyDeleted).map((w) => w.delivery.ticketId);
    await reportPermanentDeletion(db, erased);
    // A field change of a ticket convlog never synced (created before the webhook, or its
    // `created` delivery lost) is the first word of it: its conversation is read too.
    const unsynced = new Set(await ticketIdsNeverQueued(db, [...new Set(fresh.filter((w) => w.delivery.rowOnly).map((w) => w.delivery.ticketId))]));
    const queues = (d: Delivery) => !d.rowOnly || unsynced.has(d.ticketId);
    // Full re-reads first: with one job per ticket, a plain sync queued first would take the
    // ticket's place and the redaction would never be read.
    for (const full of [true, false]) {
      const ids = fresh.filter((w) => w.delivery.full === full && queues(w.delivery)).map((w) => w.delivery.ticketId);
      // A status row the enqueue makes (a ticket whose row a backfill stored and a dequeue took
      // back before its first sync) carries the report from the transaction that queues its job.
      if (ids.length > 0) await enqueueTickets(boss, db, ids, { full, priority: WEBHOOK_PRIORITY, permanentlyDeleted: erased });
    }
    // And one another process made meanwhile, whose job ours found queued already.
    await reportPermanentDeletion(db, erased, { unreportedOnly: true });
    // After the enqueue, which made the tickets' status rows: a comment_added that arrives later
    // for a comment written before the redaction (Zendesk keeps no order, and retries a refused
    // delivery later) may carry the very text redacted, and is not recorded as pending.
    await recordRedactions(db, fresh.flatMap(({ delivery: d }) => (d.redactedAt === undefined ? [] : [{ ticketId: d.ticketId, at: d.redactedAt }])));
    await deliveries.remember(fresh.map((w) => w.delivery));
    for (const item of batch) item.resolve(first.get(item.delivery.key) === item && !seen.has(item.delivery.key) ? 'queued' : 'replay');
  };

  /**
   * A batch Postgres refused for a value (refusedValue: SQLSTATE class 22 or 23) is recorded again one delivery
   * at a time: only the delivery that holds the value is answered 503, not every one that came
   * beside it (which Zendesk would retry, and which might meet it again). Every step of a batch
   * may run twice (see the top of this file).
   */
  const handleApart = async (batch: Waiting[]) => {
    try {
      await handle(batch);
    } catch (error) {
      const sqlstate = refusedValue(error);
      if (batch.length === 1 || sqlstate === undefined) throw error;
      log.warn({ deliveries: batch.length, ...ticketsOf(batch), sqlstate }, 'webhooks: Postgres refused a value in a batch; recording its deliveries one at a time');
      for (const item of batch) await handle([item]).catch((itemError: unknown) => item.reject(itemError));
    }
  };

  // One batch at a time: a batch looks up its keys after the previous one remembered its own,
  // so copies of one delivery sent at once queue their ticket once.
  const drain = async () => {
    draining = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, MAX_BATCH);
      waiting = waiting.slice(MAX_BATCH);
      const settled = handleApart(batch).then(
        () => true,
        (error: unknown) => {
          batch.forEach((item) => item.reject(error));
          return true;
        },
      );
      // Going on is safe: should the batch finish after all, it queues tickets (a ticket never
      // has two jobs) and records comments (each once) as a later batch may; its deliveries
      // were answered 503, so Zendesk retries them.
      if ((await withinTime(settled, giveUpMs)) === undefined) {
        log.error({ deliveries: batch.length, ...ticketsOf(batch), seconds: giveUpMs / 1000 }, `webhooks: Postgres did not finish a batch in ${giveUpMs / 1000} s; going on without it (Zendesk retries its deliveries)`);
        batch.forEach((item) => item.reject(new IntakeTimeout(`Postgres did not finish the batch within ${giveUpMs / 1000} s`)));
      }
    }
    draining = false;
  };

  return {
    submit(delivery) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new IntakeTimeout(`Postgres did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
        waiting.push({
          delivery,
          resolve(outcome) {
            clearTimeout(timer);
            resolve(outcome);
          },
          reject(error) {
            clearTimeout(timer);
            reject(error);
          },
        });
        if (!draining) void drain();
      });
    },
  };
}

/** How many of a batch's tickets a log line lists; `tickets` counts them all. */
const LOGGED_TICKET_IDS = 20;

/** A batch's tickets as log fields: the first LOGGED_TICKET_IDS ids, ascending, and how many there are. */
function ticketsOf(batch: readonly Waiting[]): { ticketIds: number[]; tickets: number } {
  const ids = [...new Set(batch.map((item) => item.delivery.ticketId))].sort((a, b) => a - b);
  return { ticketIds: ids.slice(0, LOGGED_TICKET_IDS), tickets: ids.length };
}

function pendingOf(delivery: Delivery): PendingComment[] {
  if (!delivery.comment) return [];
  return [{ ...delivery.comment, ticketId: delivery.ticketId, webhookEventId: delivery.eventId ?? null }];
}
