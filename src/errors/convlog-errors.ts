// Every error convlog raises on purpose is one of these classes, or one of Zendesk's
// (zendesk-errors.ts). What a failure does to a ticket and its job, and which exit code a command
// ends with, is decided by its class in outcome.ts and nowhere else.
import { causeWithCode } from './messages.ts';
export class ConvlogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A person can fix it: bad flags, ids, dates, environment. Exit 2. `showUsage: false` when the
 * message is about a value given (a query) and the command's usage line would be noise.
 */
export class UsageError extends ConvlogError {
  readonly showUsage: boolean;
  constructor(message: string, options?: { cause?: unknown; showUsage?: boolean }) {
    super(message, options);
    this.showUsage = options?.showUsage ?? true;
  }
}

/** The environment or `.env` is missing or has bad values. Exit 2. */
export class ConfigError extends ConvlogError {}

/** Postgres cannot be reached or refuses us. Exit 2 at start-up, retried by workers. */
export class DatabaseUnavailable extends ConvlogError {}

/**
 * Postgres answers but stores nothing more: its disk is full, or it has become read-only (a
 * standby after a failover). Every ticket would fail the same way until a person mends it, so a
 * worker holds its tickets, their retries unspent, and stops. Exit 2.
 */
export class DatabaseCannotStore extends ConvlogError {}

/**
 * DatabaseCannotStore for Postgres's disk_full (53100: "could not extend file", a temporary file
 * that cannot grow) or read_only_sql_transaction (25006), its message ending in what is `left`
 * of the work; else undefined.
 */
export function asDatabaseCannotStore(error: unknown, left = 'the tickets stay queued, their retries unspent'): DatabaseCannotStore | undefined {
  const refused = causeWithCode(error, (code) => code === '53100' || code === '25006');
  if (!refused) return undefined;
  const why =
    refused.code === '53100'
      ? `Postgres has no disk space left (${refused.message}): nothing more can be stored until room is made on the database server`
      : `the database takes no writes any more (${refused.message}): a standby after a failover, or default_transaction_read_only set; convlog syncs into the primary`;
  return new DatabaseCannotStore(`${why}; ${left}`, { cause: error });
}

/**
 * Run as root, the embedded Postgres runs as user "postgres", which cannot enter `folder`: one
 * line naming the chmod that lets it in, then `remedies`, the other ways out. A command for which
 * one is none (DATABASE_URL, to the demo, which never uses it) leaves it out with `without`.
 */
export class FolderClosedToPostgres extends DatabaseUnavailable {
  readonly folder: string;
  readonly where: string;
  readonly remedies: readonly string[];

  constructor(folder: string, where: string, remedies: readonly string[]) {
    const ways = [`run "chmod o+x ${folder}"`, ...remedies];
    const last = ways.pop()!;
    const said = ways.length > 0 ? `${ways.join(', ')}, or ${last}` : last;
    super(`the embedded Postgres runs as user "postgres", which cannot enter ${folder} (${where}): ${said}`);
    this.folder = folder;
    this.where = where;
    this.remedies = remedies;
  }

  /** The same refusal without `remedy`. */
  without(remedy: string): FolderClosedToPostgres {
    return new FolderClosedToPostgres(this.folder, this.where, this.remedies.filter((r) => r !== remedy));
  }
}

/** The way out of a folder closed to the embedded Postgres that every command but the demo has. */
export const SET_DATABASE_URL = 'set DATABASE_URL';

/**
 * The embedded Postgres this command uses has ended under it (its postmaster gone: killed, or
 * stopped by a convlog older than the hand-off of src/db/cluster-handoff.ts). Never retried:
 * nothing in this command would start it again, so the command ends at once, exit 2.
 */
export class EmbeddedServerGone extends DatabaseUnavailable {}

/**
 * A migration's statement failed (an object created by hand under the same name, say). The
 * pending migrations run in one transaction, so none of them was applied. Exit 2.
 */
export class MigrationFailed extends ConvlogError {}

/** The run stopped between two pages because the process is shutting down; nothing is lost. */
export class Interrupted extends ConvlogError {}

/**
 * Another run of the ticket started since this one did: its job was taken over by another worker
 * while this one was cut off or frozen past its heartbeat. This run stores no more pages, does
 * not end, and records no 404 or 403 it meets (src/db/store-page.ts, src/sync/sync-ticket.ts).
 */
export class RunTakenOver extends ConvlogError {}

/**
 * The ticket's deletion was recorded (an export page listing it) after this run began and before
 * it ended: what it read may all be from before the deletion, and its last pages were stored after
 * the deletion's rows were removed. It ends as the ticket's 404 would end it (`how`: the deletion's
 * own account of itself), not synced (src/db/ticket-status.ts, src/sync/sync-ticket.ts).
 */
export class DeletedDuringRun extends ConvlogError {
  /** The tombstone's deleted_how (src/db/schema/ticket-sync.ts). */
  readonly how: string;
  constructor(message: string, how: string) {
    super(message);
    this.how = how;
  }
}

/** Another backfill (a command or a scheduled job in some worker) holds the lock. */
export class BackfillBusy extends ConvlogError {}

/** Another `rebuild-analytics` holds its lock: this one would only repeat its work. */
export class RebuildBusy extends ConvlogError {}

/**
 * A backfill failed after some pages were done: their tickets are queued and their position saved.
 * Its message adds that to its cause's; its cause's class decides the outcome and the exit code.
 */
export class BackfillFailed extends ConvlogError {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * A person's statement (`convlog query`, `enqueue --sql`) is their mistake: its message is a
 * predicate ("must only read, …") for the caller to put after its own subject ("the query",
 * "--sql"). Raised by src/db/statement-kind.ts and src/db/run-read-only.ts.
 */
export class QueryRejected extends UsageError {}

/** Refused because it would write (its first word, or Postgres in the read-only transaction). */
export class QueryWrites extends QueryRejected {}

/**
 * serve's intake: the database did not finish a delivery's batch in time; the batch may still
 * finish later (src/serve/intake.ts).
 */
export class IntakeTimeout extends ConvlogError {}

/**
 * A 429 observed on a rate budget whose wait is unknown: the caller must say how long
 * (Retry-After, or its own default). A caller's mistake, not a failure met while running, hence a
 * RangeError (src/db/rate-budget.ts).
 */
export class MissingRetryAfter extends RangeError {
  constructor(name: string) {
    super(`a 429 observed on rate budget ${name} needs retryAfterMs`);
    this.name = 'MissingRetryAfter';
  }
}
